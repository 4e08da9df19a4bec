"""How an Application Load Balancer picks what answers a request: pure functions on plain data.

- A listener's rules are evaluated in priority order, the default rule last; a rule matches when
  every one of its conditions does, and a condition when any of its values does. Supported
  conditions: ``path-pattern`` (case-sensitive, on the path without the query string),
  ``host-header`` (case-insensitive, without the port) and ``http-request-method``; a rule with
  another condition never matches here (documented deviation).
- Patterns have AWS's wildcards: ``*`` (any characters, also none) and ``?`` (one character).
- A forward action with several target groups picks one by weight with smooth weighted round
  robin (nginx's): deterministic, so 50/50 alternates exactly and weight 0 gets nothing.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache


@dataclass(frozen=True)
class Action:
    """A rule's terminal action."""

    type: str  # forward, fixed-response, redirect
    groups: tuple[tuple[str, int], ...] = ()  # forward: (target group ARN, weight)
    status: int = 0  # fixed-response and redirect
    content_type: str = ""
    body: str = ""
    redirect: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Rule:
    priority: float  # the default rule is last: infinity
    conditions: tuple[tuple[str, tuple[str, ...]], ...]  # (field, values)
    action: Action
    arn: str = ""


@lru_cache(maxsize=512)
def _pattern(text: str, ignore_case: bool) -> re.Pattern[str]:
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)
    return re.compile("".join(parts), re.IGNORECASE if ignore_case else 0)


def wildcard_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    return _pattern(pattern, ignore_case).fullmatch(value) is not None


def matches(rule: Rule, method: str, path: str, host: str) -> bool:
    bare_path = path.split("?", 1)[0]
    bare_host = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    for name, values in rule.conditions:
        if name == "path-pattern":
            ok = any(wildcard_match(v, bare_path) for v in values)
        elif name == "host-header":
            ok = any(wildcard_match(v, bare_host, ignore_case=True) for v in values)
        elif name == "http-request-method":
            ok = method.upper() in {v.upper() for v in values}
        else:
            ok = False
        if not ok:
            return False
    return True


def choose_rule(rules: Sequence[Rule], method: str, path: str, host: str) -> Rule | None:
    """The first matching rule in priority order (the default rule matches everything)."""
    for rule in sorted(rules, key=lambda r: r.priority):
        if matches(rule, method, path, host):
            return rule
    return None


class SmoothWeighted:
    """Smooth weighted round robin over keys with weights: each pick adds every weight to its
    key's current value, takes the largest (first on a tie) and subtracts the total from it.
    Weights may change between picks (a listener modified); keys of weight 0 are never picked.
    """

    def __init__(self) -> None:
        self._current: dict[str, int] = {}
        self._lock = threading.Lock()

    def pick(self, weighted: Sequence[tuple[str, int]]) -> str | None:
        live = [(key, weight) for key, weight in weighted if weight > 0]
        if not live:
            return None
        with self._lock:
            keys = {key for key, _weight in live}
            self._current = {k: v for k, v in self._current.items() if k in keys}
            best = None
            for key, weight in live:
                self._current[key] = self._current.get(key, 0) + weight
                if best is None or self._current[key] > self._current[best]:
                    best = key
            self._current[best] -= sum(weight for _key, weight in live)
            return best


class RoundRobin:
    """The next of a list in turn, per name (a target group's routable targets)."""

    def __init__(self) -> None:
        self._turns: dict[str, int] = {}
        self._lock = threading.Lock()

    def pick(self, name: str, items: Sequence):
        if not items:
            return None
        with self._lock:
            turn = self._turns.get(name, 0)
            self._turns[name] = turn + 1
        return items[turn % len(items)]


def redirect_location(config: dict, scheme: str, host: str, port: int, path: str) -> str:
    """A redirect action's Location: AWS's ``#{protocol}``, ``#{host}``, ``#{port}``,
    ``#{path}`` and ``#{query}`` placeholders, each part defaulting to the request's."""
    bare_path, _mark, query = path.partition("?")
    bare_host = host.rsplit(":", 1)[0]
    values = {
        "protocol": scheme.upper(), "host": bare_host, "port": str(port),
        "path": bare_path.lstrip("/"), "query": query,
    }  # fmt: skip

    def fill(text: str) -> str:
        for key, value in values.items():
            text = text.replace("#{" + key + "}", value)
        return text

    protocol = fill(config.get("Protocol") or "#{protocol}").lower()
    target_host = fill(config.get("Host") or "#{host}")
    target_port = fill(config.get("Port") or "#{port}")
    target_path = fill(config.get("Path") or "/#{path}")
    target_query = fill(config.get("Query") or "#{query}")
    default_port = {"http": "80", "https": "443"}.get(protocol)
    netloc = target_host if target_port == default_port else f"{target_host}:{target_port}"
    return f"{protocol}://{netloc}{target_path}" + (f"?{target_query}" if target_query else "")
