# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A provider's API as collections of resources: lookups by id or name, the ``_info``
selection, references resolved to ids, and waits for actions, on top of :class:`ApiClient`.

What a provider adds (``hetzner/client.py``, ``digitalocean/client.py``): where its
collections live, how names are looked up (unique or not), how its actions end, and its error
type.
"""

from __future__ import annotations

from urllib.parse import quote

from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiClient, ApiError
from ansible_collections.sigma.deploy.plugins.module_utils.client.waiter import wait_until


class ResourceClient(ApiClient):
    """An :class:`ApiClient` that knows collections (``servers``) and actions."""

    poll_interval = 1.0
    poll_max_interval = 5.0

    # --- hooks for a provider ---------------------------------------------------------------
    def error(self, status, code, message, field=None):
        """An :class:`ApiError` of this provider that no answer carried (lookups, waits)."""
        return ApiError(self.vendor, status, code, message, field)

    def collection_path(self, collection):
        """Where a collection lives: ``/servers``."""
        return f"/{collection}"

    def item_key(self, collection):
        """The key of one resource in answers: ``ssh_keys`` -> ``ssh_key``."""
        return collection[:-1]

    def item_path(self, collection, ident):
        """Where one resource lives: ``/servers/42``."""
        return f"{self.collection_path(collection)}/{quote(str(ident), safe='')}"

    def looks_like_id(self, collection, text):
        """Whether a reference given as text can be an id of the collection."""
        return text.isdigit()

    def named(self, collection, name):
        """Every resource called ``name``."""
        return [item for item in self.list(collection, name=name) if item.get("name") == name]

    def by_name(self, collection, name, field="name"):
        """The resource called ``name`` (``field`` is the option that named it), or None."""
        found = self.named(collection, name)
        return found[0] if found else None

    def action_done(self, action):
        """Readiness of an action: it has finished, well or not."""
        raise NotImplementedError

    def action_failure(self, action):
        """The :class:`ApiError` of a finished action that failed, or None."""
        raise NotImplementedError

    def action_label(self, action):
        """How an error message names an action."""
        raise NotImplementedError

    def timeout_error(self, what, deadline):
        """The :class:`ApiError` when ``what`` is not done by the deadline (``wait_timeout``)."""
        return self.error(
            None,
            "timeout",
            f"{what} still not done after {deadline.seconds:g}s (wait_timeout)",
            "wait_timeout",
        )

    # --- resources ----------------------------------------------------------------------------
    def list(self, collection, **params):
        """Every resource of a collection, all pages read (``name=``, ``label_selector=``...)."""
        query = {k: v for k, v in params.items() if v is not None}
        return self.paginate(self.collection_path(collection), collection, query)

    def read(self, collection, ident):
        """The resource with this id; an :class:`ApiError` (404) when there is none."""
        return self.get(self.item_path(collection, ident))[self.item_key(collection)]

    def get_by_id(self, collection, ident):
        """The resource with this id, or None."""
        try:
            return self.read(collection, ident)
        except ApiError as err:
            if err.status == 404:
                return None
            raise

    def find(self, collection, ident=None, name=None):
        """The resource a module names by ``id`` or ``name``, or None."""
        if ident is not None:
            return self.get_by_id(collection, ident)
        if name is not None:
            return self.by_name(collection, name)
        return None

    def select(self, collection, ident=None, name=None, **filters):
        """The resources an ``_info`` module asks for: one by id, every one with a name, or all
        (every page) that match ``filters``."""
        if ident is not None:
            found = self.get_by_id(collection, ident)
            return [found] if found is not None else []
        if name is not None:
            return self.named(collection, name)
        return self.list(collection, **filters)

    def resolve(self, collection, ref, field):
        """The id of a resource given by id or name; a 404 naming ``field`` when there is none."""
        text = str(ref).strip()
        found = self.get_by_id(collection, text) if self.looks_like_id(collection, text) else None
        if found is None:
            found = self.by_name(collection, text, field)
        if found is None:
            kind = self.item_key(collection).replace("_", " ")
            raise self.error(404, "not_found", f"{kind} '{text}' not found", field)
        return found["id"]

    # --- waiting ------------------------------------------------------------------------------
    def wait_actions(self, actions, deadline):
        """Wait until each action has finished; one that failed raises its error. Returns the
        seconds spent waiting."""
        spent = 0.0
        for action in actions:
            if not action:
                continue
            final = action
            if not self.action_done(action):
                _done, final, took = self.poll(
                    lambda ident=action["id"]: self.get(f"/actions/{ident}")["action"],
                    self.action_done,
                    deadline,
                    self.action_label(action),
                )
                spent += took
            failure = self.action_failure(final)
            if failure is not None:
                raise failure
        return spent

    def poll(self, fetch, ready, deadline, what):
        """``wait_until`` against the task's deadline; a clear timeout error when it passes."""
        done, final, took = wait_until(
            fetch,
            ready,
            deadline.remaining(),
            interval=self.poll_interval,
            max_interval=self.poll_max_interval,
            clock=self.clock,
            sleep=self.sleep,
        )
        if not done:
            raise self.timeout_error(what, deadline)
        return done, final, took
