# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What ``fly_machine`` needs besides its create/update/power steps: its options, finding a
machine by id or name, the lease around changes, and waiting for a state."""

from __future__ import annotations

import contextlib

from ansible_collections.sigma.deploy.plugins.module_utils.fly.resource import (
    FlyResource,
    lease,
    or_none,
)
from ansible_collections.sigma.deploy.plugins.module_utils.fly.shapes import (
    GONE_MACHINE_STATES,
    MACHINE_MANAGED,
    machine_result,
)

LEASE_DESCRIPTION = "sigma.deploy fly_machine"


def machine_options():
    """The options of ``fly_machine`` besides the auth ones."""
    return dict(
        app=dict(type="str", required=True),
        id=dict(type="str"),
        name=dict(type="str"),
        region=dict(type="str"),
        config=dict(type="dict"),
        metadata=dict(type="dict"),
        skip_service_registration=dict(type="bool", default=False),
        state=dict(
            type="str", choices=["present", "started", "stopped", "absent"], default="present"
        ),
        force=dict(type="bool", default=False),
        lease_ttl=dict(type="int", default=60),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=120),
    )


def live_named(machines, name):
    """The machines called ``name`` that are not destroyed or being destroyed."""
    return [
        m for m in machines if m.get("name") == name and m.get("state") not in GONE_MACHINE_STATES
    ]


class MachineResource(FlyResource):
    collection = "machines"
    represent = "fly_machine"
    managed = MACHINE_MANAGED

    def shape(self, resource):
        return machine_result(resource, self.app)

    def read(self, ident):
        return self.client.get_machine(self.app, ident)

    def lookup(self):
        if self.params["id"]:
            found = or_none(self.read, self.params["id"], "machine_id")
            return None if (found or {}).get("state") in GONE_MACHINE_STATES else found
        machines = self.client.list_machines(self.app)
        return self.unique(
            live_named(machines, self.params["name"]), "named " + self.params["name"]
        )

    def metadata(self):
        """The O(metadata) option with string values."""
        return {str(k): str(v) for k, v in (self.params["metadata"] or {}).items()}

    @contextlib.contextmanager
    def leased(self):
        """A lease on the machine for the block (nothing in check mode): yields its nonce."""
        if self.check_mode:
            yield None
            return
        with lease(
            self.client,
            self.app,
            self.resource["id"],
            self.params["lease_ttl"],
            LEASE_DESCRIPTION,
            self.module.warn,
        ) as nonce:
            yield nonce

    def wait_state(self, state, instance=True):
        """Wait (when O(wait)) until the machine is in ``state``; ``instance`` waits for the
        version this task made (its ``instance_id``)."""
        if self.check_mode or not self.params["wait"]:
            return
        instance_id = self.resource.get("instance_id") if instance else None
        self.client.wait_machine(
            self.app, self.resource["id"], state, instance_id, self.deadline.remaining()
        )

    def warn_region(self):
        region, wanted = self.resource.get("region"), self.params["region"]
        if wanted and region and wanted != region:
            self.module.warn(
                f"machine '{self.resource.get('name')}' is in {region}; a machine cannot move "
                f"to {wanted} (destroy it and create it there)"
            )
