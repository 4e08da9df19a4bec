# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The base of the Fly modules on the shared resource flow (``client/resource.py``): every
Fly resource lives in an app, so a lookup first needs the app, and an app Fly does not know
is an error naming O(app) before anything is made. Also the lease every change to a machine
holds, released whatever happens."""

from __future__ import annotations

import contextlib

from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError
from ansible_collections.sigma.deploy.plugins.module_utils.client.resource import (
    Resource,
    finish,
)
from ansible_collections.sigma.deploy.plugins.module_utils.fly.client import VENDOR, FlyClient

# A field the client names after a request, as the option of the module that gave it.
OPTION_OF_FIELD = {"machine_id": "id", "volume_id": "id"}


def unknown_app(app):
    return ApiError(VENDOR, 404, "not_found", f"app '{app}' not found", "app")


def or_none(read, ident, field):
    """``read(ident)``, or None when Fly answers 404 about ``field`` (``machine_id``,
    ``volume_id``): the thing is not there, while its app is."""
    try:
        return read(ident)
    except ApiError as err:
        if err.status == 404 and err.field == field:
            return None
        raise


def as_option(err):
    """``err`` with its field renamed to the module option that gave it."""
    err.field = OPTION_OF_FIELD.get(err.field, err.field)
    return err


@contextlib.contextmanager
def lease(client, app, mid, ttl_s, description, warn=None):
    """Hold a lease on a machine for the block (yields its nonce); release it however the
    block ends. A release that fails after the block succeeded is a warning (the lease runs
    out after ``ttl_s`` seconds anyway), never the task's failure."""
    nonce = client.acquire_lease(app, mid, ttl_s=ttl_s, description=description)
    try:
        yield nonce
    finally:
        try:
            client.release_lease(app, mid, nonce)
        except ApiError as err:
            if err.status != 404 and warn is not None:  # 404: the machine is gone, and its lease
                warn(f"could not release the lease on machine {mid} ({err}); it ends in {ttl_s}s")


class FlyResource(Resource):
    """A resource of one app. Subclasses define :meth:`lookup` (the resource, or None) and
    :meth:`read` (the resource by id, after a change)."""

    client_class = FlyClient

    @property
    def app(self):
        return self.params["app"]

    def run(self):
        try:
            return super().run()
        except ApiError as err:
            raise as_option(err) from None

    def find(self):
        try:
            self.resource = self.lookup()
        except ApiError as err:
            if err.status == 404 and err.field in ("app", None):
                raise unknown_app(self.app) from None
            raise
        return self.resource

    def lookup(self):
        raise NotImplementedError

    def read(self, ident):
        raise NotImplementedError

    def reread(self):
        resource = self.resource
        if resource is not None and resource.get("id") is not None and not self.check_mode:
            self.resource = self.read(resource["id"])

    def remove(self, delete):
        """Delete the resource with ``delete(resource)`` (not in check mode), if there is one."""
        if self.resource is None:
            return
        self.mark_changed()
        if not self.check_mode:
            delete(self.resource)
        self.resource = None

    def unique(self, found, what, field="name"):
        """The one item of ``found``, None for none; an error naming the ids when there are
        several (Fly lets names repeat)."""
        if len(found) > 1:
            ids = ", ".join(str(item.get("id")) for item in found)
            raise ApiError.refusal(
                f"{len(found)} {self.kind}s of app '{self.app}' are {what} (ids {ids}); give "
                f"the id, or remove the extra ones (option '{field}' must name one)"
            )
        return found[0] if found else None


def run_fly_info(module, represent, read):
    """What ``main()`` of a Fly ``_info`` module does: ``read(client, params)`` returns the
    shaped resources; an app Fly does not know is an error naming O(app)."""

    def work():
        client = FlyClient.from_module(module)
        try:
            found = read(client, module.params)
        except ApiError as err:
            app = module.params.get("app")
            if app and err.status == 404 and err.field in ("app", None):
                raise unknown_app(app) from None
            raise as_option(err) from None
        return {"changed": False, represent: found}

    finish(module, work)
