# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The pure half of ``fly_deploy``: what a machine of a release looks like, what a machine
says about itself, and what a deploy has to do to an app's machines (:func:`plan`).

Nothing here calls the API; ``deploy_run`` carries the plan out. Everything is tested by
equality on plain data.

A machine of a release carries two metadata keys: ``fly_process_group: app`` (the process
group, as flyctl writes it) and ``sigma_release: <release id>``. A machine is *current* when
its image and release are the target's, it is healthy (started, and every check it reports
passing; a machine whose config has no checks is healthy once started) and not cordoned.
"""

from __future__ import annotations

import copy
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

GROUP_KEY = "fly_process_group"
RELEASE_KEY = "sigma_release"
APP_GROUP = "app"
RELEASE_COMMAND_GROUP = "fly_app_release_command"  # the name flyctl gives these machines
STRATEGIES = ("rolling", "bluegreen", "canary", "immediate")
TEMPLATE_KEYS = ("env", "guest", "services", "checks", "restart", "init", "metadata")
GONE_STATES = ("destroying", "destroyed")


# --- configs --------------------------------------------------------------------------------


def release_metadata(release_id: str, group: str = APP_GROUP) -> dict[str, str]:
    return {GROUP_KEY: group, RELEASE_KEY: release_id}


def machine_config(
    template: Mapping[str, Any], image: str, release_id: str, base: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The config of a machine of the release: ``base`` (a machine's config now, for an
    update in place, so what the template does not name - mounts, for one - stays), the
    template's keys over it, the image, and the release's metadata over the template's."""
    config = copy.deepcopy(dict(base or {}))
    for key in TEMPLATE_KEYS:
        if key in template and template[key] is not None:
            config[key] = copy.deepcopy(template[key])
    config["image"] = image
    metadata = dict(config.get("metadata") or {})
    metadata.update(release_metadata(release_id))
    config["metadata"] = metadata
    return config


def release_command_config(
    template: Mapping[str, Any], image: str, release_id: str, command: Sequence[str]
) -> dict[str, Any]:
    """The config of the temporary machine that runs the release command once: the release's
    image, env and guest, the command, no services and no checks, never restarted, destroyed
    by Fly when it exits."""
    config: dict[str, Any] = {
        "image": image,
        "init": {"cmd": list(command)},
        "restart": {"policy": "no"},
        "auto_destroy": True,
        "metadata": release_metadata(release_id, RELEASE_COMMAND_GROUP),
    }
    for key in ("env", "guest"):
        if template.get(key):
            config[key] = copy.deepcopy(template[key])
    return config


def has_checks(config: Mapping[str, Any]) -> bool:
    """Whether a config defines a health check (top-level or in a service)."""
    if config.get("checks"):
        return True
    return any(service.get("checks") for service in config.get("services") or [])


# --- reading machines -----------------------------------------------------------------------


def config_of(machine: Mapping[str, Any]) -> Mapping[str, Any]:
    return machine.get("config") or {}


def image_of(machine: Mapping[str, Any]) -> str | None:
    return config_of(machine).get("image")


def metadata_of(machine: Mapping[str, Any]) -> Mapping[str, Any]:
    return config_of(machine).get("metadata") or {}


def release_of(machine: Mapping[str, Any]) -> str | None:
    return metadata_of(machine).get(RELEASE_KEY)


def is_app_machine(machine: Mapping[str, Any]) -> bool:
    """A live machine of the app's process group (a machine without a group is one, as for
    flyctl); release command machines and destroyed machines are not."""
    group = metadata_of(machine).get(GROUP_KEY) or APP_GROUP
    return group == APP_GROUP and machine.get("state") not in GONE_STATES


def app_machines(machines: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The app's machines, by id."""
    return sorted((m for m in machines if is_app_machine(m)), key=lambda m: m["id"])


def checks_passing(machine: Mapping[str, Any]) -> bool:
    """Every check the machine reports passes; a machine with checks in its config that
    reports none yet is not passing."""
    reported = machine.get("checks") or []
    if not reported:
        return not has_checks(config_of(machine))
    return all(check.get("status") == "passing" for check in reported)


def is_healthy(machine: Mapping[str, Any]) -> bool:
    return machine.get("state") == "started" and checks_passing(machine)


def on_release(machine: Mapping[str, Any], image: str, release_id: str) -> bool:
    return image_of(machine) == image and release_of(machine) == release_id


def is_current(machine: Mapping[str, Any], image: str, release_id: str) -> bool:
    """On the release, healthy and not cordoned: it serves the release."""
    serving = is_healthy(machine) and not machine.get("cordoned")
    return on_release(machine, image, release_id) and serving


def shape_machine(machine: Mapping[str, Any]) -> dict[str, Any]:
    """A machine as the module returns it."""
    return {
        "id": machine.get("id"),
        "region": machine.get("region"),
        "state": machine.get("state"),
        "image": image_of(machine),
        "release_id": release_of(machine),
    }


def serving_release(machines: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """What the app serves: the release and image of most of its started machines (of all
    its machines when none is started; ties go to the lowest machine id); None for an app
    without machines."""
    mine = app_machines(machines)
    started = [m for m in mine if m.get("state") == "started"] or mine
    if not started:
        return None
    votes = Counter((release_of(m), image_of(m)) for m in started)
    best = max(votes.values())
    for machine in started:
        key = (release_of(machine), image_of(machine))
        if votes[key] == best:
            return {"release_id": key[0], "image": key[1]}
    return None  # pragma: no cover - started is not empty


# --- batches --------------------------------------------------------------------------------


def batch_size(total: int, max_unavailable: float) -> int:
    """How many machines one batch of a rolling deploy takes: ``max_unavailable`` itself when
    it is 1 or more, else that fraction of ``total`` rounded up (at least 1)."""
    if max_unavailable >= 1:
        return int(max_unavailable)
    if max_unavailable <= 0:
        raise ValueError("max_unavailable must be above 0")
    return max(1, math.ceil(total * max_unavailable))


def batches(items: Sequence[Any], size: int) -> list[list[Any]]:
    return [list(items[start : start + size]) for start in range(0, len(items), size)]


# --- the plan -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What a deploy does to the app's machines.

    ``keep``: current machines, left alone. ``update``: machines updated in place, in this
    order (rolling, canary, immediate; a canary deploy's canary comes first). ``create``: how
    many new machines. ``destroy``: machines removed once the new ones serve (bluegreen's blue
    machines; the extra machines when ``count`` shrinks).
    """

    strategy: str
    count: int
    keep: tuple[str, ...] = ()
    update: tuple[str, ...] = ()
    create: int = 0
    destroy: tuple[str, ...] = ()
    region: str | None = None

    @property
    def changed(self) -> bool:
        return bool(self.update or self.create or self.destroy)

    def as_dict(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "count": self.count,
            "keep": list(self.keep),
            "update": list(self.update),
            "create": self.create,
            "destroy": list(self.destroy),
            "region": self.region,
        }


def _update_order(outdated: Sequence[Mapping[str, Any]]) -> list[str]:
    """Started machines first (the canary is a machine that serves), then by id."""
    started = [m["id"] for m in outdated if m.get("state") == "started"]
    others = [m["id"] for m in outdated if m.get("state") != "started"]
    return started + others


def plan(
    machines: Sequence[Mapping[str, Any]],
    image: str,
    release_id: str,
    strategy: str,
    count: int | None = None,
    region: str | None = None,
) -> Plan:
    """What a deploy of ``image`` as ``release_id`` does to these machines (the app's list).

    ``count`` defaults to the number of app machines now (at least 1). Current machines are
    kept, up to ``count``. Bluegreen creates the rest and destroys every other machine. The
    other strategies update machines in place (those on another release, or unhealthy), create
    what is still missing and destroy what is over ``count`` (outdated machines first).
    ``region`` defaults to the region of the first app machine.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
    mine = app_machines(machines)
    target = count if count is not None else max(1, len(mine))
    if target < 1:
        raise ValueError(f"count must be at least 1, got {target}")
    region = region or next((m.get("region") for m in mine if m.get("region")), None)
    current = [m["id"] for m in mine if is_current(m, image, release_id)]
    outdated = [m for m in mine if m["id"] not in current]
    keep = current[:target]
    surplus = current[target:]
    if strategy == "bluegreen":
        return Plan(
            strategy,
            target,
            keep=tuple(keep),
            create=target - len(keep),
            destroy=tuple([m["id"] for m in outdated] + surplus),
            region=region,
        )
    ordered = _update_order(outdated)
    room = target - len(keep)
    update = ordered[:room]
    return Plan(
        strategy,
        target,
        keep=tuple(keep),
        update=tuple(update),
        create=room - len(update),
        destroy=tuple(ordered[room:] + surplus),
        region=region,
    )


def diff(
    plan_: Plan, previous: Mapping[str, Any] | None, image: str, release_id: str, now: int
) -> dict[str, Any]:
    """The before/after a diff shows: release, image and number of machines."""
    previous = previous or {}
    return {
        "before": {
            "release_id": previous.get("release_id"),
            "image": previous.get("image"),
            "count": now,
        },
        "after": {"release_id": release_id, "image": image, "count": plan_.count},
    }
