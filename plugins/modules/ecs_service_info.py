#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ecs_service_info
short_description: Read ECS services with their deployments and the release they run
version_added: 0.4.0
description:
  - Reads the services of an ECS cluster - all of them, or those named - with their
    deployments (status, rollout state and reason, task counts), deployment configuration,
    load balancers, newest events and the release their task definition runs (the image and
    C(RELEASE_ID) of its first essential container, as M(sigma.deploy.ecs_deploy) writes them).
  - Services the cluster does not have are left out of the result and named in a warning.
author:
  - sigma.deploy maintainers (@sigma-deploy)
options:
  cluster:
    description: The cluster's name or ARN.
    type: str
    required: true
  services:
    description: The services' names or ARNs. Default, every service of the cluster.
    type: list
    elements: str
  events:
    description: How many of each service's newest events to return (ECS keeps 100).
    type: int
    default: 10
  releases:
    description:
      - Whether to read each service's task definition for the release it runs (one more call
        per service). Without it C(container), C(image) and C(release_id) are null.
    type: bool
    default: true
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
  - module: sigma.deploy.ecs_deploy
"""

EXAMPLES = r"""
- name: Read the notes API service
  sigma.deploy.ecs_service_info:
    cluster: notes
    services: [notes-api]
  register: info

- name: Say which release serves
  ansible.builtin.debug:
    msg: "{{ info.services[0].release_id }} ({{ info.services[0].deployments[0].rollout_state }})"
"""

RETURN = r"""
services:
  description: The services, in the order named (else as ECS lists them).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The service's name.
      type: str
      sample: notes-api
    arn:
      description: The service's ARN.
      type: str
    cluster_arn:
      description: The cluster's ARN.
      type: str
    status:
      description: V(ACTIVE), V(DRAINING) or V(INACTIVE).
      type: str
    task_definition_arn:
      description: The task definition of its PRIMARY deployment.
      type: str
      sample: arn:aws:ecs:us-east-1:123456789012:task-definition/notes-api:8
    desired_count:
      description: Tasks wanted.
      type: int
    running_count:
      description: Tasks running.
      type: int
    pending_count:
      description: Tasks pending.
      type: int
    launch_type:
      description: V(FARGATE), V(EC2), ... (null for a capacity provider strategy).
      type: str
    deployment_controller:
      description: V(ECS), V(CODE_DEPLOY) or V(EXTERNAL).
      type: str
    deployment_configuration:
      description: >-
        C(minimum_healthy_percent), C(maximum_percent), C(circuit_breaker) (C(enable),
        C(rollback)).
      type: dict
    deployments:
      description: >-
        Its deployments, PRIMARY first - C(id), C(status), C(task_definition_arn),
        C(rollout_state), C(rollout_state_reason), C(desired_count), C(running_count),
        C(pending_count), C(failed_tasks), C(created_at), C(updated_at).
      type: list
      elements: dict
    load_balancers:
      description: C(target_group_arn), C(container_name), C(container_port) of each.
      type: list
      elements: dict
    events:
      description: The newest O(events) events, oldest first - C(id), C(created_at), C(message).
      type: list
      elements: dict
    container:
      description: The first essential container of its task definition.
      type: str
      sample: api
    image:
      description: That container's image.
      type: str
    release_id:
      description: That container's C(RELEASE_ID) (null when it has none).
      type: str
      sample: "2026-08-01.2"
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.sigma.deploy.plugins.module_utils.aws.ecs_client import EcsClient
from ansible_collections.sigma.deploy.plugins.module_utils.aws.ecs_shapes import shape_service
from ansible_collections.sigma.deploy.plugins.module_utils.aws.ecs_taskdef import (
    TaskDefinitionError,
)
from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError


def read_services(client, cluster, names, events, releases):
    """The services shaped, and the names the cluster has no active service of."""
    names = list(names or client.service_arns(cluster))
    found = [s for s in client.services(cluster, names) if s.get("status") != "INACTIVE"]
    known = {s.get("serviceName") for s in found} | {s.get("serviceArn") for s in found}
    missing = [n for n in names if n not in known]
    shaped = []
    for service in found:
        taskdef = None
        if releases and service.get("taskDefinition"):
            taskdef = client.task_definition(service["taskDefinition"])
        try:
            shaped.append(shape_service(service, taskdef, events))
        except TaskDefinitionError:  # no essential container: no release to name
            shaped.append(shape_service(service, None, events))
    return shaped, missing


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            cluster=dict(type="str", required=True),
            services=dict(type="list", elements="str"),
            events=dict(type="int", default=10),
            releases=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params["events"] < 0:
        module.fail_json(msg=f"events must be 0 or more, got {params['events']}")
    client = EcsClient(module.client("ecs", retry_decorator=AWSRetry.jittered_backoff()))
    try:
        services, missing = read_services(
            client, params["cluster"], params["services"], params["events"], params["releases"]
        )
    except ApiError as err:
        module.fail_json(msg=str(err), failure=err.failure(), services=[])
    for name in missing:
        module.warn(f"cluster {params['cluster']} has no active service {name}")
    module.exit_json(changed=False, services=services)


if __name__ == "__main__":
    main()
