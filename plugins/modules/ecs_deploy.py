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
  - Deploys one release, O(image) under O(release_id), to ECS services whose deployments ECS
    controls - one service by ECS's rolling update (O(strategy=rolling)), or two services behind
    two target groups by blue-green (O(strategy=bluegreen)). What C(community.aws.ecs_service)
    and C(community.aws.ecs_taskdefinition) leave to the user is done here - the task
    definition of the release is derived from the service's current one, and the deployment is
    waited for until ECS's own verdict.
  - The release's task definition is the service's current task definition (with
    O(strategy=bluegreen), the live service's) with O(image) in the O(containers) and
    C(RELEASE_ID=<release_id>) and O(environment) in their environment; everything else (roles,
    secrets, CPU, memory, other containers) stays. It is registered as a new revision of the
    same family.
  - O(migrate) runs first, once, as a one-off task of the new task definition where the
    service runs its tasks; only when its container exits 0 is a service updated. Its
    failure switches nothing - no service is updated and the new revision is deregistered.
  - O(strategy=rolling) - the service is updated to the new revision with the deployment
    configuration asked for (O(minimum_healthy_percent), O(maximum_percent),
    O(circuit_breaker)). With O(wait) the module polls the service until the new deployment is
    C(COMPLETED) (success); a deployment that is C(FAILED), rolled back by the circuit breaker
    (ECS then deploys the last C(COMPLETED) task definition again), replaced by another deploy,
    or still in progress when O(wait_timeout) runs out fails the task, with ECS's reason and the
    stopped tasks' reasons and exit codes in the message.
  - When the service's task definition carries the release already and its PRIMARY deployment
    is C(COMPLETED) with the deployment configuration asked for, nothing changes. When that
    deployment is still in progress (a rerun after a timeout), the module waits for it and
    changes nothing; when it FAILED, a new deployment of the same revision is forced.
  - O(strategy=bluegreen) - two services (O(bluegreen.services), blue then green), each
    registered in one of two target groups (O(bluegreen.target_groups), in the same order). The
    live one is the group the production listener's (or O(bluegreen.rule_arn)'s) forward action
    gives weight to; the other, idle, gets the release. In order - (1) when the idle service
    does not exist (or was deleted), it is created as a copy of the live one (task definition,
    launch type or capacity provider strategy, platform version, network configuration,
    deployment configuration, placement, tags, and the live service's load balancer entry moved
    to the idle target group) with no tasks, so that a provisioning playbook need make only one
    service; (2) the release's task definition is registered and O(migrate) runs; (3) the idle
    service is updated to it with the live service's desired count and waited for until
    C(COMPLETED), as with rolling; (4) the test listener (O(bluegreen.test_listener_arn)) is
    pointed at the idle group and O(bluegreen.test_checks) are run through it; (5) the
    production listener's forward action moves the traffic by O(bluegreen.traffic_steps); after
    each step but the last, the module waits O(bluegreen.step_seconds) and judges the idle
    group's numbers over that window from CloudWatch (C(AWS/ApplicationELB) C(RequestCount),
    C(HTTPCode_Target_5XX_Count), the p95 of C(TargetResponseTime)) by the limits of O(canary),
    as the VPS canary judges its steps; (6) after 100 %, the old service is scaled to 0 tasks
    after O(bluegreen.hold_seconds) unless O(bluegreen.keep_old) (ECS drains its targets by the
    target group's deregistration delay). The test listener is left on the new live group.
  - With O(strategy=bluegreen), a failure before the last step switches nothing - production
    goes back to (or stays at) 100 % on the live group, the test listener gets its actions back,
    and the idle service is scaled to 0 tasks (its new task definition revision stays, and a
    rerun of the same release deploys it again); ECS's events of the idle service
    (M(sigma.deploy.ecs_service_info)) tell what its tasks did. When the production listener
    already sends everything to a group whose service runs the release (PRIMARY deployment
    C(COMPLETED)), nothing changes; an unfinished end (the old service still running, the test
    listener elsewhere) is finished.
author:
  - sigma.deploy maintainers (@sigma-deploy)
options:
  cluster:
    description: The cluster's name or ARN.
    type: str
    required: true
  service:
    description:
      - The service's name or ARN, with O(strategy=rolling) (and only then). It must exist and use
        the C(ECS) deployment controller.
    type: str
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
      - V(rolling) - ECS's rolling update of O(service), bounded by O(minimum_healthy_percent) and
        O(maximum_percent), guarded by O(circuit_breaker).
      - V(bluegreen) - two services behind two target groups and a weighted forward action, with
        a test listener checked before any production traffic and a metric gate on each traffic
        step; see O(bluegreen) and the description.
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
      - The settings of O(strategy=bluegreen), required with it.
    type: dict
    suboptions:
      services:
        description:
          - The blue and the green service (names or ARNs) of O(cluster), in the order of
            O(bluegreen.target_groups). The live one must exist; the idle one is created when it
            does not (then give its name).
        type: list
        elements: str
      target_groups:
        description:
          - The blue and the green target group (ARNs or names). Each service is registered in
            its own group (its C(loadBalancers)); the two groups are of the same load balancer.
        type: list
        elements: str
      listener_arn:
        description:
          - The production listener. Its default action forwards to the live group (a single
            target group, or weighted target groups); the module replaces it with a weighted
            forward action of the two groups (stickiness off), step by step.
        type: str
      rule_arn:
        description:
          - When the app is served by a rule of the production listener (a path or host
            condition) rather than its default action, that rule's ARN; its forward action is the
            one weighted, and the default action is left alone.
        type: str
      test_listener_arn:
        description:
          - The test listener (another port of the same load balancer) through which the idle
            group is checked before any production traffic. Its default action is set to forward
            to the idle group and stays on the new live group after the shift.
        type: str
      test_url:
        description:
          - Where the test listener answers, for the checks. Default,
            C(http://<load balancer DNS name>:<test listener port>) (C(https) for an HTTPS
            listener; give the URL of a name the certificate covers then).
        type: str
      test_checks:
        description:
          - The checks through the test listener, as the VPS deploy's smoke checks - each a
            O(bluegreen.test_checks[].path) under O(bluegreen.test_url), the status expected and
            optionally a piece of the body. The failed ones are retried every second for
            O(bluegreen.test_wait) seconds; one that still fails fails the task, production
            untouched.
          - Default, one check of the idle target group's health check path expecting 200.
        type: list
        elements: dict
        suboptions:
          path:
            description: The path requested, from C(/), for example V(/healthz).
            type: str
            required: true
          name:
            description: The check's name in the results. Default, the path.
            type: str
          status:
            description: The HTTP status expected.
            type: int
            default: 200
          contains:
            description: A piece of text the body must contain.
            type: str
          json:
            description: Keys and values the body, a JSON object, must have.
            type: dict
      test_wait:
        description: Seconds the checks through the test listener are retried until they pass.
        type: float
        default: 60
      traffic_steps:
        description:
          - The shares of production traffic, in percent (1 to 100), the idle group takes in
            turn; 100 is added when missing.
        type: list
        elements: int
        default: [10, 50, 100]
      step_seconds:
        description:
          - Seconds each step but the last lasts before its numbers are judged. CloudWatch has
            an ALB's metrics a minute or two late, so against AWS make it a few periods
            (O(bluegreen.metric_period)) long, and O(canary.min_requests) what that share of the
            traffic brings in that time.
        type: float
        default: 60
      metric_period:
        description:
          - The period of the CloudWatch queries, in seconds - 60 (or a multiple) for AWS's
            per-minute ALB metrics; 1, 5, 10 or 30 for high-resolution data (the local AWS of
            the tests publishes per second).
        type: int
        default: 60
      hold_seconds:
        description:
          - Seconds the old service keeps its tasks after the last step (for a quick way back by
            the listener alone), before it is scaled to 0.
        type: float
        default: 0
      keep_old:
        description: Leave the old service running after the shift (it is not scaled to 0).
        type: bool
        default: false
  canary:
    description:
      - The limits each traffic step of O(strategy=bluegreen) must keep, judged as the VPS
        canary's steps (the role C(app_deploy)'s C(app_deploy_canary_*) defaults) - the idle
        target group's numbers over the step's window.
    type: dict
    default: {}
    suboptions:
      max_error_rate:
        description: The highest share of 5xx answers of the idle group's targets (0.01 = 1 %).
        type: float
        default: 0.01
      max_p95_ms:
        description: The highest 95th percentile of the targets' response time, in milliseconds.
        type: float
        default: 500
      min_requests:
        description: >-
          The fewest requests a step must see; fewer fail the step (no data is not a good
          sign).
        type: int
        default: 20
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
        is updated, with the deployment IN_PROGRESS. O(strategy=bluegreen) always waits (V(false)
        is refused).
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds the whole task may wait for the migration task and the deployment together (the
        checks and the traffic steps of O(strategy=bluegreen) have their own times).
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
      Reads the service (services, listeners, target groups) and returns what would be done and
      the task definition that would be registered.
  diff_mode:
    support: full
    details: >-
      The image, the release id and the deployment configuration (with O(strategy=bluegreen),
      the live target group's name), before and after.
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
  - name: Listeners for your Application Load Balancers
    description: Forward actions with weighted target groups.
    link: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-listeners.html
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

- name: Deploy release 3 by blue-green, 10 % then 50 % of the traffic judged for 3 minutes each
  sigma.deploy.ecs_deploy:
    cluster: notes
    strategy: bluegreen
    image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/notes:2026-08-02.1
    release_id: "2026-08-02.1"
    migrate: [notes-api-migrate]
    bluegreen:
      services: [notes-api-blue, notes-api-green]
      target_groups: [notes-api-blue, notes-api-green]
      listener_arn: "{{ alb_listeners.https }}"
      test_listener_arn: "{{ alb_listeners.test }}"
      test_checks:
        - {path: /healthz, contains: '"status":"ok"'}
        - {path: /version, contains: "2026-08-02.1"}
      traffic_steps: [10, 50, 100]
      step_seconds: 180
      hold_seconds: 300
    canary:
      max_error_rate: 0.01
      max_p95_ms: 500
      min_requests: 50
  register: bluegreen

- name: Say which target group serves now
  ansible.builtin.debug:
    msg: "{{ bluegreen.deployment.bluegreen.serving_target_group }}"

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
      description:
        - The service's name; with O(strategy=bluegreen) the one that gets the release (the
          idle one), or the one serving it already with the actions V(none) and V(finish).
      type: str
      sample: notes-api
    action:
      description:
        - V(none) (the release serves, COMPLETED), V(deploy) (a new task definition revision and
          a deployment), V(redeploy) (the revision has the release but its deployment failed - a
          new deployment of it), V(configure) (only the deployment configuration changes),
          V(wait) (the release's deployment was in progress already; it is waited for).
        - With O(strategy=bluegreen) - V(none), V(deploy) (to the idle service), V(redeploy)
          (the idle service has the release's revision but does not run it, for example scaled
          to 0 after a failure - a new deployment of it), V(shift) (the idle service runs the
          release, COMPLETED - checks and traffic steps only), V(finish) (production is on the
          release; the test listener or the old service are left to do).
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
    bluegreen:
      description: With O(strategy=bluegreen), what happened to the pair.
      returned: with O(strategy=bluegreen)
      type: dict
      contains:
        live_service:
          description: The service that took production traffic when the task began.
          type: str
          sample: notes-api-blue
        live_target_group:
          description: Its target group's ARN.
          type: str
        idle_service:
          description: The other service, which gets the release.
          type: str
          sample: notes-api-green
        idle_target_group:
          description: Its target group's ARN.
          type: str
        idle_service_created:
          description: >-
            Whether the idle service was (in check mode, would be) created as a copy of the live
            one.
          type: bool
        serving_target_group:
          description: >-
            The target group that takes production traffic at the end - the idle one after a
            complete shift, the live one otherwise.
          type: str
        traffic_steps:
          description: The shares of traffic planned for the idle group, in percent.
          type: list
          elements: int
          sample: [10, 50, 100]
        test_url:
          description: Where the checks went (null when there was nothing to check).
          type: str
          sample: http://notes-1234567890.us-east-1.elb.amazonaws.com:8080
        test_checks:
          description: >-
            The checks' results (C(name), C(url), C(status), C(passed), C(reason),
            C(elapsed_ms), C(attempts)).
          type: list
          elements: dict
        shifts:
          description:
            - Each traffic step taken - C(percent), C(at) (when the listener changed, ISO 8601),
              C(window_s), C(stats) (C(requests), C(errors), C(error_rate), C(p95_ms) of the idle
              group over the window), C(passed) and C(message) (the verdict with the numbers
              and the limits); the last step (100 %) is not judged (C(stats) and C(passed)
              null).
          type: list
          elements: dict
        scaled_to_zero:
          description: >-
            Whether the old service was scaled to 0 tasks after the shift (false with
            O(bluegreen.keep_old); null when the task ended before).
          type: bool
        timings:
          description: >-
            Seconds spent - C(deploy_s) (the idle service's deployment), C(test_s) (the checks),
            C(shift_s) (the traffic steps), C(total_s).
          type: dict
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
  description: The number of AWS calls the task made (ECS, ELB, CloudWatch; retries not counted).
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
