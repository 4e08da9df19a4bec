"""Contract checks: exchanges recorded by the simulator, validated against the vendor specs.

The specs live outside the project (``../shared/specs`` from the repository root, or
``SIGMA_SPECS_DIR``); without them the checks fail, naming the missing path. Responses are
validated always; requests only where the simulator accepted them (a test that sends bad
input on purpose gets its 4xx, and that answer is validated).

Where a vendor accepts more than its spec says (DigitalOcean takes droplet ids as numeric
strings in firewalls), the simulator accepts it too and records what it tolerated. Such a
request is still validated when it came from our own modules and plugins (their User-Agent):
they send what the spec says. From any other client (community.digitalocean, a test's own
requests) it is not: the vendor accepts it.
"""

from __future__ import annotations

import importlib
import json
import os
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The User-Agent of the collection's API clients (plugins/module_utils/client/api.py).
OUR_CLIENT = "sigma.deploy"
SPECS = {
    # vendor: (file, the server URL the recorded paths continue)
    "hetzner": ("hetzner-cloud.openapi.json", "https://api.hetzner.cloud/v1"),
    "digitalocean": ("digitalocean.openapi.json", "https://api.digitalocean.com/v2"),
    "fly": ("fly-machines.openapi.yaml", "https://api.machines.dev/v1"),
}


def specs_dir() -> Path:
    return Path(os.environ.get("SIGMA_SPECS_DIR", ROOT.parent / "shared" / "specs"))


def missing_reason() -> str | None:
    """Why contract checks cannot run here, naming the missing path; None when they can."""
    d = specs_dir()
    if not d.is_dir():
        return f"vendor specs not found at {d} (set SIGMA_SPECS_DIR)"
    for file_name, _server in SPECS.values():
        if not (d / file_name).is_file():
            return f"vendor spec not found: {d / file_name} (set SIGMA_SPECS_DIR)"
    return None


@cache
def openapi_for(vendor: str):
    from openapi_core import OpenAPI
    from openapi_core.configurations import Config

    file_name = SPECS[vendor][0]
    text = (specs_dir() / file_name).read_text()
    if file_name.endswith(".yaml"):
        import yaml

        spec = yaml.safe_load(text)
    else:
        spec = json.loads(text)
    # Known faults of a vendor file (documented in its spec_fixes module) are mended first.
    try:
        fixes = importlib.import_module(f"tests.cloudsim.{vendor}.spec_fixes")
    except ModuleNotFoundError:
        fixes = None
    if fixes is not None and hasattr(fixes, "fix_spec"):
        spec = fixes.fix_spec(spec)
    # The vendor files do not all pass openapi-core's strict spec validator (specs README).
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


def check_exchange(line: dict) -> list[str]:
    """Problems with one recorded exchange (empty when it matches the spec)."""
    from openapi_core.testing import MockRequest, MockResponse

    vendor = line["vendor"]
    if vendor not in SPECS or _not_in_spec(vendor, line):
        return []
    base = SPECS[vendor][1]
    host_url, base_path = base.split("/", 3)[:3], "/" + base.split("/", 3)[3]
    args = dict(_query_pairs(line.get("query", "")))
    request = MockRequest(
        "/".join(host_url),
        line["method"].lower(),
        base_path + line["path"],
        args=args,
        data=line.get("request_body") or None,
        content_type=line.get("content_type") or "application/json",
        # The simulator checked the token itself; the spec only needs to see one was sent.
        headers={"Authorization": "Bearer recorded-token"},
    )
    body = line.get("response_body")
    response = MockResponse(
        json.dumps(body).encode() if body is not None else b"",
        status_code=line["status"],
        content_type="application/json" if body is not None else None,
    )
    api = openapi_for(vendor)
    problems = []
    where = f"{vendor} {line['method']} {line['path']} -> {line['status']}"
    if 200 <= line["status"] < 300 and held_to_the_spec(line):
        try:
            api.validate_request(request)
        except Exception as exc:
            problems.append(f"{where}: request: {_explain(exc)}{_tolerated(line)}")
    try:
        api.validate_response(request, response)
    except Exception as exc:
        problems.append(f"{where}: response: {_explain(exc)}")
    return problems


def _not_in_spec(vendor: str, line: dict) -> str | None:
    """Why the vendor's file cannot judge this exchange (a newer endpoint, or one its own
    client calls otherwise; the vendor's ``spec_fixes.not_in_spec`` says), or None."""
    try:
        fixes = importlib.import_module(f"tests.cloudsim.{vendor}.spec_fixes")
    except ModuleNotFoundError:
        return None
    judge = getattr(fixes, "not_in_spec", None)
    return judge(line["method"], line["path"]) if judge else None


def held_to_the_spec(line: dict) -> bool:
    """Whether an accepted request is validated: always when the vendor needed to tolerate
    nothing, and from our own clients always."""
    ours = line.get("user_agent", "").startswith(OUR_CLIENT)
    return ours or not line.get("tolerated")


def _tolerated(line: dict) -> str:
    if not line.get("tolerated"):
        return ""
    return f" (accepted only as the vendor tolerates: {'; '.join(line['tolerated'])})"


def check_file(path: Path) -> tuple[int, list[str]]:
    """Validate every exchange in a record file: (count, problems)."""
    count, problems = 0, []
    if not path.exists():
        return 0, []
    with path.open() as lines:
        for raw in lines:
            count += 1
            problems.extend(check_exchange(json.loads(raw)))
    return count, problems


def _query_pairs(query: str):
    from urllib.parse import parse_qsl

    return parse_qsl(query, keep_blank_values=True)


def _explain(exc: Exception) -> str:
    parts = [f"{type(exc).__name__}: {exc}"]
    cause = exc.__cause__
    while cause is not None and len(parts) < 4:
        for sub in getattr(cause, "schema_errors", []) or []:
            parts.append(f"{'/'.join(str(p) for p in sub.absolute_path)}: {sub.message}")
        cause = cause.__cause__
    return " | ".join(parts)[:1500]
