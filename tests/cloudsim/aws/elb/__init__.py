"""The ALB engine: the data plane and target health that moto's elbv2 does not have.

moto keeps the load balancers, listeners, rules, target groups and registrations; this engine
makes them real:

- every application load balancer gets an HTTP proxy on a loopback address of its own
  (``proxy.py``), listening on its listeners' ports and routing by their rules;
- targets are health checked by their target group's settings and drain when deregistered
  (``health.py``); DescribeTargetHealth answers with that truth.

How it learns of changes: each region's elbv2 backend gets its mutating methods wrapped (by the
before hook of any elbv2 call that changes something, which runs under the gateway's lock
before moto). A wrapped method re-reads moto's state once moto has changed it, still inside the
call, so the proxies and the health checker never route on stale state once an API call (or
the ECS engine's direct ``register_targets``/``deregister_targets``) has returned.

Public API (the engine contract in the issue's shared design):

- ``probers``: callables ``(target_id, port, path, timeout) -> bool | None``, first non-None
  answer wins. Without one, a target is checked by real HTTP only when its address is in
  127.0.0.0/8; any other address is ``unhealthy`` (``Target.Timeout``), never contacted.
- ``target_health(tg_arn, target_id, port) -> (state, reason)``.
- ``time_scale``: health-check intervals and deregistration delays are multiplied by it
  (``CLOUDSIM_ELB_TIME_SCALE``, default 1; tests shrink it with
  ``POST /_admin/aws/elb/settings {"time_scale": 0.01}``; reset restores the default).
- ``refresh()``: re-read moto's state now.
- ``metrics``: what targets answered, published to the local CloudWatch each second
  (``metrics.py``; ``metrics.flush(everything=True)`` publishes the current second too).

Admin: ``GET /_admin/aws/albs`` -> ``{dns_name: "http://127.x.y.z[:port]"}``;
``GET /_admin/aws/albs/stats`` -> ``{dns_name: {requests, 5xx, failures, ...}}`` (``proxy.py``).
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from ...core import Response
from ...httpproxy import LoopbackAddresses, base_url
from ..gateway import AwsCall
from . import checks, describe
from .health import Health
from .metrics import Metrics
from .model import EMPTY, State, read_state
from .proxy import AlbProxy

log = logging.getLogger(__name__)
MUTATORS = (
    "create_load_balancer", "delete_load_balancer", "create_listener", "modify_listener",
    "delete_listener", "create_rule", "modify_rule", "delete_rule", "set_rule_priorities",
    "create_target_group", "modify_target_group", "modify_target_group_attributes",
    "delete_target_group", "register_targets", "deregister_targets",
)  # fmt: skip
ACTIONS = (
    "CreateLoadBalancer", "DeleteLoadBalancer", "CreateListener", "ModifyListener",
    "DeleteListener", "CreateRule", "ModifyRule", "DeleteRule", "SetRulePriorities",
    "CreateTargetGroup", "ModifyTargetGroup", "ModifyTargetGroupAttributes", "DeleteTargetGroup",
    "RegisterTargets", "DeregisterTargets",
)  # fmt: skip
_WATCHED = "_cloudsim_elb_watched"
SERVICE = "elasticloadbalancing"  # elbv2's signing name


def default_time_scale() -> float:
    return float(os.environ.get("CLOUDSIM_ELB_TIME_SCALE", "1"))


class ElbEngine:
    def __init__(self, aws: Any) -> None:
        self.aws = aws
        self.gateway = aws.gateway
        self.probers: list = []
        self.time_scale = default_time_scale()
        self.state: State = EMPTY
        self.health = Health(lambda group, tid, port: checks.probe(self, group, tid, port),
                             lambda: self.time_scale)  # fmt: skip
        self.metrics = Metrics(self.gateway)  # CloudWatch's AWS/ApplicationELB
        self.proxies: dict[str, AlbProxy] = {}  # by load balancer ARN
        self._addresses = LoopbackAddresses()
        self._proxies_lock = threading.Lock()
        for action in ACTIONS:  # the gateway knows services by their SigV4 signing name
            self.gateway.on(SERVICE, action, before=self._watch)
        self.gateway.on(SERVICE, "DescribeTargetHealth", before=self._describe_target_health)

    # -- keeping up with moto ------------------------------------------------------------------

    def _watch(self, call: AwsCall) -> None:
        """Wrap the region's backend methods that change state (once per backend object: moto's
        reset empties the object, and the next call wraps again). Returns None: moto answers."""
        backend = self.gateway.backend("elbv2", call.region)
        if getattr(backend, _WATCHED, False):
            return None
        for name in MUTATORS:
            setattr(backend, name, self._wrapped(getattr(backend, name)))
        setattr(backend, _WATCHED, True)
        return None

    def _wrapped(self, method):
        def changed(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            self.refresh()
            return result

        return changed

    def refresh(self) -> None:
        """Re-read moto's state; the health checker and the proxies follow it."""
        with self.gateway.lock:
            state = read_state()
            self.state = state
            self.health.sync(state)
            self._sync_proxies(state)

    def _sync_proxies(self, state: State) -> None:
        with self._proxies_lock:
            for arn in set(self.proxies) - set(state.load_balancers):
                self.proxies.pop(arn).close()
            for arn, lb in state.load_balancers.items():
                proxy = self.proxies.get(arn)
                if proxy is None:
                    proxy = self.proxies[arn] = AlbProxy(self, lb, self._addresses.next())
                ports = {listener.port for listener in lb.listeners}
                proxy.listeners.keep(ports)
                try:
                    proxy.listeners.listen(ports)
                except OSError as exc:  # AWS would listen; say why we cannot
                    log.warning("ALB %s cannot listen on %s: %s", lb.name, ports, exc)

    # -- the engine contract -------------------------------------------------------------------

    def target_health(self, tg_arn: str, target_id: str, port: int) -> tuple[str, str | None]:
        state, reason, _description = self.health.target_health((tg_arn, target_id, int(port)))
        return state, reason

    def _describe_target_health(self, call: AwsCall):
        group = self.state.target_groups.get(call.params.get("TargetGroupArn", ""))
        if group is None:
            return None  # moto answers TargetGroupNotFound
        return describe.target_health_answer(self, group, call.params)

    # -- admin, reset, close -------------------------------------------------------------------

    def urls(self) -> dict[str, str]:
        with self._proxies_lock:
            return {
                p.dns_name: base_url(p.address, p.listeners.ports)
                for p in self.proxies.values()
                if p.listeners.ports
            }

    def admin(self, method: str, path: str, body: Any) -> Response | None:
        if path == "/_admin/aws/albs" and method == "GET":
            self.refresh()
            return Response(200, self.urls())
        if path == "/_admin/aws/albs/stats" and method == "GET":
            with self._proxies_lock:
                return Response(200, {p.dns_name: p.stats.as_dict() for p in self.proxies.values()})
        if path == "/_admin/aws/elb/settings" and method in ("POST", "PUT"):
            if "time_scale" in (body or {}):
                scale = float(body["time_scale"])
                if scale <= 0:
                    return Response(400, {"error": "time_scale: expected a number above 0"})
                self.time_scale = scale
                self.health.rescale()
            return Response(200, {"time_scale": self.time_scale})
        return None

    def reset(self) -> None:
        with self._proxies_lock:
            for proxy in self.proxies.values():
                proxy.listeners.keep(set())  # stops in the background: resets stay quick
            self.proxies.clear()
        self.state = EMPTY
        self.health.clear()
        self.metrics.clear()
        self.time_scale = default_time_scale()

    def close(self) -> None:
        self.reset()
        self.health.close()
        self.metrics.close()


def install(aws: Any) -> ElbEngine:
    return ElbEngine(aws)
