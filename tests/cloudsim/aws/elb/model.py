"""moto's ELBv2 state as plain, immutable data: what the proxies and the health checker use.

:func:`read_state` walks every region whose elbv2 backend exists (hold the gateway's lock).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from moto.backends import get_backend

from ..gateway import ACCOUNT_ID
from .routing import Action, Rule

TargetKey = tuple[str, str, int]  # target group ARN, target id, port


@dataclass(frozen=True)
class HealthCheck:
    enabled: bool
    path: str
    port: str  # "traffic-port" or a number
    interval: float
    timeout: float
    healthy_threshold: int
    unhealthy_threshold: int
    codes: tuple[tuple[int, int], ...]  # the matcher's HttpCode as inclusive ranges

    def accepts(self, status: int) -> bool:
        return any(low <= status <= high for low, high in self.codes)


@dataclass(frozen=True)
class TargetGroup:
    arn: str
    name: str
    target_type: str
    port: int
    health: HealthCheck
    deregistration_delay: float  # seconds (deregistration_delay.timeout_seconds)
    targets: tuple[tuple[str, int], ...]  # registered (id, port), in registration order
    in_use: bool  # some listener of a load balancer forwards to it


@dataclass(frozen=True)
class Listener:
    arn: str
    port: int
    protocol: str
    rules: tuple[Rule, ...]  # in priority order, the default rule last


@dataclass(frozen=True)
class LoadBalancer:
    arn: str
    name: str
    dns_name: str
    listeners: tuple[Listener, ...]


@dataclass(frozen=True)
class State:
    load_balancers: dict[str, LoadBalancer]  # by ARN: application load balancers only
    target_groups: dict[str, TargetGroup]  # by ARN


EMPTY = State({}, {})


def parse_codes(text: str) -> tuple[tuple[int, int], ...]:
    """A matcher's HttpCode (``200``, ``200,202``, ``200-299``) as inclusive ranges."""
    ranges = []
    for part in str(text or "200").split(","):
        low, _dash, high = part.strip().partition("-")
        ranges.append((int(low), int(high or low)))
    return tuple(ranges)


def read_action(actions: list[Any]) -> Action:
    """A rule's terminal action (authenticate-* actions come first and are skipped)."""
    ordered = sorted(actions, key=lambda a: int(a.data.get("Order") or 0))
    data = ordered[-1].data if ordered else {"Type": "fixed-response"}
    kind = data.get("Type", "")
    if kind == "forward":
        groups = [
            (g["TargetGroupArn"], int(g.get("Weight", 1)))
            for g in (data.get("ForwardConfig") or {}).get("TargetGroups") or []
        ]
        if not groups and data.get("TargetGroupArn"):
            groups = [(data["TargetGroupArn"], 1)]
        return Action("forward", groups=tuple(groups))
    if kind == "fixed-response":
        config = data.get("FixedResponseConfig") or {}
        return Action(
            "fixed-response",
            status=int(config.get("StatusCode") or 503),
            content_type=config.get("ContentType") or "text/plain",
            body=config.get("MessageBody") or "",
        )
    if kind == "redirect":
        config = dict(data.get("RedirectConfig") or {})
        status = 301 if config.get("StatusCode") == "HTTP_301" else 302
        return Action("redirect", status=status, redirect=config)
    return Action(kind)


def read_conditions(conditions: list[dict]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    found = []
    for condition in conditions or []:
        name = condition.get("Field", "")
        config_key = {
            "path-pattern": "PathPatternConfig",
            "host-header": "HostHeaderConfig",
            "http-request-method": "HttpRequestMethodConfig",
        }.get(name, "")
        values = condition.get("Values") or (condition.get(config_key) or {}).get("Values") or []
        found.append((name, tuple(str(v) for v in values)))
    return tuple(found)


def read_listener(listener: Any) -> Listener:
    rules = []
    for rule in listener.rules.values():
        priority = math.inf if rule.is_default else float(rule.priority)
        conditions = read_conditions(rule.conditions)
        rules.append(Rule(priority, conditions, read_action(rule.actions), rule.arn))
    rules.sort(key=lambda r: r.priority)
    return Listener(listener.arn, int(listener.port), listener.protocol, tuple(rules))


def read_target_group(group: Any, in_use: bool) -> TargetGroup:
    health = HealthCheck(
        enabled=bool(group.health_check_enabled),
        path=group.health_check_path or "/",
        port=str(group.health_check_port or "traffic-port"),
        interval=float(group.health_check_interval_seconds or 30),
        timeout=float(group.health_check_timeout_seconds or 5),
        healthy_threshold=int(group.healthy_threshold_count or 5),
        unhealthy_threshold=int(group.unhealthy_threshold_count or 2),
        codes=parse_codes((getattr(group, "matcher", None) or {}).get("HttpCode", "200")),
    )
    delay = float(group.attributes.get("deregistration_delay.timeout_seconds", 300))
    targets = tuple((t["Id"], int(t.get("Port") or group.port)) for t in group.targets.values())
    return TargetGroup(
        group.arn, group.name, group.target_type, int(group.port or 0), health, delay, targets,
        in_use,
    )  # fmt: skip


def read_state() -> State:
    """Every region's application load balancers and target groups (hold the gateway lock)."""
    load_balancers: dict[str, LoadBalancer] = {}
    used: set[str] = set()
    groups: list[Any] = []
    for backend in dict.values(get_backend("elbv2")[ACCOUNT_ID]):
        for lb in backend.load_balancers.values():
            if lb.type != "application":
                continue
            listeners = tuple(read_listener(li) for li in lb.listeners.values())
            for listener in listeners:
                for rule in listener.rules:
                    used.update(arn for arn, _weight in rule.action.groups)
            load_balancers[lb.arn] = LoadBalancer(lb.arn, lb.name, lb.dns_name, listeners)
        groups.extend(backend.target_groups.values())
    target_groups = {g.arn: read_target_group(g, g.arn in used) for g in groups}
    return State(load_balancers, target_groups)
