"""The local AWS's gateway: moto behind hooks, on its own port, reset with the simulator."""

from __future__ import annotations

import botocore.exceptions
import pytest

from tests.cloudsim.aws import AwsError, vendor_of
from tests.cloudsim.aws.gateway import read_call


@pytest.fixture
def aws(sim):
    """The AWS vendor; hooks a test registers are removed after it."""
    vendor = vendor_of(sim.sim)
    before, after = dict(vendor.gateway.before), dict(vendor.gateway.after)
    yield vendor
    vendor.gateway.before, vendor.gateway.after = before, after


def test_boto3_reaches_moto_through_the_gateway(sim, aws):
    sqs = sim.aws("sqs", "eu-west-1")
    url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    assert sqs.list_queues()["QueueUrls"] == [url]
    assert sim.admin("aws/endpoint") == {"url": sim.aws_url, "account_id": "123456789012"}


def test_an_after_hook_changes_a_json_answer_and_sees_the_call(sim, aws):
    seen = []

    def tag(call, answer):
        seen.append((call.service, call.action, call.region, call.params["clusterName"]))
        answer["cluster"]["status"] = "PROVISIONING"
        return answer

    aws.gateway.on("ecs", "CreateCluster", after=tag)
    cluster = sim.aws("ecs", "eu-central-1").create_cluster(clusterName="web")["cluster"]
    assert cluster["status"] == "PROVISIONING"
    assert seen == [("ecs", "CreateCluster", "eu-central-1", "web")]


def test_a_before_hook_answers_instead_of_moto(sim, aws):
    aws.gateway.on("ecs", "ListClusters", before=lambda call: {"clusterArns": ["arn:x"]})
    assert sim.aws("ecs").list_clusters()["clusterArns"] == ["arn:x"]


def test_a_hook_error_is_an_aws_error_in_the_protocols_shape(sim, aws):
    def refuse(call):
        raise AwsError("ClusterNotFoundException", "Cluster not found.")

    aws.gateway.on("ecs", "DescribeClusters", before=refuse)
    with pytest.raises(botocore.exceptions.ClientError) as json_error:
        sim.aws("ecs").describe_clusters(clusters=["nope"])
    assert json_error.value.response["Error"] == {
        "Code": "ClusterNotFoundException",
        "Message": "Cluster not found.",
    }

    def refuse_xml(call):
        raise AwsError("DBInstanceNotFound", "DBInstance db1 not found.", status=404)

    aws.gateway.on("rds", "DescribeDBInstances", before=refuse_xml)
    with pytest.raises(botocore.exceptions.ClientError) as xml_error:
        sim.aws("rds").describe_db_instances(DBInstanceIdentifier="db1")
    assert xml_error.value.response["Error"]["Code"] == "DBInstanceNotFound"
    assert xml_error.value.response["Error"]["Message"] == "DBInstance db1 not found."
    assert xml_error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_the_simulators_reset_forgets_aws_resources(sim, aws):
    sim.aws("ecs").create_cluster(clusterName="gone")
    sim.reset()
    assert sim.aws("ecs").list_clusters()["clusterArns"] == []


def test_read_call_tells_service_action_and_region_of_both_protocols():
    auth = (
        "AWS4-HMAC-SHA256 Credential=testing/20261208/us-west-2/{}/aws4_request, "
        "SignedHeaders=host, Signature=00"
    )
    json_env = {
        "HTTP_AUTHORIZATION": auth.format("ecs"),
        "HTTP_X_AMZ_TARGET": "AmazonEC2ContainerServiceV20141113.UpdateService",
    }
    call = read_call(json_env, b'{"service": "api"}')
    assert (call.service, call.action, call.region, call.params) == (
        "ecs",
        "UpdateService",
        "us-west-2",
        {"service": "api"},
    )
    assert call.json_protocol
    query_env = {"HTTP_AUTHORIZATION": auth.format("rds"), "QUERY_STRING": ""}
    call = read_call(query_env, b"Action=RebootDBInstance&DBInstanceIdentifier=db1")
    assert (call.service, call.action, call.params["DBInstanceIdentifier"]) == (
        "rds",
        "RebootDBInstance",
        "db1",
    )
    assert not call.json_protocol
    cbor_env = {
        "HTTP_AUTHORIZATION": auth.format("monitoring"),
        "PATH_INFO": "/service/GraniteServiceVersion20100801/operation/GetMetricData",
    }
    call = read_call(cbor_env, b"\xbf\xff")
    assert (call.service, call.action, call.params) == ("monitoring", "GetMetricData", {})
    assert read_call({"HTTP_AUTHORIZATION": "Bearer x"}, b"") is None
