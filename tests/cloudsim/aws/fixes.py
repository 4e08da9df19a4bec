"""moto's answers put right where they differ from AWS's and a collection module trips on it.

- ECS ``ListTagsForResource`` of a resource that never had tags: moto answers ``{}``, AWS
  ``{"tags": []}``; community.aws's ``ecs_tag`` reads ``["tags"]`` and fails with KeyError, so an
  ECS cluster (``ecs_cluster`` cannot tag one) could never be tagged.
"""

from __future__ import annotations

from typing import Any

from .gateway import AwsCall


def _tags_always(call: AwsCall, answer: dict[str, Any]) -> dict[str, Any]:
    return {**answer, "tags": answer.get("tags") or []}


def install(aws: Any) -> None:
    aws.gateway.on("ecs", "ListTagsForResource", after=_tags_always)
