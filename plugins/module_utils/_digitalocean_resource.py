# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The base class of the DigitalOcean modules that manage one resource: find it, remember it
for the diff, change it (or, in check mode, its local copy), wait, read it again, and shape
the result.
"""

from __future__ import annotations

from urllib.parse import quote

from ansible_collections.sigma.deploy.plugins.module_utils._digitalocean import (
    COLLECTIONS,
    client_from_module,
)
from ansible_collections.sigma.deploy.plugins.module_utils._waiter import Deadline


class DigitalOceanResource:
    """Base of a module that manages one DigitalOcean resource.

    Subclasses set ``collection`` and ``represent`` (the result key), and define ``shape``
    (the flat result) and ``managed`` (the keys shown in the diff). In check mode a change is
    applied to the local copy of the resource, so the result and the diff show what would be.
    """

    collection = ""
    represent = ""
    managed = ()

    def __init__(self, module, client=None):
        self.module = module
        self.params = module.params
        self.client = client if client is not None else client_from_module(module)
        self.changed = False
        self.resource = None
        self.before = {}
        self.deadline = Deadline(self.params.get("wait_timeout") or 0, clock=self.client.clock)

    @property
    def check_mode(self):
        return self.module.check_mode

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
        base = COLLECTIONS[self.collection][0]
        return f"{base}/{quote(str(self.resource['id']), safe='')}{suffix}"

    def reread(self):
        """After real changes, read the resource again (in check mode keep the prediction)."""
        resource = self.resource
        if resource is not None and resource.get("id") is not None and not self.check_mode:
            self.resource = self.client.get_by_id(self.collection, self.resource["id"])

    def remember_before(self):
        self.before = self.diff_view(self.resource)

    def diff_view(self, resource):
        if resource is None:
            return {}
        shaped = self.shape(resource)
        return {key: shaped.get(key) for key in self.managed}

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
        key = COLLECTIONS[self.collection][1]
        _done, self.resource, _took = self.client.poll(
            lambda: self.client.get(self.path())[key],
            ready,
            self.deadline,
            what,
        )

    def result(self):
        shaped = self.shape(self.resource) if self.resource is not None else {}
        return {
            "changed": self.changed,
            self.represent: shaped,
            "diff": {"before": self.before, "after": self.diff_view(self.resource)},
        }
