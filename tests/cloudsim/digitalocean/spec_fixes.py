"""DigitalOcean's OpenAPI file, adjusted so that openapi-core 0.23 validates what the API says.

One quirk of the file (``../shared/specs/digitalocean.openapi.json``) makes valid requests
fail validation:

- The path parameter ``ssh_key_identifier`` (``/v2/account/keys/{ssh_key_identifier}``) is
  ``anyOf: [ssh_key_id, ssh_key_fingerprint]``, and both schemas are marked ``readOnly`` (they
  are also the ``id`` and ``fingerprint`` properties of a key). openapi-core refuses readOnly
  values in a request, so every GET/PUT/DELETE of a key by id or fingerprint is "invalid".
  The parameter becomes ``anyOf: [integer, string]``, the same types without readOnly; the
  key's properties keep their readOnly.

``fix_spec`` returns a corrected deep copy; ``tests/cloudsim/contract.py`` can apply it when it
loads the DigitalOcean file.
"""

from __future__ import annotations

import copy


def fix_spec(spec: dict) -> dict:
    spec = copy.deepcopy(spec)
    parameter = spec.get("components", {}).get("parameters", {}).get("ssh_key_identifier")
    if parameter is not None:
        parameter["schema"] = {"anyOf": [{"type": "integer"}, {"type": "string"}]}
    return spec
