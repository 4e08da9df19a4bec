"""One health check of one target: the probers first, then real HTTP to loopback only."""

from __future__ import annotations

import http.client
from typing import Any

from .health import Verdict
from .model import TargetGroup
from .proxy import is_loopback


def probe(engine: Any, group: TargetGroup, target_id: str, port: int) -> Verdict:
    """Ask the engine's probers (first non-None answer wins), else GET the health check path
    when the target's address is in 127.0.0.0/8; any other address is never contacted."""
    check = group.health
    check_port = port if check.port == "traffic-port" else int(check.port)
    timeout = check.timeout * engine.time_scale
    for prober in list(engine.probers):
        answer = prober(target_id, check_port, check.path, timeout)
        if answer is not None:
            if answer:
                return Verdict(True, contactable=True)
            return Verdict(False, "Target.FailedHealthChecks", contactable=True)
    if group.target_type != "ip" or not is_loopback(target_id):
        return Verdict(False, "Target.Timeout")
    return http_check(target_id, check_port, check.path, max(timeout, 1.0), check.accepts)


def http_check(address: str, port: int, path: str, timeout: float, accepts) -> Verdict:
    connection = http.client.HTTPConnection(address, port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"User-Agent": "ELB-HealthChecker/2.0"})
        response = connection.getresponse()
        response.read()
    except TimeoutError:
        return Verdict(False, "Target.Timeout", contactable=True)
    except (OSError, http.client.HTTPException):
        return Verdict(False, "Target.FailedHealthChecks", contactable=True)
    finally:
        connection.close()
    if accepts(response.status):
        return Verdict(True, contactable=True)
    codes = f"Health checks failed with these codes: [{response.status}]"
    return Verdict(False, "Target.ResponseCodeMismatch", codes, contactable=True)
