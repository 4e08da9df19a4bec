# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The ELBv2 and CloudWatch calls of a blue-green deploy on ECS (``ecs_deploy`` with
``strategy: bluegreen``): the target groups, the production and test listeners (or a
listener rule) and their forward actions, and one target group's metrics. Errors are the
same :class:`ApiError` as ECS's, naming the option at fault.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from ansible_collections.sigma.deploy.plugins.module_utils.aws.ecs_client import AwsCalls
from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError

# The errors that say the resource an option names is not there, or not a valid name of one.
NOT_FOUND_CODES = ("TargetGroupNotFound", "ListenerNotFound", "RuleNotFound", "ValidationError")


class ElbClient(AwsCalls):
    """The application load balancer's calls (boto3 ``elbv2``)."""

    vendor = "AWS ELB"

    def _elb(self, operation: str, field: str | None = None, **kwargs: Any) -> Any:
        try:
            return self._call(operation, **kwargs)
        except ApiError as err:
            if field and err.code in NOT_FOUND_CODES:
                err.field = field
            raise

    def target_groups(self, names_or_arns: Sequence[str]) -> list[dict[str, Any]]:
        """The target groups, in the order given (each an ARN or a name)."""
        arns = [n for n in names_or_arns if n.startswith("arn:")]
        names = [n for n in names_or_arns if not n.startswith("arn:")]
        found: list[dict[str, Any]] = []
        field = "bluegreen.target_groups"
        if arns:
            found += self._elb("describe_target_groups", field, TargetGroupArns=arns)[
                "TargetGroups"
            ]
        if names:
            found += self._elb("describe_target_groups", field, Names=names)["TargetGroups"]
        by_key = {g["TargetGroupArn"]: g for g in found}
        by_key.update({g["TargetGroupName"]: g for g in found})
        return [by_key[n] for n in names_or_arns]

    def listener(self, arn: str, field: str) -> dict[str, Any]:
        return self._elb("describe_listeners", field, ListenerArns=[arn])["Listeners"][0]

    def rule(self, arn: str) -> dict[str, Any]:
        return self._elb("describe_rules", "bluegreen.rule_arn", RuleArns=[arn])["Rules"][0]

    def load_balancer(self, arn: str) -> dict[str, Any]:
        return self._elb("describe_load_balancers", LoadBalancerArns=[arn])["LoadBalancers"][0]

    def set_listener_actions(self, arn: str, actions: list[dict[str, Any]], field: str) -> None:
        self._elb("modify_listener", field, ListenerArn=arn, DefaultActions=actions)

    def set_rule_actions(self, arn: str, actions: list[dict[str, Any]]) -> None:
        self._elb("modify_rule", "bluegreen.rule_arn", RuleArn=arn, Actions=actions)


class CloudWatchClient(AwsCalls):
    """CloudWatch's GetMetricData (boto3 ``cloudwatch``)."""

    vendor = "AWS CloudWatch"

    def metric_data(
        self,
        queries: list[Mapping[str, Any]],
        start: datetime.datetime,
        end: datetime.datetime,
    ) -> list[dict[str, Any]]:
        """Every query's ``MetricDataResults`` over ``[start, end)``, all pages joined."""
        results: dict[str, dict[str, Any]] = {}
        token = None
        while True:
            page = self._call(
                "get_metric_data",
                {"period": "bluegreen.metric_period"},
                MetricDataQueries=list(queries),
                StartTime=start,
                EndTime=end,
                **({"NextToken": token} if token else {}),
            )
            for result in page.get("MetricDataResults") or []:
                mine = results.setdefault(result["Id"], {"Id": result["Id"], "Values": []})
                mine["Values"].extend(result.get("Values") or [])
            token = page.get("NextToken")
            if not token:
                return list(results.values())
