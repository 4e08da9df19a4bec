"""The AWS APIs: moto's server app in this process, behind a gateway that can take over a call.

boto3, the AWS CLI and amazon.aws reach it through ``AWS_ENDPOINT_URL``: every service on one
address, told apart (as moto does) by the credential scope of the SigV4 ``Authorization``
header. The gateway reads the service, the action (``X-Amz-Target`` for the JSON protocols,
the form's ``Action`` for the query ones) and the region, then, under :attr:`Gateway.lock`:

- a ``before`` hook for (service, action) may answer the call itself: moto never sees it;
- otherwise moto answers, and an ``after`` hook may change a JSON answer (ecs, sqs,
  secretsmanager, ecr, application-autoscaling, logs). For the query/XML protocols (ec2, elbv2,
  rds, iam) the engines change moto's backend objects instead, so that moto renders the truth.

Every call and every engine that touches moto's backends holds the one lock: moto's models are
not thread-safe.
"""

from __future__ import annotations

import io
import json
import re
import threading
import urllib.parse
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from moto.backends import get_backend
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

ACCOUNT_ID = "123456789012"  # moto's default account
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
_RPC_PATH = re.compile(r"^/service/[^/]+/operation/([^/]+)$")


class AwsError(Exception):
    """An AWS error answer: HTTP status, error code and message."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass
class AwsCall:
    """One AWS request as the gateway sees it."""

    service: str
    action: str
    region: str
    params: dict[str, Any]  # the JSON body, or the form's fields (first value of each); {} for CBOR
    json_protocol: bool
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Answer:
    status: int
    body: bytes
    headers: list[tuple[str, str]]

    @classmethod
    def json(cls, data: Any, status: int = 200) -> Answer:
        body = json.dumps(data, default=str).encode()
        return cls(status, body, [("Content-Type", "application/x-amz-json-1.1")])

    @classmethod
    def error(cls, call: AwsCall, err: AwsError) -> Answer:
        request_id = str(uuid.uuid4())
        if call.json_protocol:
            body = json.dumps({"__type": err.code, "message": err.message}).encode()
            headers = [
                ("Content-Type", "application/x-amz-json-1.1"),
                ("x-amzn-ErrorType", err.code),
                ("x-amzn-RequestId", request_id),
            ]
            return cls(err.status, body, headers)
        kind = "Sender" if err.status < 500 else "Receiver"
        xml = (
            f"<ErrorResponse><Error><Type>{kind}</Type><Code>{err.code}</Code>"
            f"<Message>{_xml_escape(err.message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return cls(err.status, xml.encode(), [("Content-Type", "text/xml")])


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


Before = Callable[[AwsCall], Any]  # returns a JSON-able answer, an Answer, or None (moto)
After = Callable[[AwsCall, dict], dict]


def read_call(environ: dict[str, Any], body: bytes) -> AwsCall | None:
    """The service, action, region and parameters of a request (None: not a signed AWS call)."""
    match = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if not match:
        return None
    region, service = match.groups()
    headers = {
        key[5:].replace("_", "-").lower(): value
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    rpc = _RPC_PATH.match(environ.get("PATH_INFO", ""))
    if rpc:  # smithy-rpc-v2-cbor (CloudWatch): the operation is in the path, the body is CBOR
        return AwsCall(service, rpc.group(1), region, {}, False, headers)
    target = headers.get("x-amz-target", "")
    if target:
        try:
            params = json.loads(body) if body else {}
        except ValueError:
            params = {}
        action = target.rsplit(".", 1)[-1]
        return AwsCall(service, action, region, params, True, headers)
    form = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    params = {key: values[0] for key, values in {**query, **form}.items()}
    return AwsCall(service, params.get("Action", ""), region, params, False, headers)


class Gateway:
    """The WSGI app: hooks first, then moto."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.moto = DomainDispatcherApplication(create_backend_app)
        self.before: dict[tuple[str, str], Before] = {}
        self.after: dict[tuple[str, str], After] = {}

    def on(
        self, service: str, action: str, before: Before | None = None, after: After | None = None
    ) -> None:
        """Register the hooks of one (service, action); a later registration replaces one."""
        if before is not None:
            self.before[(service, action)] = before
        if after is not None:
            self.after[(service, action)] = after

    def backend(self, service: str, region: str) -> Any:
        """moto's backend of a service in a region (hold :attr:`lock` while using it)."""
        return get_backend(service)[ACCOUNT_ID][region]

    def reset(self) -> None:
        """Forget every AWS resource (moto's own reset)."""
        from moto.moto_api._internal.models import moto_api_backend

        with self.lock:
            moto_api_backend.reset()

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        call = read_call(environ, body)
        with self.lock:
            answer = self._answer(call, environ)
        headers = [(k, v) for k, v in answer.headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(answer.body))))
        start_response(f"{answer.status} {_reason(answer.status)}", headers)
        return [answer.body]

    def _answer(self, call: AwsCall | None, environ: dict[str, Any]) -> Answer:
        key = (call.service, call.action) if call else None
        try:
            before = self.before.get(key) if key else None
            if before is not None:
                result = before(call)
                if result is not None:
                    return result if isinstance(result, Answer) else Answer.json(result)
            answer = self._moto(environ)
            after = self.after.get(key) if key else None
            if after is not None and call.json_protocol and answer.status == 200:
                data = json.loads(answer.body or b"{}")
                answer.body = json.dumps(after(call, data), default=str).encode()
            return answer
        except AwsError as err:
            return Answer.error(call, err)

    def _moto(self, environ: dict[str, Any]) -> Answer:
        captured: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info=None):
            captured["status"] = int(status.split(" ", 1)[0])
            captured["headers"] = headers

        chunks = self.moto(environ, start_response)
        try:
            body = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        return Answer(captured["status"], body, captured["headers"])


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"
