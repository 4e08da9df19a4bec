"""The RDS engine with the memory runtime: statuses through an instance's life, AWS's errors."""

from __future__ import annotations

import botocore.exceptions
import pytest

from tests.unit.cloudsim.elb_helpers import wait_for

PASSWORD = "s3cret-pass"


def create(rds, identifier: str = "db1", **extra) -> dict:
    settings = {
        "DBInstanceIdentifier": identifier, "DBInstanceClass": "db.t3.micro",
        "Engine": "postgres", "MasterUsername": "notes", "MasterUserPassword": PASSWORD,
        "DBName": "notes", "AllocatedStorage": 20, **extra,
    }  # fmt: skip
    return rds.create_db_instance(**settings)["DBInstance"]


def status(rds, identifier: str = "db1") -> str:
    return rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0][
        "DBInstanceStatus"
    ]


@pytest.fixture
def rds(sim):
    return sim.aws("rds")


@pytest.fixture
def slow(sim):
    """Runtime actions wait until the test lets them go (action_delay), so states are seen."""
    sim.faults(action_delay=3600)
    runtime = next(v for v in sim.sim.vendors if v.name == "aws").runtime

    def release() -> None:
        sim.faults(action_delay=0)
        with runtime._cv:  # the memory runtime's queued actions become due now
            runtime._queue[:] = [(0.0, seq, action) for _due, seq, action in runtime._queue]
            runtime._cv.notify_all()

    return release


def test_an_instance_is_creating_until_postgres_answers_then_available(sim, rds, slow):
    made = create(rds, MultiAZ=True)
    assert made["DBInstanceStatus"] == "creating"
    assert made["MultiAZ"] is True
    assert status(rds) == "creating"
    slow()
    wait_for(lambda: status(rds) == "available", "available")
    found = rds.describe_db_instances(DBInstanceIdentifier="db1")["DBInstances"][0]
    assert (found["MasterUsername"], found["DBName"], found["Endpoint"]["Port"]) == (
        "notes", "notes", 5432,
    )  # fmt: skip
    assert sim.admin("aws/rds")["db1"]["status"] == "available"


def test_a_failover_reboot_restarts_postgres(sim, rds, slow):
    create(rds, MultiAZ=True)
    slow()
    wait_for(lambda: status(rds) == "available", "available")
    engine = next(v for v in sim.sim.vendors if v.name == "aws").engine("rds")
    spec = engine.runtime.specs["rds-us-east-1-db1"]
    sim.faults(action_delay=3600)
    rebooted = rds.reboot_db_instance(DBInstanceIdentifier="db1", ForceFailover=True)
    assert rebooted["DBInstance"]["DBInstanceStatus"] == "rebooting"
    assert status(rds) == "rebooting"
    slow()
    wait_for(lambda: status(rds) == "available", "available again")
    assert engine.runtime.specs["rds-us-east-1-db1"] is spec  # same data volume, same settings
    assert spec.volumes == ["/data"]
    assert spec.env == {
        "POSTGRES_USER": "notes", "POSTGRES_PASSWORD": PASSWORD, "POSTGRES_DB": "notes",
    }  # fmt: skip


def test_failover_needs_multi_az(rds, slow):
    create(rds)
    slow()
    wait_for(lambda: status(rds) == "available", "available")
    with pytest.raises(botocore.exceptions.ClientError) as error:
        rds.reboot_db_instance(DBInstanceIdentifier="db1", ForceFailover=True)
    assert error.value.response["Error"]["Code"] == "InvalidParameterCombination"
    assert status(rds) == "available"


def test_delete_removes_the_container_and_keeps_the_final_snapshot(sim, rds, slow):
    create(rds)
    slow()
    wait_for(lambda: status(rds) == "available", "available")
    runtime = next(v for v in sim.sim.vendors if v.name == "aws").runtime
    deleted = rds.delete_db_instance(DBInstanceIdentifier="db1", FinalDBSnapshotIdentifier="last")
    assert deleted["DBInstance"]["DBInstanceStatus"] == "deleting"
    wait_for(lambda: "rds-us-east-1-db1" not in runtime.specs, "container destroyed")
    snapshots = rds.describe_db_snapshots(DBSnapshotIdentifier="last")["DBSnapshots"]
    assert [s["DBInstanceIdentifier"] for s in snapshots] == ["db1"]
    assert sim.admin("aws/rds") == {}


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "The parameter MasterUserPassword is not a valid password because it is "
         "shorter than 8 characters."),
        ("has/slash1", "The parameter MasterUserPassword is not a valid password. Only printable "
         "ASCII characters besides '/', '@', '\"', ' ' may be used."),
        ("has space1", "The parameter MasterUserPassword is not a valid password. Only printable "
         "ASCII characters besides '/', '@', '\"', ' ' may be used."),
        ('quote"d12', "The parameter MasterUserPassword is not a valid password. Only printable "
         "ASCII characters besides '/', '@', '\"', ' ' may be used."),
        ("at@sign12", "The parameter MasterUserPassword is not a valid password. Only printable "
         "ASCII characters besides '/', '@', '\"', ' ' may be used."),
    ],
)  # fmt: skip
def test_a_password_aws_refuses_is_its_error_and_nothing_is_made(sim, rds, password, message):
    with pytest.raises(botocore.exceptions.ClientError) as error:
        create(rds, MasterUserPassword=password)
    assert error.value.response["Error"] == {
        "Type": "Sender", "Code": "InvalidParameterValue", "Message": message,
    }  # fmt: skip
    assert rds.describe_db_instances()["DBInstances"] == []
    assert sim.admin("aws/rds") == {}


def test_without_an_image_under_podman_the_create_fails_clearly(sim, rds, monkeypatch):
    engine = next(v for v in sim.sim.vendors if v.name == "aws").engine("rds")
    monkeypatch.delenv("CLOUDSIM_RDS_IMAGE", raising=False)

    class PodmanRuntime:  # only its name matters to the engine's choice
        pass

    monkeypatch.setattr(engine, "runtime", PodmanRuntime())
    with pytest.raises(botocore.exceptions.ClientError) as error:
        create(rds)
    assert "CLOUDSIM_RDS_IMAGE" in error.value.response["Error"]["Message"]
    assert rds.describe_db_instances()["DBInstances"] == []
