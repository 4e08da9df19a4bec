# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The ECS calls of ``ecs_deploy`` and ``ecs_service_info`` over a boto3 client (amazon.aws's
``module.client('ecs', retry_decorator=AWSRetry.jittered_backoff())``: retries for throttling
and server errors only). Every failure becomes one :class:`ApiError` that names the option at
fault where the error tells it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

try:
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
except ImportError:  # pragma: no cover - AnsibleAWSModule reports the missing boto3 first

    class BotoCoreError(Exception):
        """Stands in for botocore's, which is not installed: never raised."""

    ClientError = NoCredentialsError = BotoCoreError

from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError

VENDOR = "AWS ECS"
DESCRIBE_TASKS_MAX = 100

# The option an error code is about, whatever the call.
FIELD_OF_CODE = {
    "ClusterNotFoundException": "cluster",
    "ServiceNotFoundException": "service",
    "ServiceNotActiveException": "service",
    "UnrecognizedClientException": "aws_access_key",
    "InvalidClientTokenId": "aws_access_key",
    "InvalidSignatureException": "aws_secret_key",
    "SignatureDoesNotMatch": "aws_secret_key",
    "ExpiredTokenException": "session_token",
    "AccessDeniedException": "aws_access_key",
}


def field_from_message(message: str, hints: Mapping[str, str]) -> str | None:
    """The first option of ``hints`` (word in the message -> option) whose word the message
    names, case-insensitively."""
    text = message.lower()
    return next((field for word, field in hints.items() if word in text), None)


def api_error(
    err: Exception, hints: Mapping[str, str] | None = None, vendor: str = VENDOR
) -> ApiError:
    """The :class:`ApiError` of a botocore exception (``vendor``: which AWS API answered)."""
    if isinstance(err, ClientError) and hasattr(err, "response"):
        details = err.response.get("Error", {})
        code = details.get("Code") or "ClientError"
        message = details.get("Message") or str(err)
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        field = FIELD_OF_CODE.get(code) or field_from_message(message, hints or {})
        return ApiError(vendor, status, code, message, field)
    if isinstance(err, NoCredentialsError):
        message = (
            "no AWS credentials found: set aws_access_key and aws_secret_key, a profile, or "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
        error = ApiError(vendor, None, "NoCredentials", message, "aws_access_key")
        error.sent = False
        return error
    error = ApiError(vendor, None, type(err).__name__, str(err), None)
    error.sent = False
    return error


class AwsCalls:
    """Calls of one AWS API over a boto3 client made with ``retry_decorator``: plain boto3
    data back, or :class:`ApiError`; ``calls`` counts them (retries not counted)."""

    vendor = VENDOR

    def __init__(self, boto_client: Any) -> None:
        self.boto = boto_client
        self.calls = 0

    def _call(self, operation: str, hints: Mapping[str, str] | None = None, **kwargs: Any) -> Any:
        self.calls += 1
        try:
            return getattr(self.boto, operation)(aws_retry=True, **kwargs)
        except (ClientError, BotoCoreError) as err:
            raise api_error(err, hints, self.vendor) from err


class EcsClient(AwsCalls):
    """The ECS calls."""

    # --- services -----------------------------------------------------------------------------
    def service(self, cluster: str, name: str) -> dict[str, Any]:
        """One service; an error naming ``service`` when the cluster has no such service."""
        answer = self._call("describe_services", cluster=cluster, services=[name])
        for service in answer.get("services") or []:
            if service.get("status") != "INACTIVE":
                return service
        reasons = ", ".join(str(f.get("reason")) for f in answer.get("failures") or [])
        raise ApiError(
            VENDOR,
            400,
            "ServiceNotFoundException",
            f"cluster {cluster} has no active service {name}"
            + (f" ({reasons})" if reasons else ""),
            "service",
        )

    def services(self, cluster: str, names: list[str], tags: bool = False) -> list[dict[str, Any]]:
        """The services named (10 per call, ECS's limit), those not found left out; with
        ``tags``, their tags too."""
        found = []
        extra = {"include": ["TAGS"]} if tags else {}
        for start in range(0, len(names), 10):
            answer = self._call(
                "describe_services", cluster=cluster, services=names[start : start + 10], **extra
            )
            found.extend(answer.get("services") or [])
        return found

    def create_service(self, **wanted: Any) -> dict[str, Any]:
        return self._call("create_service", {"service": "bluegreen.services"}, **wanted)["service"]

    def service_arns(self, cluster: str) -> Iterator[str]:
        token = None
        while True:
            page = self._call(
                "list_services", cluster=cluster, **({"nextToken": token} if token else {})
            )
            yield from page.get("serviceArns") or []
            token = page.get("nextToken")
            if not token:
                return

    def update_service(self, **wanted: Any) -> dict[str, Any]:
        hints = {
            "minimumhealthypercent": "minimum_healthy_percent",
            "maximumpercent": "maximum_percent",
            "circuit": "circuit_breaker",
        }
        return self._call("update_service", hints, **wanted)["service"]

    # --- task definitions ---------------------------------------------------------------------
    def task_definition(self, arn: str) -> dict[str, Any]:
        return self._call("describe_task_definition", taskDefinition=arn)["taskDefinition"]

    def register_task_definition(self, wanted: Mapping[str, Any]) -> dict[str, Any]:
        hints = {"image": "image", "environment": "environment", "container": "containers"}
        return self._call("register_task_definition", hints, **wanted)["taskDefinition"]

    def deregister_task_definition(self, arn: str) -> None:
        self._call("deregister_task_definition", taskDefinition=arn)

    # --- tasks --------------------------------------------------------------------------------
    def run_task(self, wanted: Mapping[str, Any]) -> dict[str, Any]:
        return self._call("run_task", {"command": "migrate", "override": "migrate"}, **wanted)

    def tasks(self, cluster: str, arns: list[str]) -> list[dict[str, Any]]:
        found = []
        for start in range(0, len(arns), DESCRIBE_TASKS_MAX):
            chunk = arns[start : start + DESCRIBE_TASKS_MAX]
            found.extend(self._call("describe_tasks", cluster=cluster, tasks=chunk)["tasks"])
        return found

    def stopped_tasks(self, cluster: str, started_by: str, limit: int = 20) -> list[dict]:
        """The newest stopped tasks a deployment (or the migration) started, at most ``limit``."""
        answer = self._call(
            "list_tasks",
            cluster=cluster,
            startedBy=started_by,
            desiredStatus="STOPPED",
            maxResults=limit,
        )
        arns = answer.get("taskArns") or []
        return self.tasks(cluster, arns) if arns else []

    def stop_task(self, cluster: str, arn: str, reason: str) -> None:
        self._call("stop_task", cluster=cluster, task=arn, reason=reason)
