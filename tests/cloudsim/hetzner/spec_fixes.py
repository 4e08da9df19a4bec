"""Hetzner's OpenAPI file, adjusted so that openapi-core 0.23 validates what the real API says.

Two quirks of the file (``../shared/specs/hetzner-cloud.openapi.json``) make valid answers
fail validation:

- Error responses are keyed ``4xx`` / ``5xx``; OpenAPI (and openapi-core's response finder)
  spells status ranges ``4XX`` / ``5XX``, so every error answer is "unknown status".
- Nullable references are written ``{"allOf": [{"$ref": ...}], "nullable": true}``; the
  validator applies the non-nullable referenced schema to ``null`` and rejects it (an
  action's ``error``, a server's ``image`` / ``iso`` / ``public_net.ipv4``, an image's
  ``created_from``... are ``null`` in real answers). They become
  ``{"anyOf": [<the same>, {"enum": [null]}]}``.

``fix_spec`` returns a corrected deep copy; ``tests/cloudsim/contract.py`` applies it when it
loads the Hetzner file.
"""

from __future__ import annotations

import copy
from typing import Any

_COMPOSITES = ("allOf", "oneOf", "anyOf", "$ref")


def _fix(node: Any) -> Any:
    if isinstance(node, list):
        return [_fix(item) for item in node]
    if not isinstance(node, dict):
        return node
    fixed = {key: _fix(value) for key, value in node.items()}
    if (
        fixed.get("nullable") is True
        and "type" not in fixed
        and any(key in fixed for key in _COMPOSITES)
    ):
        inner = {k: v for k, v in fixed.items() if k in _COMPOSITES}
        outer = {k: v for k, v in fixed.items() if k not in _COMPOSITES and k != "nullable"}
        outer["anyOf"] = [inner, {"enum": [None]}]
        return outer
    return fixed


def fix_spec(spec: dict) -> dict:
    spec = copy.deepcopy(spec)
    for path_item in spec.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.get("responses") if isinstance(operation, dict) else None
            if not isinstance(responses, dict):
                continue
            for key in list(responses):
                if len(key) == 3 and key[1:] == "xx":
                    responses[key.upper()] = responses.pop(key)
    return _fix(spec)
