# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""``fly_deploy`` carried out: read the app's machines, plan (``deploy_plan``), lease what
will change, run the release command, apply the strategy, put things back on failure.

- rolling / canary / immediate update machines in place, in batches (``max_unavailable``;
  immediate: one batch, and it does not wait for checks). Each update is waited for by its new
  ``instance_id``, then its checks. A canary deploy updates one machine first and judges its
  traffic (``canary_metrics``) before the rest. Machines missing to reach ``count`` are
  created first (a canary's machine is one that serves). On a failure every machine already
  changed is put back to the config it had (machines it created are destroyed); a request Fly
  refused (400, 422: a region, image or config it does not take) changed nothing and is not
  undone.
- bluegreen creates green machines outside the proxy's routing, waits until they are started
  and pass their checks, uncordons them (now they take traffic), cordons the blue machines
  (no new traffic), then stops and destroys them. Until every blue is cordoned a failure
  destroys the greens and uncordons the blues: blue keeps serving and no machine is left
  behind. Once the switch is made the new release serves; a failure while the blues are
  stopped and destroyed is reported, and a rerun removes what is left.
- Leases are released in a ``finally``, whatever happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError
from ansible_collections.sigma.deploy.plugins.module_utils.fly import canary_metrics as cm
from ansible_collections.sigma.deploy.plugins.module_utils.fly import deploy_plan as dp
from ansible_collections.sigma.deploy.plugins.module_utils.fly.client import VENDOR
from ansible_collections.sigma.deploy.plugins.module_utils.fly.deploy_ops import (
    MachineGone,
    Machines,
    refused,
)
from ansible_collections.sigma.deploy.plugins.module_utils.fly.leases import LeaseHeld, Leases
from ansible_collections.sigma.deploy.plugins.module_utils.fly.release_command import (
    run_release_command,
)


@dataclass
class Change:
    """One machine changed in place (``old`` is its config before) or created (``old`` None)."""

    mid: str
    old: dict | None
    was_started: bool = True


class Deploy:
    """One run of ``fly_deploy``. ``params`` are the module's; ``hooks`` are called with each
    step as it is logged (tests use them to act between steps)."""

    def __init__(self, client, params: dict[str, Any], hooks=(), prometheus=None) -> None:
        self.client = client
        self.params = params
        self.app = params["app"]
        self.image = params["image"]
        self.release_id = params["release_id"]
        self.template = params.get("config") or {}
        self.hooks = list(hooks)
        self.prometheus = prometheus
        self.steps: list[str] = []
        self.timings: dict[str, float] = {}
        self.canary: dict[str, Any] | None = None
        self.started = client.clock()
        self.calls_before = client.api_calls  # a client may serve several runs
        self.leases = Leases(
            client,
            self.app,
            params.get("lease_ttl") or 120,
            f"sigma.deploy fly_deploy {self.release_id}",
            self.log,
        )
        self.ops = Machines(
            client, self.app, self.leases, self.log, params.get("wait_timeout") or 300
        )
        self.before: list[dict[str, Any]] = []
        self.org: str | None = None

    # --- steps and timings ------------------------------------------------------------------
    def log(self, text: str) -> None:
        self.steps.append(text)
        for hook in self.hooks:
            hook(text)

    def _timed(self, name: str, since: float) -> float:
        now = self.client.clock()
        self.timings[name] = round(now - since, 3)
        return now

    # --- the run ----------------------------------------------------------------------------
    def plan(self) -> dp.Plan:
        app = self.client.get_app(self.app)
        if app is None:
            raise ApiError(VENDOR, 404, "not_found", f"app {self.app} not found", "app")
        self.org = ((app.get("organization") or {}).get("slug")) or None
        self.before = self.client.list_machines(self.app)
        plan = dp.plan(
            self.before,
            self.image,
            self.release_id,
            self.params["strategy"],
            self.params.get("count"),
            self.params.get("region"),
        )
        config = dp.machine_config(self.template, self.image, self.release_id)
        if plan.strategy == "bluegreen" and plan.create and not dp.has_checks(config):
            raise ApiError.refusal(
                "strategy=bluegreen needs a health check in config.checks or in "
                "config.services[].checks: green machines take traffic only once they pass one"
            )
        return plan

    def apply(self, plan: dp.Plan) -> None:
        """Carry the plan out (not in check mode); leases are released whatever happens."""
        mark = self.client.clock()
        try:
            try:
                self.leases.acquire_all(list(plan.update) + list(plan.destroy))
            except LeaseHeld as err:
                err.message += "; nothing was changed"
                raise
            mark = self._timed("leases", mark)
            if self.params.get("release_command"):
                run_release_command(
                    self.ops,
                    self.template,
                    self.image,
                    self.release_id,
                    self.params["release_command"],
                    plan.region,
                )
                mark = self._timed("release_command", mark)
            if plan.strategy == "bluegreen":
                self.bluegreen(plan)
            else:
                self.in_place(plan)
            self._timed("deploy", mark)
        finally:
            held = self.leases.ids()
            self.leases.release_all()
            if held:
                self.log(f"released the leases on {held}")

    def machines_now(self) -> list[dict[str, Any]]:
        return [dp.shape_machine(m) for m in dp.app_machines(self.client.list_machines(self.app))]

    # --- in place: rolling, canary, immediate ---------------------------------------------
    def in_place(self, plan: dp.Plan) -> None:
        # New machines first (a canary excepted: it is a machine that serves): a region,
        # image or config Fly refuses stops the deploy before any machine that serves changed.
        if plan.strategy == "canary":
            units: list[str | None] = list(plan.update) + [None] * plan.create
        else:
            units = [None] * plan.create + list(plan.update)
        size = dp.batch_size(len(units), self.params.get("max_unavailable") or 1)
        if plan.strategy == "immediate":
            groups = [units] if units else []
        elif plan.strategy == "canary" and units:
            groups = [units[:1], *dp.batches(units[1:], size)]
        else:
            groups = dp.batches(units, size)
        done: list[Change] = []
        try:
            for number, group in enumerate(groups):
                self.log(f"batch {number + 1} of {len(groups)}: {len(group)} machine(s)")
                changed = self._apply_batch(group, done, plan)
                if plan.strategy == "canary" and number == 0:
                    self.canary_gate(changed[0])
        except BaseException as err:
            self._roll_back(done, err)
            raise
        self._retire(plan.destroy)

    def _apply_batch(self, group, done: list[Change], plan: dp.Plan) -> list[str]:
        by_id = {m["id"]: m for m in self.before}
        pending: list[tuple[str, str | None]] = []
        updates: list[Change] = []
        for mid in group:
            if mid is None:
                config = dp.machine_config(self.template, self.image, self.release_id)
                machine = self.ops.create(config, plan.region, register=True)
                done.append(Change(machine["id"], None))
                pending.append((machine["id"], machine.get("instance_id")))
            else:
                old = dict(by_id[mid].get("config") or {})
                updates.append(Change(mid, old, by_id[mid].get("state") == "started"))
        pending += self._update(updates, done, drain=plan.strategy != "immediate")
        for mid, instance in pending:
            self.ops.wait_state(mid, "started", instance)
        if plan.strategy != "immediate":
            for mid, instance in pending:
                machine = self.ops.wait_healthy(mid, instance)
                if machine.get("cordoned"):
                    self.ops.uncordon(mid)
        return [pair[0] for pair in pending]

    def _update(
        self, updates: list[Change], done: list[Change], drain: bool
    ) -> list[tuple[str, str | None]]:
        """Update machines in place; returns (id, new instance id) of each. With ``drain``,
        the started ones are cordoned first and Fly's proxy is given ``settle_s`` to stop
        routing to them, so the update's stop meets no request."""
        draining = [c.mid for c in updates if drain and c.was_started]
        pending = []
        touched = self.ops.touched
        try:
            for mid in draining:
                self.ops.cordon(mid)
            if draining:
                self._settle(f"the proxy stops routing to {', '.join(draining)}")
            for change in updates:
                config = dp.machine_config(
                    self.template, self.image, self.release_id, base=change.old
                )
                try:
                    machine = self.ops.update(change.mid, config)
                except ApiError as err:
                    if not refused(err):  # it may have changed: put it back
                        done.append(change)
                    raise
                done.append(change)
                pending.append((machine["id"], machine.get("instance_id")))
        except BaseException:
            # Drained but not changed: back into the proxy's routing (a changed one is put
            # back, and uncordoned, by _roll_back).
            changed = {c.mid for c in done}
            restored = True
            for mid in draining:
                if mid not in changed:
                    try:
                        self.ops.uncordon(mid)
                    except ApiError:
                        restored = False
            if restored and not changed & {c.mid for c in updates}:
                self.ops.touched = touched  # cordoned and uncordoned: as they were
            raise
        return pending

    def _put_back(self, change: Change) -> dict[str, Any]:
        """Update a machine to its previous config. An update of ours that did not answer in
        time may still be at work on it (Fly: 409, the machine is replacing): once it has
        ended, the machine is put back."""
        try:
            return self.ops.update(change.mid, change.old)
        except ApiError as err:
            if err.status != 409 or isinstance(err, MachineGone):
                raise
            self.log(f"{change.mid} is still changing: putting it back once that has ended")
            self.ops.wait_state(change.mid, "started")
            return self.ops.update(change.mid, change.old)

    def _roll_back(self, done: list[Change], err: BaseException) -> None:
        """Put every changed machine back (newest change first); say so in ``err``."""
        if not done:
            return
        back, gone, problems = [], [], []
        for change in reversed(done):
            try:
                if change.old is None:
                    self.ops.destroy(change.mid, wait=True)
                    gone.append(change.mid)
                    continue
                machine = self._put_back(change)
                if change.was_started:
                    self.ops.wait_state(change.mid, "started", machine.get("instance_id"))
                    self.ops.wait_healthy(change.mid, machine.get("instance_id"))
                    self.ops.uncordon(change.mid)  # drained before its update
                back.append(change.mid)
            except ApiError as problem:
                problems.append(f"{change.mid}: {problem}")
        parts = []
        if back:
            parts.append(f"put back to the previous release: {', '.join(back)}")
        if gone:
            parts.append(f"new machines destroyed: {', '.join(gone)}")
        if problems:
            parts.append(f"could not put back {'; '.join(problems)}")
        note = "rolled back (" + "; ".join(parts) + ")"
        self.log(note)
        if isinstance(err, ApiError):
            err.message += f"; {note}"

    # --- bluegreen ------------------------------------------------------------------------
    def bluegreen(self, plan: dp.Plan) -> None:
        greens: list[dict[str, Any]] = []
        cordoned: list[str] = []
        try:
            config = dp.machine_config(self.template, self.image, self.release_id)
            for _n in range(plan.create):
                greens.append(self.ops.create(config, plan.region, register=False))
            for green in greens:
                self.ops.wait_state(green["id"], "started", green.get("instance_id"))
            for green in greens:
                self.ops.wait_healthy(green["id"], green.get("instance_id"))
            for green in greens:
                self.ops.uncordon(green["id"])
            # Fly's proxy learns of the greens within seconds: blue serves until then.
            self._settle("the proxy routes to the green machines")
            for blue in plan.destroy:
                if self._present(self.ops.cordon, blue):
                    cordoned.append(blue)
        except BaseException as err:
            self._undo_green(greens, cordoned, err)
            raise
        self.log(f"switched: {len(greens) + len(plan.keep)} machine(s) of {self.release_id} serve")
        if cordoned:  # the requests blue already has end before it is stopped
            self._settle("the proxy stops routing to the blue machines")
        self._retire(cordoned, cordon=False)

    def _undo_green(self, greens, cordoned: list[str], err: BaseException) -> None:
        problems = []
        for blue in cordoned:
            try:
                self._present(self.ops.uncordon, blue)
            except ApiError as problem:
                problems.append(f"uncordon {blue}: {problem}")
        for green in greens:
            try:
                self.ops.destroy(green["id"], wait=True)
            except ApiError as problem:
                problems.append(f"destroy {green['id']}: {problem}")
        note = f"rolled back: {len(greens)} green machine(s) destroyed, the blue ones serve"
        if problems:
            note += f" (but: {'; '.join(problems)})"
        self.log(note)
        if isinstance(err, ApiError):
            err.message += f"; {note}"

    # --- retiring machines ----------------------------------------------------------------
    def _present(self, action, mid: str) -> bool:
        """``action(mid)``; False when the machine is gone (destroyed by someone else)."""
        try:
            action(mid)
        except MachineGone:
            self.leases.forget(mid)
            self.log(f"{mid} is gone")
            return False
        return True

    def _retire(self, mids, cordon: bool = True) -> None:
        """Cordon, stop and destroy machines that no longer serve the release."""
        if not mids:
            return
        try:
            left = [m for m in mids if not cordon or self._present(self.ops.cordon, m)]
            left = [m for m in left if self._present(self.ops.stop, m)]
            left = [
                m for m in left if self._present(lambda m: self.ops.wait_state(m, "stopped"), m)
            ]
            for mid in left:
                self.ops.destroy(mid)
        except ApiError as err:
            err.message = (
                f"the new release serves, but removing the old machines failed: {err.message}; "
                "a rerun removes them"
            )
            raise

    # --- the canary gate ------------------------------------------------------------------
    def canary_gate(self, mid: str) -> None:
        limits = dict(
            cm.DEFAULTS,
            **{k: v for k, v in (self.params.get("canary") or {}).items() if v is not None},
        )
        window = int(limits["window_s"])
        self.log(f"canary {mid}: waiting {window}s for its traffic")
        self._pause(window)
        self.log(f"canary {mid}: reading its numbers of the last {window}s")
        prometheus = self.prometheus or cm.PrometheusClient(
            cm.metrics_url(limits["metrics_url"], self.org),
            self.params["api_token"],
            ca_path=self.params.get("ca_path"),
            timeout=self.params.get("timeout") or 30.0,
        )
        self.prometheus = prometheus
        passed, message, stats = cm.judge_canary(prometheus, self.app, mid, limits)
        self.canary = {"machine_id": mid, "passed": passed, "message": message, "stats": stats}
        self.log(message)
        if not passed:
            raise ApiError(VENDOR, None, "canary_failed", message, "canary")

    def _settle(self, what: str) -> None:
        """Wait ``settle_s`` for Fly's proxy to apply a routing change (flyctl waits 10 s)."""
        seconds = self.params.get("settle_s") or 0
        if seconds > 0:
            self.log(f"waiting {seconds:g} s until {what}")
            self._pause(seconds)

    def _pause(self, seconds: float) -> None:
        """Sleep ``seconds``, keeping the leases."""
        end = self.client.clock() + seconds
        while True:
            self.leases.keep()
            left = end - self.client.clock()
            if left <= 0:
                return
            self.client.sleep(min(left, max(1.0, self.leases.ttl_s / 3)))

    @property
    def api_calls(self) -> int:
        extra = getattr(self.prometheus, "api_calls", 0) if self.prometheus else 0
        return self.client.api_calls - self.calls_before + extra
