# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Blue-green on ECS by two target groups: which one is live, and the listener actions that
move the traffic between them in steps.

A listener's (or rule's) forward action names its target groups with weights (a single
``TargetGroupArn`` is weight 1 of one group). The live group is the one with weight; the idle
one takes the new release, is checked through the test listener, then receives the traffic in
``steps`` (percentages of the traffic the idle group gets, ending at 100).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class BlueGreenError(Exception):
    """A listener that blue-green cannot read (no forward action, or foreign groups)."""


def forward_weights(actions: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """The target groups of the forward action among a listener's or rule's actions, with
    their weights (an action with a single ``TargetGroupArn`` weighs 1)."""
    for action in actions:
        if action.get("Type") != "forward":
            continue
        groups = (action.get("ForwardConfig") or {}).get("TargetGroups")
        if groups:
            return {g["TargetGroupArn"]: int(g.get("Weight", 1)) for g in groups}
        if action.get("TargetGroupArn"):
            return {action["TargetGroupArn"]: 1}
    raise BlueGreenError("the listener has no forward action to a target group")


def live_and_idle(weights: Mapping[str, int], blue: str, green: str) -> tuple[str, str]:
    """Which of the pair serves now (the one with weight; blue when neither or both have)."""
    unknown = sorted(set(weights) - {blue, green})
    if unknown:
        raise BlueGreenError(
            "the listener forwards to target groups that are not the blue-green pair: "
            + ", ".join(unknown)
        )
    if weights.get(green, 0) > 0 and weights.get(blue, 0) == 0:
        return green, blue
    return blue, green


def shift_plan(steps: Sequence[int]) -> list[int]:
    """The idle group's share at each step: the given percentages, ascending, each in 1..100,
    ending at 100 (added when missing)."""
    plan = sorted({int(step) for step in steps})
    if any(step < 1 or step > 100 for step in plan):
        raise ValueError(f"steps must be percentages from 1 to 100, got {list(steps)}")
    if not plan or plan[-1] != 100:
        plan.append(100)
    return plan


def forward_action(live: str, idle: str, idle_percent: int) -> list[dict[str, Any]]:
    """The listener's default actions that send ``idle_percent`` of the traffic to ``idle``
    and the rest to ``live`` (weights are percentages; stickiness off, so the shift is exact)."""
    return [
        {
            "Type": "forward",
            "ForwardConfig": {
                "TargetGroups": [
                    {"TargetGroupArn": live, "Weight": 100 - idle_percent},
                    {"TargetGroupArn": idle, "Weight": idle_percent},
                ],
                "TargetGroupStickinessConfig": {"Enabled": False},
            },
        }
    ]
