"""DescribeTargetHealth answered from the engine's truth, in the query protocol's XML.

A before hook answers it (moto never sees the call): moto's own answer lists only the
registered targets (a draining one has left its registrations) and calls every one healthy.
The shape is moto's template's (botocore parses it by the elbv2 service model).
"""

from __future__ import annotations

import uuid
from typing import Any
from xml.sax.saxutils import escape

from ..gateway import Answer
from .model import TargetGroup

NAMESPACE = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"


def asked_targets(params: dict[str, Any]) -> list[tuple[str, int | None]]:
    """The ``Targets.member.N.Id``/``.Port`` of the query, in order."""
    found = []
    number = 1
    while f"Targets.member.{number}.Id" in params:
        port = params.get(f"Targets.member.{number}.Port")
        found.append((params[f"Targets.member.{number}.Id"], int(port) if port else None))
        number += 1
    return found


def target_health_answer(engine: Any, group: TargetGroup, params: dict[str, Any]) -> Answer:
    asked = asked_targets(params)
    if asked:
        ports = dict(engine.health.targets(group.arn))
        targets = [(tid, port or ports.get(tid) or group.port) for tid, port in asked]
    else:
        targets = engine.health.targets(group.arn)
    members = []
    for target_id, port in targets:
        state, reason, description = engine.health.target_health((group.arn, target_id, port))
        check_port = str(port) if group.health.port == "traffic-port" else group.health.port
        health = f"<State>{state}</State>"
        if reason:
            health += f"<Reason>{escape(reason)}</Reason>"
            health += f"<Description>{escape(description or '')}</Description>"
        members.append(
            "<member>"
            f"<Target><Id>{escape(target_id)}</Id><Port>{port}</Port></Target>"
            f"<HealthCheckPort>{escape(check_port)}</HealthCheckPort>"
            f"<TargetHealth>{health}</TargetHealth>"
            "</member>"
        )
    xml = (
        f'<DescribeTargetHealthResponse xmlns="{NAMESPACE}">'
        "<DescribeTargetHealthResult><TargetHealthDescriptions>"
        + "".join(members)
        + "</TargetHealthDescriptions></DescribeTargetHealthResult>"
        f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
        "</DescribeTargetHealthResponse>"
    )
    return Answer(200, xml.encode(), [("Content-Type", "text/xml")])
