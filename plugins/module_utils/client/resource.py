# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The base class of every module that manages one resource, whatever the provider, and the
one flow their ``main()`` runs: find the resource, remember it for the diff, bring it to
``state`` (in check mode, only its local copy), and return the result.

Errors: the client, the lookups, the waits and the module's own checks raise
:class:`ApiError` (a check that refuses the options raises :meth:`ApiError.refusal`), and
:func:`finish` alone turns it into ``fail_json``: the message, and, when an API answered, the
vendor's code and message in ``failure``. Nothing else in the flow calls ``fail_json``; only a
missing ``requests`` library fails earlier, with Ansible's standard message
(``require_requests`` in ``client/api.py``).

What a provider changes is its client (``client_class``): where resources live, how names
are looked up, how actions end and how its errors look.
"""

from __future__ import annotations

from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError
from ansible_collections.sigma.deploy.plugins.module_utils.client.waiter import Deadline


class Resource:
    """Base of a module that manages one resource.

    Subclasses set ``client_class`` (an :class:`ApiClient`), ``collection`` and ``represent``
    (the result key), define ``shape`` (the flat result), ``managed`` (the keys shown in the
    diff), ``present`` and ``absent``, and override :meth:`ensure` when they know more states.
    In check mode a change is applied to the local copy of the resource, so the result and the
    diff show what would be.
    """

    client_class = None
    collection = ""
    represent = ""
    managed = ()

    def __init__(self, module, client=None):
        self.module = module
        self.params = module.params
        self.client = client if client is not None else self.client_class.from_module(module)
        self.changed = False
        self.resource = None
        self.before = {}
        self.deadline = Deadline(self.params.get("wait_timeout") or 0, clock=self.client.clock)

    # --- the flow -------------------------------------------------------------------------------
    def run(self):
        """Find the resource, bring it to ``state`` and return the module's result."""
        self.find()
        self.remember_before()
        self.ensure(self.params["state"])
        return self.result()

    def ensure(self, state):
        """Bring the resource to ``state`` (``present`` or ``absent``)."""
        if state == "absent":
            self.absent()
        else:
            self.present()

    def present(self):
        raise NotImplementedError

    def absent(self):
        raise NotImplementedError

    # --- reading --------------------------------------------------------------------------------
    @property
    def check_mode(self):
        return self.module.check_mode

    @property
    def kind(self):
        """The resource in words: ``load balancer``."""
        return self.collection[:-1].replace("_", " ")

    def mark_changed(self):
        self.changed = True

    def shape(self, resource):
        raise NotImplementedError

    def find(self):
        """Read the resource named by ``id`` or (a unique) ``name`` into ``self.resource``."""
        self.resource = self.client.find(
            self.collection, self.params.get("id"), self.params.get("name")
        )
        return self.resource

    def path(self, suffix=""):
        """The API path of the resource, or of ``suffix`` below it (``/actions``)."""
        return self.client.item_path(self.collection, self.resource["id"]) + suffix

    def check_create(self, *options):
        """Refuse clearly (:meth:`ApiError.refusal`) when the resource cannot be created from
        the options given."""
        if self.params.get("id") is not None:
            raise ApiError.refusal(
                f"{self.kind} with id {self.params['id']} not found (give a name to create one)"
            )
        missing = [option for option in options if not self.params.get(option)]
        if missing:
            raise ApiError.refusal(f"{' and '.join(missing)} required to create a {self.kind}")

    def reread(self):
        """After real changes, read the resource again (in check mode keep the prediction)."""
        resource = self.resource
        if resource is not None and resource.get("id") is not None and not self.check_mode:
            self.resource = self.client.get_by_id(self.collection, resource["id"])

    # --- waiting --------------------------------------------------------------------------------
    def wait(self, actions, always=False):
        """Wait for actions when ``wait`` is set (or ``always``, when a next step needs them)."""
        if self.check_mode or not (always or self.params.get("wait", True)):
            return
        self.client.wait_actions([a for a in actions if a], self.deadline)

    def wait_for(self, ready, what, always=False):
        """Poll the resource until ``ready(resource)`` (resources that have a status, not
        actions: firewalls, load balancers)."""
        if self.check_mode or self.resource is None or self.resource.get("id") is None:
            return
        if not (always or self.params.get("wait", True)) or ready(self.resource):
            return
        ident = self.resource["id"]
        _done, self.resource, _took = self.client.poll(
            lambda: self.client.read(self.collection, ident), ready, self.deadline, what
        )

    # --- the result -----------------------------------------------------------------------------
    def remember_before(self):
        self.before = self.diff_view(self.resource)

    def diff_view(self, resource):
        if resource is None:
            return {}
        shaped = self.shape(resource)
        return {key: shaped.get(key) for key in self.managed}

    def result(self):
        shaped = self.shape(self.resource) if self.resource is not None else {}
        return {
            "changed": self.changed,
            self.represent: shaped,
            "diff": {"before": self.before, "after": self.diff_view(self.resource)},
        }


def finish(module, work):
    """``module.exit_json(**work())``; an :class:`ApiError` fails the task instead, with its
    message and, unless it is a refusal, the vendor's code and message in ``failure``. The one
    place where a resource module's errors become ``fail_json``."""
    try:
        result = work()
    except ApiError as err:
        failure = err.failure()
        module.fail_json(msg=str(err), **({} if failure is None else {"failure": failure}))
    module.exit_json(**result)


def run_resource(module, resource_cls):
    """What ``main()`` of a module that manages one resource does once its module is built."""
    finish(module, lambda: resource_cls(module).run())


def run_info(module, client_class, represent, read):
    """What ``main()`` of an ``_info`` module does once its module is built: ``read(client,
    params)`` returns the shaped resources, the result holds them under ``represent``."""
    finish(
        module,
        lambda: {
            "changed": False,
            represent: read(client_class.from_module(module), module.params),
        },
    )


def reader(collection, shape, *filters):
    """The ``read`` of an ``_info`` module that selects by ``id``, by ``name`` or by the options
    named in ``filters`` (``label_selector``), and shapes each resource found."""

    def read(client, params):
        chosen = {option: params[option] for option in filters}
        found = client.select(collection, params["id"], params["name"], **chosen)
        return [shape(item) for item in found]

    return read
