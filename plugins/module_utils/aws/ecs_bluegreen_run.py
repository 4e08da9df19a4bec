# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The run of ``ecs_deploy`` with ``strategy: bluegreen``: two services, each in one of two
target groups; the production listener's (or rule's) forward action says which is live.

The idle service gets the release (made as a copy of the live one when it does not exist),
is checked through the test listener, then takes the production traffic step by step, each
step judged by the idle group's CloudWatch numbers as the VPS canary judges its steps. Until
the last step a failure switches nothing: production goes back to (or stays at) 100 % on the
live group, the test listener gets its actions back and the idle service is scaled to 0.
The decisions are ``ecs_bluegreen_plan``'s; the ECS steps (task definition, migration, wait)
are ``EcsDeploy``'s.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from ansible_collections.sigma.deploy.plugins.module_utils.aws import alb_metrics
from ansible_collections.sigma.deploy.plugins.module_utils.aws import bluegreen as bg
from ansible_collections.sigma.deploy.plugins.module_utils.aws import ecs_bluegreen_plan as plan
from ansible_collections.sigma.deploy.plugins.module_utils.aws import ecs_taskdef as td
from ansible_collections.sigma.deploy.plugins.module_utils.aws import ecs_verdict as ev
from ansible_collections.sigma.deploy.plugins.module_utils.aws.ecs_bluegreen_read import (
    group_name,
    read_pair,
    shape_start,
)
from ansible_collections.sigma.deploy.plugins.module_utils.aws.ecs_deploy_run import (
    EcsDeploy,
    check_params,
)
from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError
from ansible_collections.sigma.deploy.plugins.module_utils.client.waiter import Deadline
from ansible_collections.sigma.deploy.plugins.module_utils.deploy.canary import judge_step
from ansible_collections.sigma.deploy.plugins.module_utils.deploy.http_check import (
    HttpCheckError,
    failure_message,
    run_checks,
    validate,
)

TEST_TIMEOUT = 10.0  # seconds one request through the test listener may take
TEST_INTERVAL = 1.0  # seconds between two rounds of the failed checks


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class EcsBlueGreen(EcsDeploy):
    """One blue-green run; ``result`` holds what it did, also when it raises."""

    def __init__(self, client, elb, cloudwatch, params, check_mode=False, clock=None, sleep=None,
                 wall=None) -> None:  # fmt: skip
        super().__init__(client, params, check_mode, clock, sleep)
        self.elb = elb
        self.cloudwatch = cloudwatch
        self.wall = wall or utc_now
        self.settings: dict[str, Any] = {}
        self.seen: dict[str, Any] = {}
        self.test_moved = False

    @property
    def api_calls(self) -> int:
        return self.client.calls + self.elb.calls + self.cloudwatch.calls

    # --- the run -----------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        self.settings = plan.settings(self.params)
        release_id = check_params(self.params)
        self.deadline = Deadline(self.params["wait_timeout"], self.clock)
        began = self.clock()
        seen = self.seen = read_pair(self.client, self.elb, self.params, self.settings, release_id)
        action = plan.choose(seen)
        self.describe(seen, action, release_id)
        bgr = self.result["deployment"]["bluegreen"]
        checks: list[dict[str, Any]] = []
        if action not in (plan.NONE, plan.FINISH):
            checks = self.prepare_checks(seen)
        wanted = None
        if action == plan.DEPLOY:
            wanted = td.release_task_definition(
                seen["live_taskdef"], self.params["image"], release_id, seen["names"],
                self.params.get("environment"),
            )  # fmt: skip
            self.result["task_definition"] = wanted
        self.changed = action != plan.NONE
        try:
            if self.check_mode:
                self.steps.append(f"check mode: would {action}")
            elif action == plan.NONE:
                self.steps.append(
                    f"release {release_id} serves from {group_name(seen['live_group'])} (100 %)"
                )
            elif action == plan.FINISH:
                self.finish(seen["live_name"], seen["idle_name"], hold=False)
            else:
                self.release(action, wanted, release_id)
                self.test(checks)
                self.shift()
                bgr["serving_target_group"] = seen["idle_group"]
                self.finish(seen["idle_name"], seen["live_name"], hold=True)
        finally:
            bgr["timings"]["total_s"] = round(self.clock() - began, 3)
        return self.result

    def describe(self, seen: Mapping[str, Any], action: str, release_id: str) -> None:
        """The result before anything changes: what serves, what gets the release, the plan."""
        deployment, diff = shape_start(
            seen, action, release_id, self.params["image"], self.settings["plan"]
        )
        self.result.update(deployment=deployment, diff=diff)
        if deployment["deployment_id"]:
            done = action in (plan.NONE, plan.FINISH)
            self.observe(seen["live"] if done else seen["idle"], deployment["deployment_id"])

    # --- the idle service gets the release ----------------------------------------------------
    def release(self, action: str, wanted: Any, release_id: str) -> None:
        seen, deployment = self.seen, self.result["deployment"]
        cluster, name = seen["live"]["clusterArn"], seen["idle_name"]
        arn = (seen["idle"] or {}).get("taskDefinition")
        if action == plan.DEPLOY:
            try:
                arn = self.client.register_task_definition(wanted)["taskDefinitionArn"]
            except ApiError:
                self.changed = False
                raise
            deployment["task_definition_arn"] = arn
            self.steps.append(f"registered task definition {ev.short_arn(arn)}")
        if self.params.get("migrate") and action in (plan.DEPLOY, plan.REDEPLOY):
            try:
                self.migrate(seen["live"], arn, seen["names"][0], release_id)
            except ApiError:
                self.changed = False
                if action == plan.DEPLOY:
                    self.forget(arn)
                    deployment["task_definition_arn"] = None
                raise
        if seen["idle_weight"] > 0:
            # An earlier shift stopped half-way: the idle service is changed only once it takes
            # no production traffic, and the shift starts again from its first step.
            self.set_production(0)
            self.steps.append(
                f"production: back to 100 % on {group_name(seen['live_group'])} (an earlier "
                f"shift had stopped at {seen['idle_weight']} of {sum(seen['weights'].values())})"
            )
        if action == plan.SHIFT:
            self.steps.append(f"service {name} runs the release already (COMPLETED)")
            return
        idle = seen["idle"]
        if idle is None:
            copy = plan.idle_service_input(
                seen["live"], name, seen["live_group"], seen["idle_group"]
            )
            idle = self.client.create_service(**copy)
            self.steps.append(f"created service {name}: a copy of {seen['live_name']}, 0 tasks")
        before = (ev.primary_deployment(idle) or {}).get("id")
        updated = self.client.update_service(
            cluster=cluster, service=name, taskDefinition=arn,
            desiredCount=seen["live"].get("desiredCount", 1),
            deploymentConfiguration=seen["config"], forceNewDeployment=action == plan.REDEPLOY,
        )  # fmt: skip
        ours = ev.primary_deployment(updated) or {}
        if ours.get("taskDefinition") != arn or ours.get("id") == before:
            self.undo("ECS made no deployment to follow")
            raise ApiError(
                None, None, None,
                f"ECS updated service {name} but reports no new PRIMARY deployment of "
                f"{ev.short_arn(arn)}: the deployment cannot be followed; production traffic "
                "was not moved",
            )  # fmt: skip
        deployment["deployment_id"] = ours["id"]
        self.steps.append(
            f"service {name} updated: deployment {ours['id']}, "
            f"{seen['live'].get('desiredCount')} tasks"
        )
        self.observe(updated, ours["id"])
        try:
            self.wait(ours["id"], name)
        except ApiError as err:
            self.undo("its deployment did not complete")
            err.message += "; production traffic was not moved"
            raise
        finally:
            deployment["bluegreen"]["timings"]["deploy_s"] = deployment["waited_s"]

    # --- the test listener --------------------------------------------------------------------
    def prepare_checks(self, seen: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The checks through the test listener, validated before anything changes."""
        url = self.settings.get("test_url")
        if not url:
            balancer = self.elb.load_balancer(seen["test"]["LoadBalancerArn"])
            url = plan.default_test_url(balancer, seen["test"])
        self.result["deployment"]["bluegreen"]["test_url"] = url
        checks = plan.test_checks(
            self.settings.get("test_checks"), url, seen["idle_tg"].get("HealthCheckPath")
        )
        try:
            return validate(
                checks, TEST_TIMEOUT, self.settings["test_wait"], TEST_INTERVAL,
                field="bluegreen.test_checks",
            )  # fmt: skip
        except HttpCheckError as err:
            raise ApiError.refusal(f"{err} (bluegreen.test_url is {url})") from None

    def test(self, checks: list[dict[str, Any]]) -> None:
        seen = self.seen
        bgr = self.result["deployment"]["bluegreen"]
        idle_name = group_name(seen["idle_group"])
        if not plan.forwards_only_to(seen["test_weights"], seen["idle_group"]):
            self.elb.set_listener_actions(
                seen["test"]["ListenerArn"],
                bg.forward_action(seen["live_group"], seen["idle_group"], 100),
                "bluegreen.test_listener_arn",
            )
            self.test_moved = True
            self.steps.append(f"test listener: 100 % to {idle_name}")
        started = self.clock()
        results = run_checks(checks, TEST_TIMEOUT, True, self.settings["test_wait"], TEST_INTERVAL)
        bgr["timings"]["test_s"] = round(self.clock() - started, 3)
        bgr["test_checks"] = results
        problem = failure_message(results)
        if problem is None:
            self.steps.append(f"{len(results)} checks passed through the test listener")
            return
        self.steps.append(f"through the test listener: {problem}")
        self.undo("it failed its checks")
        raise ApiError(
            None, None, None,
            f"the release failed its checks through the test listener ({bgr['test_url']}): "
            f"{problem}; production traffic was not moved",
            "bluegreen.test_checks",
        )  # fmt: skip

    # --- production traffic -------------------------------------------------------------------
    def set_production(self, percent: int) -> None:
        seen = self.seen
        actions = bg.forward_action(seen["live_group"], seen["idle_group"], percent)
        if self.settings.get("rule_arn"):
            self.elb.set_rule_actions(self.settings["rule_arn"], actions)
        else:
            self.elb.set_listener_actions(
                self.settings["listener_arn"], actions, "bluegreen.listener_arn"
            )

    def shift(self) -> None:
        seen, settings = self.seen, self.settings
        bgr = self.result["deployment"]["bluegreen"]
        idle, live = group_name(seen["idle_group"]), group_name(seen["live_group"])
        started = self.clock()
        moved = False
        try:
            for percent in settings["plan"]:
                self.set_production(percent)
                moved = True
                at = self.wall()
                step: dict[str, Any] = {"percent": percent, "at": at.isoformat(),
                                        "window_s": None, "stats": None, "passed": None,
                                        "message": ""}  # fmt: skip
                bgr["shifts"].append(step)
                self.steps.append(f"production: {percent} % to {idle}")
                if percent == 100:
                    break
                self.sleep(settings["step_seconds"])
                self.judge(step, at)
                self.steps.append(step["message"])
                if not step["passed"]:
                    raise ApiError(None, None, "canary_failed", step["message"], "canary")
        except ApiError as err:
            # Reached only before the last step: the loop ends at 100 % with nothing after it.
            if moved:
                self.move_back(err, live)
            else:
                self.undo("the shift failed")
            raise
        finally:
            bgr["timings"]["shift_s"] = round(self.clock() - started, 3)

    def judge(self, step: dict[str, Any], at: datetime.datetime) -> None:
        """The idle group's numbers since ``at`` against the canary limits."""
        seen, limits = self.seen, self.params.get("canary") or {}
        first, last = plan.metric_window(at, self.wall())
        queries = alb_metrics.metric_queries(
            seen["listener"]["LoadBalancerArn"], seen["idle_group"],
            self.settings["metric_period"],
        )  # fmt: skip
        stats = alb_metrics.window_stats(self.cloudwatch.metric_data(queries, first, last))
        window = int((last - first).total_seconds())
        passed, message = judge_step(
            stats, float(limits["max_error_rate"]), float(limits["max_p95_ms"]),
            int(limits["min_requests"]),
            name=f"{group_name(seen['idle_group'])} at {step['percent']} % over {window}s",
        )  # fmt: skip
        step.update(window_s=window, stats=stats, passed=passed, message=message)

    def move_back(self, err: ApiError, live: str) -> None:
        """Production back to 100 % on the live group after a failure during the shift."""
        try:
            self.set_production(0)
        except ApiError as again:
            err.message += f"; moving production back to {live} FAILED: {again}"
            return
        self.steps.append(f"production: back to 100 % on {live}")
        self.undo("the shift failed")
        err.message += f"; production traffic is back on {live} (100 %)"

    # --- after the shift, and after a failure -------------------------------------------------
    def finish(self, serving: str, old: str, hold: bool) -> None:
        """The test listener on the serving group; the old service to 0 tasks, after
        ``hold_seconds``, unless ``keep_old``."""
        seen, settings = self.seen, self.settings
        bgr = self.result["deployment"]["bluegreen"]
        group = seen["groups_by_service"][serving]
        other = seen["groups_by_service"][old]
        try:
            if not self.test_moved and not plan.forwards_only_to(seen["test_weights"], group):
                self.elb.set_listener_actions(
                    seen["test"]["ListenerArn"], bg.forward_action(other, group, 100),
                    "bluegreen.test_listener_arn",
                )  # fmt: skip
                self.steps.append(f"test listener: 100 % to {group_name(group)}")
            old_service = seen["services"].get(old)
            if settings["keep_old"] or not old_service:
                bgr["scaled_to_zero"] = False
                return
            if hold and settings["hold_seconds"]:
                self.steps.append(f"holding {old} for {settings['hold_seconds']:g}s")
                self.sleep(settings["hold_seconds"])
            if hold or old_service.get("desiredCount"):
                self.client.update_service(
                    cluster=seen["live"]["clusterArn"], service=old, desiredCount=0
                )
                self.steps.append(f"service {old} scaled to 0 tasks (ECS drains its targets)")
            bgr["scaled_to_zero"] = True
        except ApiError as err:
            err.message = (
                f"the release serves (100 % on {group_name(group)}), but finishing failed: "
                f"{err.message}; a rerun finishes"
            )
            raise

    def undo(self, why: str) -> None:
        """After a failure before the switch: the test listener's actions back, the idle
        service to 0 tasks. Their own failures are noted, not raised."""
        seen = self.seen
        if self.test_moved:
            try:
                self.elb.set_listener_actions(
                    seen["test"]["ListenerArn"], seen["test"]["DefaultActions"],
                    "bluegreen.test_listener_arn",
                )  # fmt: skip
                self.test_moved = False
                self.steps.append("test listener: its actions back as they were")
            except ApiError as err:
                self.steps.append(f"could not put the test listener back: {err}")
        name = seen["idle_name"]
        try:
            self.client.update_service(
                cluster=seen["live"]["clusterArn"], service=name, desiredCount=0
            )
        except ApiError as err:
            self.steps.append(f"could not scale service {name} to 0: {err}")
        else:
            self.steps.append(f"service {name} scaled to 0 tasks ({why})")
