#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ecs_deploy
short_description: Deploy a release to an ECS service and wait truthfully for its verdict
version_added: 0.4.0
description:
  - Deploys one release, O(image) under O(release_id), to an existing ECS service whose
    deployments ECS controls (rolling update). What C(community.aws.ecs_service) and
    C(community.aws.ecs_taskdefinition) leave to the user is done here - the task definition
    of the release is derived from the service's current one, and the deployment is waited
    for until ECS's own verdict.
  - The release's task definition is the service's current task definition with O(image) in
    the O(containers) and C(RELEASE_ID=<release_id>) and O(environment) in their environment;
    everything else (roles, secrets, CPU, memory, other containers) stays. It is registered as
    a new revision of the same family.
  - O(migrate) runs first, once, as a one-off task of the new task definition where the
    service runs its tasks; only when its container exits 0 is the service updated. Its
    failure switches nothing - the service is not updated and the new revision is
    deregistered.
  - The service is updated to the new revision with the deployment configuration asked for
    (O(minimum_healthy_percent), O(maximum_percent), O(circuit_breaker)). With O(wait) the
    module polls the service until the new deployment is C(COMPLETED) (success); a deployment
    that is C(FAILED), rolled back by the circuit breaker (ECS then deploys the last
    C(COMPLETED) task definition again), replaced by another deploy, or still in progress when
    O(wait_timeout) runs out fails the task, with ECS's reason and the stopped tasks' reasons
    and exit codes in the message.
  - When the service's task definition carries the release already and its PRIMARY deployment
    is C(COMPLETED) with the deployment configuration asked for, nothing changes. When that
    deployment is still in progress (a rerun after a timeout), the module waits for it and
    changes nothing; when it FAILED, a new deployment of the same revision is forced.
author:
  - sigma.deploy maintainers (@sigma-deploy)
options:
  cluster:
    description: The cluster's name or ARN.
    type: str
    required: true
  service:
    description: The service's name or ARN. It must exist and use the C(ECS) deployment controller.
    type: str
    required: true
  image:
    description:
      - The image of the release, for example
        V(123456789012.dkr.ecr.us-east-1.amazonaws.com/notes:2026-08-01.2).
    type: str
    required: true
  release_id:
    description:
      - The release's id, written to C(RELEASE_ID) in the containers' environment. Deploying
        the same image under another id is a change.
      - Default, C(sha256-) and the first 12 hex digits of the image's digest, else its tag.
    type: str
  containers:
    description:
      - The containers of the task definition that run O(image) and get the release's
        environment. Default, the first essential container. O(migrate) runs in the first one.
    type: list
    elements: str
  environment:
    description:
      - Variables set in the O(containers)' environment besides C(RELEASE_ID) (which the module
        sets, so it may not be given here). Variables the task definition has keep their place;
        values are strings. Not for secrets - put those in the task definition's C(secrets).
    type: dict
    default: {}
  strategy:
    description:
      - V(rolling) - ECS's rolling update, bounded by O(minimum_healthy_percent) and
        O(maximum_percent), guarded by O(circuit_breaker).
      - V(bluegreen) - B(not implemented yet); the module refuses it. Planned design - two
        services (O(bluegreen.services)), each registered in one of two target groups
        (O(bluegreen.target_groups)); the idle one gets the release, is checked through the test
        listener (O(bluegreen.test_listener_arn)) first, then the production listener's weighted
        forward action moves traffic by O(bluegreen.traffic_steps), each step judged by the
        same metric gates as the VPS canary.
    type: str
    choices: [rolling, bluegreen]
    default: rolling
  minimum_healthy_percent:
    description:
      - The lowest share of the service's desired tasks that must stay running and healthy
        during the deployment, 0 to 100. Default, the service's own setting.
    type: int
  maximum_percent:
    description:
      - The highest share of the desired tasks that may run during the deployment, 100 or more,
        above O(minimum_healthy_percent). Default, the service's own setting.
    type: int
  circuit_breaker:
    description:
      - ECS's deployment circuit breaker. With it a deployment whose tasks keep failing turns
        C(FAILED) rather than retrying for ever, so that O(wait) ends with a verdict.
    type: dict
    default: {}
    suboptions:
      enable:
        description: Whether the circuit breaker is on.
        type: bool
        default: true
      rollback:
        description: >-
          Whether ECS rolls the service back to its last C(COMPLETED) deployment when one
          fails.
        type: bool
        default: true
  bluegreen:
    description:
      - The settings of O(strategy=bluegreen), which is not implemented yet (see O(strategy)).
    type: dict
    suboptions:
      services:
        description: The blue and the green service, in the order of O(bluegreen.target_groups).
        type: list
        elements: str
      listener_arn:
        description: >-
          The production listener whose forward action is weighted between the target
          groups.
        type: str
      test_listener_arn:
        description: >-
          The test listener that reaches the idle target group before any production
          traffic.
        type: str
      target_groups:
        description: The ARNs of the two target groups, blue first.
        type: list
        elements: str
      traffic_steps:
        description: The shares of production traffic, in percent, the new release takes in turn.
        type: list
        elements: int
  migrate:
    description:
      - A command (argv list) run once as a one-off task before the service changes, for example
        V([notes-api-migrate]), in the first of O(containers) of the new task definition. The
        task must stop with that container's exit code 0 within O(wait_timeout); otherwise the
        task fails with the task's reason and exit code, and nothing is switched.
    type: list
    elements: str
  wait:
    description:
      - Whether to wait for the deployment's verdict. Without it the task ends once the service
        is updated, with the deployment IN_PROGRESS.
    type: bool
    default: true
  wait_timeout:
    description: Seconds the whole task may wait (the migration task and the deployment together).
    type: int
    default: 600
  poll_interval:
    description: Seconds between two reads of the service (or of the migration task) while waiting.
    type: float
    default: 5
attributes:
  check_mode:
    support: full
    details: >-
      Reads the service and returns what would be done and the task definition that would be
      registered.
  diff_mode:
    support: full
    details: The image, the release id and the deployment configuration, before and after.
  platform:
    platforms: posix
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - ansible.builtin.action_common_attributes
seealso:
  - module: sigma.deploy.ecs_service_info
  - name: Amazon ECS rolling update deployments
    description: Deployments, rollout states and the deployment circuit breaker.
    link: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html
"""

EXAMPLES = r"""
- name: Deploy release 2 of the notes API, migrations first
  sigma.deploy.ecs_deploy:
    cluster: notes
    service: notes-api
    image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/notes:2026-08-01.2
    release_id: "2026-08-01.2"
    migrate: [notes-api-migrate]
    minimum_healthy_percent: 100
    maximum_percent: 200
    wait_timeout: 900
  register: deployed

- name: Say what served before
  ansible.builtin.debug:
    msg: "{{ deployed.deployment.previous.release_id }} -> {{ deployed.deployment.release_id }}"

- name: The worker service runs the same image with another command
  sigma.deploy.ecs_deploy:
    cluster: notes
    service: notes-worker
    image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/notes:2026-08-01.2
    release_id: "2026-08-01.2"
    environment:
      JOB_QUEUE_URL: https://sqs.us-east-1.amazonaws.com/123456789012/notes-jobs

- name: Show what a deploy would register
  sigma.deploy.ecs_deploy:
    cluster: notes
    service: notes-api
    image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/notes:2026-08-01.3
  check_mode: true
  register: plan
"""

RETURN = r"""
deployment:
  description: What the task did (in check mode, would do) and the verdict.
  returned: when the service was read
  type: dict
  contains:
    cluster:
      description: The cluster's ARN.
      type: str
      sample: arn:aws:ecs:us-east-1:123456789012:cluster/notes
    service:
      description: The service's name.
      type: str
      sample: notes-api
    action:
      description:
        - V(none) (the release serves, COMPLETED), V(deploy) (a new task definition revision and
          a deployment), V(redeploy) (the revision has the release but its deployment failed - a
          new deployment of it), V(configure) (only the deployment configuration changes),
          V(wait) (the release's deployment was in progress already; it is waited for).
      type: str
      sample: deploy
    release_id:
      description: The release deployed.
      type: str
      sample: "2026-08-01.2"
    image:
      description: The image deployed.
      type: str
    containers:
      description: The containers that run the image.
      type: list
      elements: str
      sample: [api]
    task_definition_arn:
      description:
        - The task definition the service runs after the task (the new revision); in check mode
          null when a revision would be registered.
      type: str
      sample: arn:aws:ecs:us-east-1:123456789012:task-definition/notes-api:8
    deployment_id:
      description: The deployment of the release (null in check mode for a new one).
      type: str
      sample: ecs-svc/1234567890123456789
    deployment_configuration:
      description: >-
        C(minimum_healthy_percent), C(maximum_percent) and C(circuit_breaker) (C(enable),
        C(rollback)).
      type: dict
    state:
      description:
        - The verdict on the deployment - V(completed), V(in_progress) (without O(wait)),
          V(failed), V(rolled_back) (by the circuit breaker), V(superseded) (another deployment
          replaced it); null when there is no deployment to judge (check mode).
      type: str
      sample: completed
    rollout_state:
      description: ECS's C(rolloutState) of the deployment.
      type: str
      sample: COMPLETED
    rollout_state_reason:
      description: ECS's C(rolloutStateReason) of the deployment.
      type: str
    rolled_back_to:
      description: >-
        When rolled back, the deployment ECS rolled back to (C(deployment_id),
        C(task_definition_arn), C(rollout_state)).
      type: dict
    previous:
      description: >-
        What served before - C(task_definition_arn), C(image), C(release_id),
        C(deployment_id).
      type: dict
    migration:
      description: >-
        The migration task (C(task_arn), C(command), C(exit_code), C(message)); null without
        O(migrate).
      type: dict
    stopped_tasks:
      description:
        - When the deployment did not complete, the stopped tasks it started - C(task_id),
          C(stopped_reason), C(stop_code), C(containers) (C(name), C(exit_code), C(reason)).
      type: list
      elements: dict
    events:
      description: >-
        The service's events since the deployment began, oldest first (C(id), C(created_at),
        C(message)).
      type: list
      elements: dict
    waited_s:
      description: Seconds spent waiting for the deployment.
      type: float
task_definition:
  description:
    - The C(register_task_definition) input of the release (in check mode, what would be
      registered); null when no revision is registered.
  returned: always
  type: dict
steps:
  description: What the task did, in order, one line each (also when it fails).
  returned: always
  type: list
  elements: str
  sample:
    - registered task definition notes-api:8
    - "migration task 0f3c: ended: api exited 0"
    - "service notes-api updated: deployment ecs-svc/1234567890123456789"
    - "deployment ecs-svc/1234567890123456789: completed after 74s"
api_calls:
  description: The number of ECS calls the task made (retries not counted).
  returned: always
  type: int
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.sigma.deploy.plugins.module_utils.aws.alb_client import (
    CloudWatchClient,
    ElbClient,
)
from ansible_collections.sigma.deploy.plugins.module_utils.aws.ecs_bluegreen_run import (
    EcsBlueGreen,
)
from ansible_collections.sigma.deploy.plugins.module_utils.aws.ecs_client import EcsClient
from ansible_collections.sigma.deploy.plugins.module_utils.aws.ecs_deploy_run import EcsDeploy
from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError

ARGUMENT_SPEC = dict(
    cluster=dict(type="str", required=True),
    service=dict(type="str"),
    image=dict(type="str", required=True),
    release_id=dict(type="str"),
    containers=dict(type="list", elements="str"),
    environment=dict(type="dict", default={}),
    strategy=dict(type="str", default="rolling", choices=["rolling", "bluegreen"]),
    minimum_healthy_percent=dict(type="int"),
    maximum_percent=dict(type="int"),
    circuit_breaker=dict(
        type="dict",
        default={},
        options=dict(
            enable=dict(type="bool", default=True),
            rollback=dict(type="bool", default=True),
        ),
    ),
    bluegreen=dict(
        type="dict",
        options=dict(
            services=dict(type="list", elements="str"),
            target_groups=dict(type="list", elements="str"),
            listener_arn=dict(type="str"),
            rule_arn=dict(type="str"),
            test_listener_arn=dict(type="str"),
            test_url=dict(type="str"),
            test_checks=dict(
                type="list",
                elements="dict",
                options=dict(
                    path=dict(type="str", required=True),
                    name=dict(type="str"),
                    status=dict(type="int", default=200),
                    contains=dict(type="str"),
                    json=dict(type="dict"),
                ),
            ),
            test_wait=dict(type="float", default=60),
            traffic_steps=dict(type="list", elements="int", default=[10, 50, 100]),
            step_seconds=dict(type="float", default=60),
            metric_period=dict(type="int", default=60),
            hold_seconds=dict(type="float", default=0),
            keep_old=dict(type="bool", default=False),
        ),
    ),
    canary=dict(
        type="dict",
        default={},
        options=dict(
            max_error_rate=dict(type="float", default=0.01),
            max_p95_ms=dict(type="float", default=500.0),
            min_requests=dict(type="int", default=20),
        ),
    ),
    migrate=dict(type="list", elements="str"),
    wait=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=600),
    poll_interval=dict(type="float", default=5),
)


def make_run(module: AnsibleAWSModule) -> EcsDeploy:
    def client(name: str):
        return module.client(name, retry_decorator=AWSRetry.jittered_backoff())

    ecs = EcsClient(client("ecs"))
    if module.params["strategy"] != "bluegreen":
        return EcsDeploy(ecs, module.params, module.check_mode)
    elb, cloudwatch = ElbClient(client("elbv2")), CloudWatchClient(client("cloudwatch"))
    return EcsBlueGreen(ecs, elb, cloudwatch, module.params, module.check_mode)


def main():
    module = AnsibleAWSModule(
        argument_spec=ARGUMENT_SPEC,
        required_if=[
            ("strategy", "rolling", ["service"]),
            ("strategy", "bluegreen", ["bluegreen"]),
        ],
        supports_check_mode=True,
    )
    run = make_run(module)
    error = None
    try:
        run.run()
    except ApiError as err:
        error = err
    result = dict(run.result, changed=run.changed, steps=run.steps, api_calls=run.api_calls)
    if not module._diff:
        result.pop("diff", None)
    if error is not None:
        failure = error.failure()
        if failure is not None:
            result["failure"] = failure
        module.fail_json(msg=str(error), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
