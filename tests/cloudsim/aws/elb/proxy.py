"""One Application Load Balancer's data plane: an HTTP proxy on a loopback address of its own.

It listens on its listeners' ports (an HTTPS listener is served as plain HTTP on its port:
the simulator holds no certificate for the load balancer's name) and answers each request by
the listener's rules (``routing.py``): a fixed response, a redirect, or a forward to a target
group picked by weight and then to the next of its routable targets in turn (``health.py``).
As an ALB does, it does not retry on another target: a target that refuses the connection or
breaks it is a 502, one that does not answer within the idle timeout a 504, no routable
target a 503 (all three counted as the load balancer's own 5xx, ``HTTPCode_ELB_5XX``).

Requests in flight when their target starts draining finish (a draining target only gets no
new requests); unlike AWS, they are not cut when the deregistration delay ends.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import Counter
from typing import Any

from ...httpproxy import Listeners, ProxyRequest, Reply, exchange
from .model import LoadBalancer
from .routing import RoundRobin, SmoothWeighted, choose_rule, redirect_location

CONNECT_TIMEOUT = 2.0  # an ALB's connection attempt to a target (ELB gives up after 10 s)
IDLE_TIMEOUT = 60.0  # the load balancer attribute idle_timeout.timeout_seconds (default 60)
ERROR_PAGES = {
    502: "502 Bad Gateway",
    503: "503 Service Temporarily Unavailable",
    504: "504 Gateway Time-out",
}


def error_reply(status: int) -> Reply:
    title = ERROR_PAGES[status]
    page = f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}"
    page += "</h1></center>\r\n</body>\r\n</html>\r\n"
    return Reply(status, [("Content-Type", "text/html"), ("Server", "awselb/2.0")], page.encode())


class Stats:
    """One load balancer's counts, after CloudWatch's ALB metrics."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0  # RequestCount
        self.elb_5xx = 0  # HTTPCode_ELB_5XX_Count: answers the load balancer made itself
        self.target_5xx = 0  # HTTPCode_Target_5XX_Count
        self.connection_errors = 0  # TargetConnectionErrorCount (and targets never reached)
        self.by_target: Counter[str] = Counter()  # "id:port" -> requests it answered

    def record(self, status: int, target: str | None, elb: bool, connection_error: bool):
        with self._lock:
            self.requests += 1
            if elb and status >= 500:
                self.elb_5xx += 1
            elif status >= 500:
                self.target_5xx += 1
            if connection_error:
                self.connection_errors += 1
            if target is not None and not elb:
                self.by_target[target] += 1

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self.requests,
                "5xx": self.elb_5xx + self.target_5xx,
                "failures": self.elb_5xx,
                "elb_5xx": self.elb_5xx,
                "target_5xx": self.target_5xx,
                "connection_errors": self.connection_errors,
                "targets": dict(self.by_target),
            }


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class AlbProxy:
    """The data plane of one load balancer; ``engine`` gives the state and the health."""

    def __init__(self, engine: Any, lb: LoadBalancer, address: str) -> None:
        self.engine = engine
        self.arn = lb.arn
        self.dns_name = lb.dns_name
        self.address = address
        self.stats = Stats()
        self.listeners = Listeners(self, address, f"alb-{lb.name}")
        self._weights: dict[str, SmoothWeighted] = {}
        self._turns = RoundRobin()

    def handle(self, request: ProxyRequest) -> Reply:
        lb = self.engine.state.load_balancers.get(self.arn)
        listeners = lb.listeners if lb else ()
        listener = next((li for li in listeners if li.port == request.port), None)
        host = request.headers.get("Host", self.dns_name)
        rule = None
        if listener is not None:
            rule = choose_rule(listener.rules, request.method, request.path, host)
        if rule is None:
            return self._answer(error_reply(503), None, elb=True)
        action = rule.action
        if action.type == "fixed-response":
            headers = [("Content-Type", action.content_type), ("Server", "awselb/2.0")]
            return self._answer(Reply(action.status, headers, action.body.encode()), None, True)
        if action.type == "redirect":
            scheme = "https" if listener.protocol == "HTTPS" else "http"
            where = redirect_location(action.redirect, scheme, host, request.port, request.path)
            headers = [("Location", where), ("Server", "awselb/2.0")]
            return self._answer(Reply(action.status, headers, b""), None, elb=True)
        if action.type != "forward":
            return self._answer(error_reply(503), None, elb=True)
        weights = self._weights.setdefault(rule.arn or str(rule.priority), SmoothWeighted())
        group_arn = weights.pick(action.groups)
        target = self._turns.pick(group_arn, self.engine.health.routable(group_arn))
        if target is None:
            return self._answer(error_reply(503), None, elb=True)
        return self._forward(request, listener.protocol, target, group_arn)

    def _forward(
        self, request: ProxyRequest, protocol: str, target: tuple, group_arn: str
    ) -> Reply:
        target_id, port, contactable = target
        name = f"{target_id}:{port}"
        if not (contactable or is_loopback(target_id)):
            # An address the simulator does not own: never contacted (network rule).
            return self._answer(error_reply(502), name, elb=True, connection_error=True)
        forwarded = request.headers.get("X-Forwarded-For")
        headers = {
            **request.headers,
            "X-Forwarded-For": f"{forwarded}, {request.client}" if forwarded else request.client,
            "X-Forwarded-Proto": protocol.lower(),
            "X-Forwarded-Port": str(request.port),
        }
        started = time.monotonic()
        done = exchange(target_id, port, request, headers, CONNECT_TIMEOUT, IDLE_TIMEOUT)
        if done.reply is not None:
            seconds = time.monotonic() - started
            self.engine.metrics.record(self.arn, group_arn, done.reply.status, seconds)
            return self._answer(done.reply, name, elb=False)
        status = 504 if done.timed_out else 502
        return self._answer(error_reply(status), name, elb=True, connection_error=not done.sent)

    def _answer(
        self, reply: Reply, target: str | None, elb: bool, connection_error: bool = False
    ) -> Reply:
        self.stats.record(reply.status, target, elb, connection_error)
        return reply

    def close(self) -> None:
        self.listeners.close()
