"""playbooks/aws_stack.yml run by ansible-playbook against the local AWS (plain moto, memory
backend): the rung made, made again without a change, removed exactly (what carries both of its
tags, nothing else), and bad input refused before anything is made.

The inventory is inventories/aws; the environment is what ``tools/cloudsim.sh env`` prints.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
INVENTORY = ROOT / "inventories" / "aws"
HOST = "aws-notes"
TAGS = {"sigma:app": "notes", "sigma:stack": "aws"}


@pytest.fixture
def play(sim, tmp_path):
    """Run aws_stack.yml against the local AWS; returns (returncode, the json callback's report)."""
    collections = tmp_path / "collections" / "ansible_collections" / "sigma"
    collections.mkdir(parents=True)
    (collections / "deploy").symlink_to(ROOT)
    cfg = tmp_path / "ansible.cfg"
    cfg.write_text("[defaults]\nretry_files_enabled = false\ndeprecation_warnings = false\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        ANSIBLE_CONFIG=str(cfg),
        ANSIBLE_COLLECTIONS_PATH=str(tmp_path / "collections"),
        ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
        ANSIBLE_LOCALHOST_WARNING="false",
        AWS_ENDPOINT_URL=sim.aws_url,
        AWS_CA_BUNDLE=sim.ca_path,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION="us-east-1",
        AWS_DEFAULT_REGION="us-east-1",
        HOME=str(tmp_path / "home"),
    )
    output = tmp_path / "out" / "notes.json"

    def run(*extra: str) -> tuple[int, dict]:
        proc = subprocess.run(
            [
                ANSIBLE_PLAYBOOK, "-i", str(INVENTORY), str(ROOT / "playbooks" / "aws_stack.yml"),
                "-e", f"aws_output_file={output}", "-e", "aws_db_final_snapshot=false", *extra,
            ],
            capture_output=True, text=True, env=env, cwd=tmp_path, check=False, timeout=900,
        )  # fmt: skip
        try:
            report = json.loads(proc.stdout)
        except json.JSONDecodeError:
            pytest.fail(f"no JSON report\n{proc.stdout}\n{proc.stderr}")
        return proc.returncode, report

    run.output = output
    return run


def failures(report: dict) -> list[str]:
    """The messages of the failed tasks (a loop's failed items each)."""
    found = []
    for p in report["plays"]:
        for task in p["tasks"]:
            result = task["hosts"].get(HOST, {})
            if not result.get("failed"):
                continue
            items = [r for r in result.get("results", []) if r.get("failed")]
            found += [r.get("msg", "") for r in items] or [result.get("msg", "")]
    return found


def task_result(report: dict, name: str) -> dict:
    found = [
        task["hosts"][HOST]
        for p in report["plays"]
        for task in p["tasks"]
        if task["task"]["name"].startswith(name) and HOST in task["hosts"]
    ]
    assert found, f"no task {name!r}"
    return found[-1]


def tags_of(tag_list: list[dict], key: str = "Key", value: str = "Value") -> dict:
    return {t[key]: t[value] for t in tag_list or []}


def tagged(sim) -> list[str]:
    """The ARNs that carry both of the stack's tags (EC2's and IAM's are checked by their APIs)."""
    api = sim.aws("resourcegroupstaggingapi")
    found = api.get_resources(TagFilters=[{"Key": k, "Values": [v]} for k, v in TAGS.items()])
    return sorted(m["ResourceARN"] for m in found["ResourceTagMappingList"])


def stack_vpcs(ec2) -> list[dict]:
    filters = [{"Name": f"tag:{k}", "Values": [v]} for k, v in TAGS.items()]
    return ec2.describe_vpcs(Filters=filters)["Vpcs"]


def test_the_stack_is_made_once_and_removed_exactly(play, sim):
    ec2, sqs = sim.aws("ec2"), sim.aws("sqs")
    # Made by hand: a VPC with the app's tag but not the stack's, and a queue of no tag.
    own_vpc = ec2.create_vpc(
        CidrBlock="10.99.0.0/16",
        TagSpecifications=[
            {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "notes"},
                                             {"Key": "sigma:app", "Value": "notes"}]}
        ],
    )["Vpc"]["VpcId"]  # fmt: skip
    own_queue = sqs.create_queue(QueueName="notes-jobs-by-hand")["QueueUrl"]

    rc, report = play()
    assert rc == 0, failures(report)
    password = check_made(sim, report, play.output)

    made = tagged(sim)
    rc, report = play()
    assert rc == 0, failures(report)
    assert report["stats"][HOST]["changed"] == 0, [
        t["task"]["name"] for p in report["plays"] for t in p["tasks"]
        if t["hosts"].get(HOST, {}).get("changed")
    ]  # fmt: skip
    assert tagged(sim) == made
    secrets = sim.aws("secretsmanager")
    assert secrets.get_secret_value(SecretId="notes/db-password")["SecretString"] == password

    rc, report = play("-e", "state=absent")
    assert rc == 0, failures(report)
    check_removed(sim, report, made, own_vpc, own_queue)

    rc, report = play("-e", "state=absent")
    assert rc == 0, failures(report)
    assert report["stats"][HOST]["changed"] == 0


def check_made(sim, report: dict, output: Path) -> str:
    """Everything the first run made, as AWS answers; returns the database's password."""
    ec2, sqs = sim.aws("ec2"), sim.aws("sqs")
    (vpc,) = stack_vpcs(ec2)
    assert (vpc["CidrBlock"], tags_of(vpc["Tags"])) == ("10.40.0.0/16", {**TAGS, "Name": "notes"})
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])
    assert sorted(
        (s["CidrBlock"], tags_of(s["Tags"])["sigma:tier"], s["MapPublicIpOnLaunch"])
        for s in subnets["Subnets"]
    ) == [
        ("10.40.0.0/24", "public", True), ("10.40.1.0/24", "public", True),
        ("10.40.10.0/24", "private", False), ("10.40.11.0/24", "private", False),
    ]  # fmt: skip

    elb = sim.aws("elbv2")
    (lb,) = elb.describe_load_balancers(Names=["notes"])["LoadBalancers"]
    groups = {g["TargetGroupName"]: g for g in elb.describe_target_groups()["TargetGroups"]}
    assert sorted(groups) == ["notes-blue", "notes-green"]
    assert {(g["Port"], g["TargetType"], g["HealthCheckPath"]) for g in groups.values()} == {
        (8000, "ip", "/healthz")
    }
    listeners = elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
    assert sorted((x["Port"], x["DefaultActions"][0]["TargetGroupArn"]) for x in listeners) == [
        (80, groups["notes-blue"]["TargetGroupArn"]),
        (8080, groups["notes-green"]["TargetGroupArn"]),
    ]

    rds = sim.aws("rds")
    (db,) = rds.describe_db_instances(DBInstanceIdentifier="notes-db")["DBInstances"]
    assert (db["Engine"], db["MultiAZ"], db["DBSubnetGroup"]["DBSubnetGroupName"]) == (
        "postgres", True, "notes-db",
    )  # fmt: skip
    assert tags_of(db["TagList"]) == TAGS

    queues = {u.rsplit("/", 1)[1]: u for u in sqs.list_queues()["QueueUrls"]}
    attributes = sqs.get_queue_attributes(QueueUrl=queues["notes-jobs"], AttributeNames=["All"])
    redrive = json.loads(attributes["Attributes"]["RedrivePolicy"])
    assert redrive == {
        "maxReceiveCount": 5,
        "deadLetterTargetArn": "arn:aws:sqs:us-east-1:123456789012:notes-jobs-dlq",
    }
    assert sqs.list_queue_tags(QueueUrl=queues["notes-jobs-dlq"])["Tags"] == TAGS

    secrets = sim.aws("secretsmanager")
    password = secrets.get_secret_value(SecretId="notes/db-password")["SecretString"]
    url = secrets.get_secret_value(SecretId="notes/database-url")["SecretString"]
    assert len(password) == 32
    assert password.isalnum()
    assert url == (
        f"postgresql+psycopg://notes:{password}@{db['Endpoint']['Address']}:5432/notes"
        "?sslmode=require"
    )
    assert password not in json.dumps(report)

    check_ecs(sim, groups)

    # The outputs, for the deploy playbooks: a 0600 file, the same as the fact.
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    outputs = json.loads(output.read_text())
    assert outputs == task_result(report, "Keep the outputs")["ansible_facts"]["aws_stack"]
    assert outputs["alb"] == {
        "name": "notes", "arn": lb["LoadBalancerArn"], "dns_name": lb["DNSName"],
        "listener_port": 80, "test_listener_port": 8080,
        "listener_arn": next(x["ListenerArn"] for x in listeners if x["Port"] == 80),
        "test_listener_arn": next(x["ListenerArn"] for x in listeners if x["Port"] == 8080),
    }  # fmt: skip
    assert outputs["target_groups"] == {
        c: groups[f"notes-{c}"]["TargetGroupArn"] for c in ("blue", "green")
    }
    assert outputs["services"] == {"api": "notes-api", "worker": "notes-worker"}
    assert outputs["db"]["endpoint"] == db["Endpoint"]["Address"]
    assert outputs["queues"]["jobs_url"] == queues["notes-jobs"]
    assert outputs["queues"]["dlq_url"] == queues["notes-jobs-dlq"]
    assert sorted(outputs["secrets"]) == ["database_url", "db_password"]

    return password


def check_ecs(sim, groups: dict) -> None:
    """The cluster, its two services (no tasks, bootstrap task definitions), autoscaling."""
    ecs = sim.aws("ecs")
    (cluster,) = ecs.describe_clusters(clusters=["notes"], include=["TAGS"])["clusters"]
    assert tags_of(cluster["tags"], "key", "value") == TAGS
    assert sorted(cluster["capacityProviders"]) == ["FARGATE", "FARGATE_SPOT"]
    services = ecs.describe_services(cluster="notes", services=["notes-api", "notes-worker"])
    shapes = sorted(
        (s["serviceName"], s["desiredCount"], s["taskDefinition"].rsplit("/", 1)[1],
         [lb["targetGroupArn"] for lb in s["loadBalancers"]])
        for s in services["services"]
    )  # fmt: skip
    assert shapes == [
        ("notes-api", 0, "notes-api:1", [groups["notes-blue"]["TargetGroupArn"]]),
        ("notes-worker", 0, "notes-worker:1", []),
    ]

    scaling = sim.aws("application-autoscaling")
    (policy,) = scaling.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
    config = policy["TargetTrackingScalingPolicyConfiguration"]
    assert (policy["ResourceId"], policy["PolicyType"]) == (
        "service/notes/notes-api", "TargetTrackingScaling",
    )  # fmt: skip
    assert (config["TargetValue"], config["PredefinedMetricSpecification"]) == (
        60.0, {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
    )  # fmt: skip


def check_removed(sim, report: dict, made: list[str], own_vpc: str, own_queue: str) -> None:
    """Nothing of the stack's is left; what was made by hand is."""
    ec2, sqs, rds = sim.aws("ec2"), sim.aws("sqs"), sim.aws("rds")
    scaling = sim.aws("application-autoscaling")
    assert tagged(sim) == [a for a in made if ":ecs:" in a]  # ECS keeps them a while, INACTIVE
    clusters = sim.aws("ecs").describe_clusters(clusters=["notes"])["clusters"]
    assert [c["status"] for c in clusters] == ["INACTIVE"]
    assert stack_vpcs(ec2) == []
    by_hand = [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v["CidrBlock"] == "10.99.0.0/16"]
    assert by_hand == [own_vpc]
    assert sqs.list_queues()["QueueUrls"] == [own_queue]
    assert sim.aws("iam").list_roles(PathPrefix="/sigma/")["Roles"] == []
    assert rds.describe_db_instances()["DBInstances"] == []
    assert rds.describe_db_subnet_groups()["DBSubnetGroups"] == []
    assert scaling.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"] == []
    removed = task_result(report, "Show what was removed")["msg"]
    for arn in (a for a in made if ":snapshot:rds:" not in a):  # automated: gone with the db
        assert arn in removed or (":ec2:" in arn and arn.rsplit("/", 1)[1] in removed), arn


def test_bad_input_is_refused_before_anything_is_made(play, sim):
    rc, report = play("-e", "aws_app=", "-e", "aws_db_password=has/a slash")
    assert rc == 2
    messages = failures(report)
    assert messages[0].startswith("aws_app must be set to the app's name"), messages
    assert messages[1].startswith("aws_db_password is one RDS refuses"), messages
    assert "has/a slash" not in json.dumps(report)

    rc, report = play("-e", "aws_region=us-nowhere-1")
    assert rc == 2
    assert failures(report) == [
        "aws_region us-nowhere-1 is not a region of this account (AWS does not list it)"
    ]
    assert (
        sim.aws("ec2").describe_vpcs(Filters=[{"Name": "tag:sigma:stack", "Values": ["aws"]}])[
            "Vpcs"
        ]
        == []
    )
    assert not play.output.exists()
