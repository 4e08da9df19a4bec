"""Fakes for the plugin unit tests: an HTTP session that answers from a script, a clock that
only moves when something sleeps, and an AnsibleModule stand-in."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FakeResponse:
    status_code: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def content(self) -> bytes:
        return b"" if self.body is None else json.dumps(self.body).encode()

    def json(self) -> Any:
        if self.body is None:
            raise ValueError("no body")
        return self.body


class FakeSession:
    """Answers requests from a list of responses (or exceptions), and records each request."""

    def __init__(self) -> None:
        self.headers: dict[str, str] = {}
        self.script: list[Any] = []
        self.calls: list[dict[str, Any]] = []

    def answer(self, *responses: Any) -> FakeSession:
        self.script.extend(responses)
        return self

    def request(self, method, url, params=None, json=None, timeout=None, verify=None, headers=None):
        call = {
            "method": method,
            "url": url,
            "params": dict(params) if params else None,
            "json": json,
            "timeout": timeout,
            "verify": verify,
        }
        if headers:
            call["headers"] = dict(headers)
        self.calls.append(call)
        if not self.script:
            raise AssertionError(f"unexpected request {method} {url}")
        item = self.script.pop(0)
        if isinstance(item, BaseException):
            raise item
        if callable(item):
            return item(method, url, params, json)
        return item


class FakeClock:
    """Monotonic time that advances only by ``sleep``; records every sleep."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Failed(Exception):
    """Raised by FakeModule.fail_json, carrying what the module would have returned."""

    def __init__(self, result: dict[str, Any]) -> None:
        super().__init__(result.get("msg"))
        self.result = result


class Exited(Exception):
    """Raised by FakeModule.exit_json, carrying what the module returned."""

    def __init__(self, result: dict[str, Any]) -> None:
        super().__init__("exit_json")
        self.result = result


class FakeModule:
    """What the module classes use of AnsibleModule."""

    def __init__(self, params: dict[str, Any], check_mode: bool = False) -> None:
        self.params = params
        self.check_mode = check_mode
        self.warnings: list[str] = []

    def fail_json(self, **result: Any) -> None:
        raise Failed(result)

    def exit_json(self, **result: Any) -> None:
        raise Exited(result)

    def warn(self, message: str) -> None:
        self.warnings.append(message)
