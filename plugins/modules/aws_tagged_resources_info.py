#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: aws_tagged_resources_info
short_description: Find the AWS resources of a region that carry given tags
version_added: 0.4.0
description:
  - Lists the resources of one region whose tags include every given key and value, through the
    Resource Groups Tagging API (C(GetResources)), across services - load balancers, target
    groups, ECS clusters and services, SQS queues, Secrets Manager secrets, RDS instances and
    subnet groups, log groups and more.
  - Neither amazon.aws nor community.aws has a module for this API, and several of the resources
    a stack is made of have no C(_info) module that filters by tag (SQS queues, secrets, ECS
    clusters). C(playbooks/aws_stack.yml) with C(state=absent) finds what it made with it, by
    tag rather than by name.
  - IAM is global and not listed here (M(amazon.aws.iam_role_info) returns roles' tags); EC2's
    VPC resources are found with their own C(_info) modules' tag filters.
author:
  - sigma.deploy maintainers (@sigma-deploy)
options:
  tags:
    description:
      - The tags a resource must all carry, key to value.
    type: dict
    required: true
  resource_types:
    description:
      - Only resources of these types, as the API names them - C(sqs), C(ecs:cluster),
        C(elasticloadbalancing:loadbalancer), C(secretsmanager:secret) ...
      - Default, every type.
    type: list
    elements: str
attributes:
  check_mode:
    support: full
    details: It only reads.
  diff_mode:
    support: none
  platform:
    platforms: posix
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - ansible.builtin.action_common_attributes
seealso:
  - module: amazon.aws.iam_role_info
  - module: amazon.aws.ec2_vpc_net_info
"""

EXAMPLES = r"""
- name: Find what the notes app's stack made
  sigma.deploy.aws_tagged_resources_info:
    region: us-east-1
    tags:
      "sigma:app": notes
      "sigma:stack": aws
  register: found

- name: Name the queues
  ansible.builtin.debug:
    msg: "{{ found.resources | selectattr('service', '==', 'sqs') | map(attribute='name') }}"
"""

RETURN = r"""
resources:
  description: The resources found, sorted by ARN.
  returned: always
  type: list
  elements: dict
  contains:
    arn:
      description: The resource's ARN.
      type: str
      sample: arn:aws:sqs:us-east-1:123456789012:notes-jobs
    service:
      description: The service, from the ARN.
      type: str
      sample: sqs
    type:
      description: The resource's type within its service, from the ARN (empty when it has none).
      type: str
      sample: loadbalancer
    resource_type:
      description:
        - The service and type as C(resource_types) names them; the service alone without a type.
      type: str
      sample: elasticloadbalancing:loadbalancer
    name:
      description:
        - The resource's name as the ARN gives it - the last part, or for load balancers and
          target groups the name before their id, for a secret its name without the random suffix.
      type: str
      sample: notes-jobs
    tags:
      description: The resource's tags, key to value.
      type: dict
      sample: {"sigma:app": "notes", "sigma:stack": "aws"}
"""

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

try:
    import botocore
except ImportError:  # AnsibleAWSModule reports it
    botocore = None


def parse_arn(arn):
    """The service, type and name an ARN says, as this module returns them."""
    parts = arn.split(":", 5)
    service, resource = parts[2], parts[5] if len(parts) > 5 else ""
    kind, name = "", resource
    cuts = [i for i in (resource.find("/"), resource.find(":")) if i >= 0]
    if cuts:
        kind, name = resource[: min(cuts)], resource[min(cuts) + 1 :]
    if service == "elasticloadbalancing":
        # loadbalancer/app/<name>/<id>, targetgroup/<name>/<id>, listener/app/<lb>/<id>/<id>
        pieces = name.split("/")
        name = pieces[1] if kind in ("loadbalancer", "listener") and len(pieces) > 1 else pieces[0]
    elif service == "secretsmanager" and kind == "secret":
        name = name.rsplit("-", 1)[0]  # AWS appends a dash and six random characters
    elif service == "logs" and kind == "log-group":
        name = name.split(":", 1)[0]
    elif "/" in name:
        name = name.rsplit("/", 1)[-1]  # ecs service/<cluster>/<name>
    return {
        "arn": arn,
        "service": service,
        "type": kind,
        "resource_type": f"{service}:{kind}" if kind else service,
        "name": name,
    }


def shape(mapping):
    found = parse_arn(mapping["ResourceARN"])
    found["tags"] = {tag["Key"]: tag["Value"] for tag in mapping.get("Tags", [])}
    return found


def find(client, tags, resource_types):
    params = {"TagFilters": [{"Key": key, "Values": [value]} for key, value in tags.items()]}
    if resource_types:
        params["ResourceTypeFilters"] = resource_types
    paginator = client.get_paginator("get_resources")
    mappings = paginator.paginate(**params).build_full_result()["ResourceTagMappingList"]
    return sorted((shape(m) for m in mappings), key=lambda r: r["arn"])


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            tags=dict(type="dict", required=True),
            resource_types=dict(type="list", elements="str"),
        ),
        supports_check_mode=True,
    )
    tags = {str(key): str(value) for key, value in module.params["tags"].items()}
    if not tags:
        module.fail_json(msg="tags must name at least one tag (key: value)")
    client = module.client("resourcegroupstaggingapi", retry_decorator=AWSRetry.jittered_backoff())
    try:
        resources = find(client, tags, module.params["resource_types"])
    except is_boto3_error_code("InvalidParameterException") as err:
        module.fail_json_aws(err, msg="resource_types or tags were refused")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as err:  # pylint: disable=duplicate-except
        module.fail_json_aws(err, msg="Could not list the tagged resources")
    module.exit_json(changed=False, resources=resources)


if __name__ == "__main__":
    main()
