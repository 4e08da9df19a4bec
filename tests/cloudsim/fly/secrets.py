"""App secrets, as fly-go's ``flaps_flaps_secrets.go`` uses them: listed without values (a
``digest`` instead), set one by one or many at once, deleted; each change bumps the app's
secrets ``version``. A machine sees the values of the moment it was launched: a change reaches
it only when it is updated or restarted (``machines.run_spec``).
"""

from __future__ import annotations

import hashlib
import re
from functools import partial

from ..core import JSON, ApiError, Request, Response, Router, now_iso
from .apps import App


def _secret_json(name: str, secret: JSON) -> JSON:
    return {
        "name": name,
        "digest": secret["digest"],
        "created_at": secret["created_at"],
        "updated_at": secret["updated_at"],
    }


def _set(app: App, name: str, value: object) -> JSON:
    if not isinstance(value, str):
        raise ApiError(400, "invalid_input", f"invalid value for secret {name}: a string")
    if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
        raise ApiError(400, "invalid_input", f"invalid secret name {name!r}: an env var name")
    now = now_iso()
    old = app.secrets.get(name)
    app.secrets[name] = {
        "value": value,
        "digest": hashlib.sha256(value.encode()).hexdigest()[:16],
        "created_at": old["created_at"] if old else now,
        "updated_at": now,
    }
    return app.secrets[name]


def listing(vendor, req: Request) -> Response:
    app = vendor.app(req.params["app"])
    names = sorted(app.secrets)
    return Response(200, {"secrets": [_secret_json(n, app.secrets[n]) for n in names]})


def show(vendor, req: Request) -> Response:
    app = vendor.app(req.params["app"])
    secret = app.secrets.get(req.params["name"])
    if secret is None:
        raise ApiError(404, "not_found", f"secret {req.params['name']} not found")
    return Response(200, _secret_json(req.params["name"], secret))


def set_one(vendor, req: Request) -> Response:
    app = vendor.app(req.params["app"])
    secret = _set(app, req.params["name"], req.json().get("value"))
    app.secrets_version += 1
    body = {**_secret_json(req.params["name"], secret), "version": app.secrets_version}
    return Response(201, body)


def update_many(vendor, req: Request) -> Response:
    app = vendor.app(req.params["app"])
    values = req.json().get("values")
    if not isinstance(values, dict):
        raise ApiError(400, "invalid_input", "invalid values: an object of name: value")
    for name, value in values.items():
        if value is None:
            app.secrets.pop(name, None)
        else:
            _set(app, name, value)
    app.secrets_version += 1
    names = sorted(app.secrets)
    secrets = [_secret_json(n, app.secrets[n]) for n in names]
    return Response(200, {"secrets": secrets, "version": app.secrets_version})


def delete(vendor, req: Request) -> Response:
    app = vendor.app(req.params["app"])
    if app.secrets.pop(req.params["name"], None) is None:
        raise ApiError(404, "not_found", f"secret {req.params['name']} not found")
    app.secrets_version += 1
    return Response(200, {"version": app.secrets_version})


def register(router: Router, vendor) -> None:
    router.add("GET", "/apps/{app}/secrets", partial(listing, vendor))
    router.add("POST", "/apps/{app}/secrets", partial(update_many, vendor))
    router.add("GET", "/apps/{app}/secrets/{name}", partial(show, vendor))
    router.add("POST", "/apps/{app}/secrets/{name}", partial(set_one, vendor))
    router.add("DELETE", "/apps/{app}/secrets/{name}", partial(delete, vendor))
