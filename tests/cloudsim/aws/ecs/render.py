"""moto's own JSON rendering of ECS answers, for the hooks that answer a call themselves, and
moto's errors as the gateway's :class:`AwsError`."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

from moto.core.exceptions import ServiceException
from moto.core.serialize import XFormedAttributePicker, get_serializer_class
from moto.core.utils import get_service_model

from ..gateway import Answer, AwsError


def render(operation: str, result: dict[str, Any]) -> Answer:
    """``result`` (moto objects and the engine's, as moto's responses return them) rendered by
    moto's serializer for the ECS ``operation``."""
    model = get_service_model("ecs")
    serializer = get_serializer_class("ecs", "json")(
        operation_model=model.operation_model(operation),
        pretty_print=False,
        value_picker=XFormedAttributePicker(),
    )
    body = serializer.serialize(result)["body"]
    data = json.loads(body or b"{}")
    return Answer.json(data)


@contextlib.contextmanager
def moto_errors() -> Iterator[None]:
    """moto's ECS exceptions, raised by its backend, as AWS error answers."""
    try:
        yield
    except ServiceException as exc:
        raise AwsError(str(exc.code), exc.message) from exc
