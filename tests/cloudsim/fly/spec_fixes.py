"""The 2024 Fly Machines OpenAPI file, mended where Fly's own client (fly-go, Aug 2026) shows
what the API really sends; fly-go wins where they differ (``../shared/specs/README.md``).

``fix_spec`` changes, each for a reason found in fly-go:

- Errors: the file lists almost no error answers, yet every 4xx/5xx carries
  ``{"error": ...}`` (fly-go ``handleAPIError`` reads it from any status above 299). Every
  operation gets a ``default`` response with ``ErrorResponse``, whose ``status`` enum gains
  ``name_taken`` (``flaps_flaps_error.go``).
- Bodies written ``content: {}``: fly-go decodes JSON from them (``Start`` reads a
  ``MachineStartResponse``, ``CreateApp`` an ``App``); they become JSON objects (an ``App``
  for ``POST /apps``). The 202 of an app delete and the 204s of metadata carry no body.
- ``POST .../lease``: fly-go sends the ttl as a query parameter and no body; the body is not
  required.
- ``ListApp.network`` is a string in fly-go's ``App`` (the file says object).
- ``Volume.attached_machine_id`` / ``attached_alloc_id`` are ``*string`` in fly-go: null when
  detached.
- ``GET .../wait``: fly-go may wait for other states (``WithWaitStates``); the enum is widened.

``not_in_spec`` names the exchanges the 2024 file cannot judge at all (added to the API
since): those are not validated, each for the reason it gives.
"""

from __future__ import annotations

import copy
import re

from .lifecycle import WAIT_STATES

_NOT_IN_SPEC = (
    (r"/apps/[^/]+/secrets(/[^/]+)?", None, "app secrets are newer than the 2024 file"),
    (
        r"/apps/[^/]+/volumes/[^/]+",
        "PUT",
        "fly-go updates a volume with PUT (UpdateVolume); the 2024 file has POST",
    ),
)


def not_in_spec(method: str, path: str) -> str | None:
    """Why an exchange is not validated against the 2024 file, or None when it is."""
    for pattern, only, reason in _NOT_IN_SPEC:
        if re.fullmatch(pattern, path) and (only is None or only == method.upper()):
            return reason
    return None


def fix_spec(spec: dict) -> dict:
    spec = copy.deepcopy(spec)
    schemas = spec["components"]["schemas"]
    schemas["ErrorResponse"]["properties"]["status"] = {
        "type": "string",
        "enum": ["unknown", "insufficient_capacity", "name_taken"],
    }
    schemas["ListApp"]["properties"]["network"] = {"type": "string"}
    for name in ("attached_machine_id", "attached_alloc_id"):
        schemas["Volume"]["properties"][name]["nullable"] = True
    error = {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
    }
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            for status, response in responses.items():
                if response.get("content") != {}:
                    continue
                if status in ("202", "204"):
                    del response["content"]
                else:
                    response["content"] = {"application/json": {"schema": {"type": "object"}}}
            responses["default"] = {"description": "error", **copy.deepcopy(error)}
            if path.endswith("/lease") and method == "post":
                operation["requestBody"]["required"] = False
            if path.endswith("/wait"):
                for param in operation["parameters"]:
                    if param["name"] == "state":
                        param["schema"]["enum"] = list(WAIT_STATES)
    created = spec["paths"]["/apps"]["post"]["responses"]["201"]
    created["content"] = {"application/json": {"schema": {"$ref": "#/components/schemas/App"}}}
    return spec
