"""ecs_service_info's main() against the fake ECS client: every service of a cluster in our
shape, named services (the missing ones warned about), an unknown cluster."""

from __future__ import annotations

import pytest
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.sigma.deploy.plugins.modules import ecs_service_info
from tests.unit.plugins import ecs_fixtures as fx
from tests.unit.plugins.ecs_fake import FakeEcs

AWS = {"region": "us-east-1", "access_key": "testing", "secret_key": "testing"}


@pytest.fixture
def info(run, monkeypatch):
    def go(ecs: FakeEcs, **params):
        monkeypatch.setattr(AnsibleAWSModule, "client", lambda unused, *a, **kw: ecs)
        return run(ecs_service_info, **{**AWS, "cluster": fx.CLUSTER, **params})

    return go


def test_every_service_of_the_cluster(info):
    ecs = FakeEcs()
    ecs.service["events"] = [
        {"id": f"e{n}", "createdAt": fx.T0.replace(second=n), "message": f"event {n}"}
        for n in (3, 2, 1)
    ]
    result = info(ecs, events=2)
    assert (result["failed"], result["changed"], result["warnings"]) == (False, False, [])
    assert result["services"] == [
        {
            "name": fx.SERVICE,
            "arn": fx.SERVICE_ARN,
            "cluster_arn": fx.CLUSTER_ARN,
            "status": "ACTIVE",
            "task_definition_arn": fx.taskdef_arn(1),
            "desired_count": 2,
            "running_count": 2,
            "pending_count": 0,
            "launch_type": "FARGATE",
            "deployment_controller": "ECS",
            "deployment_configuration": {
                "minimum_healthy_percent": 100,
                "maximum_percent": 200,
                "circuit_breaker": {"enable": True, "rollback": True},
            },
            "deployments": [
                {
                    "id": fx.deployment_id(1),
                    "status": "PRIMARY",
                    "task_definition_arn": fx.taskdef_arn(1),
                    "rollout_state": "COMPLETED",
                    "rollout_state_reason": f"ECS deployment {fx.deployment_id(1)} completed.",
                    "desired_count": 2,
                    "running_count": 2,
                    "pending_count": 0,
                    "failed_tasks": 0,
                    "created_at": "2026-08-01T10:01:00+00:00",
                    "updated_at": "2026-08-01T10:01:30+00:00",
                }
            ],
            "load_balancers": [
                {
                    "target_group_arn": fx.service([])["loadBalancers"][0]["targetGroupArn"],
                    "container_name": "api",
                    "container_port": 8000,
                }
            ],
            "events": [
                {"id": "e2", "created_at": "2026-08-01T10:00:02+00:00", "message": "event 2"},
                {"id": "e3", "created_at": "2026-08-01T10:00:03+00:00", "message": "event 3"},
            ],
            "container": "api",
            "image": fx.OLD_IMAGE,
            "release_id": "r1",
        }
    ]
    assert ecs.operations() == [
        "list_services",
        "describe_services",
        "describe_task_definition",
    ]


def test_named_services_and_a_missing_one(info):
    ecs = FakeEcs()
    result = info(ecs, services=[fx.SERVICE, "notes-worker"], releases=False)
    assert [s["name"] for s in result["services"]] == [fx.SERVICE]
    assert result["services"][0]["release_id"] is None
    assert result["warnings"] == ["cluster notes has no active service notes-worker"]
    assert "describe_task_definition" not in ecs.operations()


def test_an_unknown_cluster_fails_naming_it(info):
    result = info(FakeEcs(), cluster="nope")
    assert result["failed"] is True
    assert result["failure"]["field"] == "cluster"
    assert result["services"] == []
