"""aws_tagged_resources_info: what an ARN says (service, type, name), by exact equality."""

from __future__ import annotations

import pytest

from ansible_collections.sigma.deploy.plugins.modules.aws_tagged_resources_info import parse_arn

ACCOUNT = "arn:aws:{}:us-east-1:123456789012:{}"
ELB = "elasticloadbalancing"


@pytest.mark.parametrize(
    ("service", "resource", "resource_type", "name"),
    [
        ("sqs", "notes-jobs", "sqs", "notes-jobs"),
        ("ecs", "cluster/notes", "ecs:cluster", "notes"),
        ("ecs", "service/notes/notes-api", "ecs:service", "notes-api"),
        (ELB, "loadbalancer/app/notes/efd035f9", f"{ELB}:loadbalancer", "notes"),
        (ELB, "targetgroup/notes-blue/cde27346", f"{ELB}:targetgroup", "notes-blue"),
        ("secretsmanager", "secret:notes/db-password-tPrkUO", "secretsmanager:secret",
         "notes/db-password"),
        ("logs", "log-group:/ecs/notes:*", "logs:log-group", "/ecs/notes"),
        ("rds", "db:notes-db", "rds:db", "notes-db"),
        ("rds", "subgrp:notes-db", "rds:subgrp", "notes-db"),
        ("ec2", "vpc/vpc-5b6cd5d8", "ec2:vpc", "vpc-5b6cd5d8"),
    ],
)  # fmt: skip
def test_an_arn_names_its_service_type_and_name(service, resource, resource_type, name):
    arn = ACCOUNT.format(service, resource)
    found = parse_arn(arn)
    assert (found["arn"], found["service"], found["resource_type"], found["name"]) == (
        arn, service, resource_type, name,
    )  # fmt: skip
