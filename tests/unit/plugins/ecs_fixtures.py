"""ECS documents as boto3 returns them (shapes from the ECS API reference), for the tests of
the ECS deploy logic and modules."""

from __future__ import annotations

import copy
import datetime

REGION = "us-east-1"
ACCOUNT = "123456789012"
CLUSTER = "notes"
CLUSTER_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}"
SERVICE = "notes-api"
SERVICE_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{CLUSTER}/{SERVICE}"
REPO = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/notes"
OLD_IMAGE = f"{REPO}:r1"
NEW_IMAGE = f"{REPO}:r2"
T0 = datetime.datetime(2026, 8, 1, 10, 0, 0, tzinfo=datetime.UTC)


def taskdef_arn(revision: int, family: str = SERVICE) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{family}:{revision}"


def container(name: str, image: str, env: dict[str, str], essential: bool = True) -> dict:
    return {
        "name": name,
        "image": image,
        "cpu": 0,
        "essential": essential,
        "portMappings": [{"containerPort": 8000, "hostPort": 8000, "protocol": "tcp"}]
        if essential
        else [],
        "environment": [{"name": k, "value": v} for k, v in env.items()],
        "secrets": [
            {
                "name": "DATABASE_URL",
                "valueFrom": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:notes-db",
            }
        ]
        if essential
        else [],
        "mountPoints": [],
        "volumesFrom": [],
    }


def taskdef(revision: int = 1, image: str = OLD_IMAGE, release: str = "r1") -> dict:
    """describe_task_definition's ``taskDefinition``: a sidecar first (not essential), then
    the app."""
    return {
        "taskDefinitionArn": taskdef_arn(revision),
        "family": SERVICE,
        "revision": revision,
        "status": "ACTIVE",
        "taskRoleArn": f"arn:aws:iam::{ACCOUNT}:role/notes-task",
        "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/notes-execution",
        "networkMode": "awsvpc",
        "containerDefinitions": [
            container("log-router", "public.ecr.aws/aws-observability/fluent-bit:2", {}, False),
            container("api", image, {"LOG_LEVEL": "info", "RELEASE_ID": release, "PORT": "8000"}),
        ],
        "volumes": [],
        "placementConstraints": [],
        "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.task-iam-role"}],
        "compatibilities": ["EC2", "FARGATE"],
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "256",
        "memory": "512",
        "registeredAt": T0,
        "registeredBy": f"arn:aws:iam::{ACCOUNT}:user/deployer",
    }


def deployment(
    number: int,
    revision: int,
    status: str,
    rollout: str | None,
    running: int = 2,
    desired: int = 2,
    reason: str | None = None,
    failed: int = 0,
) -> dict:
    found = {
        "id": f"ecs-svc/{number:019d}",
        "status": status,
        "taskDefinition": taskdef_arn(revision),
        "desiredCount": desired,
        "pendingCount": 0,
        "runningCount": running,
        "failedTasks": failed,
        "createdAt": T0 + datetime.timedelta(minutes=number),
        "updatedAt": T0 + datetime.timedelta(minutes=number, seconds=30),
        "launchType": "FARGATE",
        "platformVersion": "1.4.0",
    }
    if rollout is not None:
        found["rolloutState"] = rollout
        found["rolloutStateReason"] = (
            reason
            or {
                "COMPLETED": "ECS deployment " + found["id"] + " completed.",
                "IN_PROGRESS": "ECS deployment " + found["id"] + " in progress.",
                "FAILED": "ECS deployment circuit breaker: tasks failed to start.",
            }[rollout]
        )
    return found


def deployment_id(number: int) -> str:
    return f"ecs-svc/{number:019d}"


NETWORK = {
    "awsvpcConfiguration": {
        "subnets": ["subnet-0a1b2c3d"],
        "securityGroups": ["sg-0a1b2c3d"],
        "assignPublicIp": "DISABLED",
    }
}


def service(deployments: list[dict], revision: int = 1, events: list[dict] | None = None) -> dict:
    """describe_services' ``services[0]``."""
    return {
        "serviceArn": SERVICE_ARN,
        "serviceName": SERVICE,
        "clusterArn": CLUSTER_ARN,
        "status": "ACTIVE",
        "desiredCount": 2,
        "runningCount": 2,
        "pendingCount": 0,
        "launchType": "FARGATE",
        "platformVersion": "LATEST",
        "taskDefinition": taskdef_arn(revision),
        "deploymentConfiguration": {
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
        },
        "deployments": copy.deepcopy(deployments),
        "loadBalancers": [
            {
                "targetGroupArn": f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:"
                "targetgroup/notes-api/0123456789abcdef",
                "containerName": "api",
                "containerPort": 8000,
            }
        ],
        "networkConfiguration": copy.deepcopy(NETWORK),
        "events": copy.deepcopy(events or []),
        "createdAt": T0,
        "schedulingStrategy": "REPLICA",
        "deploymentController": {"type": "ECS"},
    }


def stopped_task(number: int, started_by: str, code: int | None, reason: str) -> dict:
    """describe_tasks' ``tasks[i]`` of a stopped task whose app container exited ``code``."""
    return {
        "taskArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{CLUSTER}/{number:032x}",
        "clusterArn": CLUSTER_ARN,
        "taskDefinitionArn": taskdef_arn(2),
        "lastStatus": "STOPPED",
        "desiredStatus": "STOPPED",
        "startedBy": started_by,
        "stopCode": "EssentialContainerExited",
        "stoppedReason": reason,
        "containers": [
            {"name": "log-router", "lastStatus": "STOPPED", "exitCode": 0},
            {"name": "api", "lastStatus": "STOPPED", "exitCode": code},
        ],
    }
