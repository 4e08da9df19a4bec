#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: fly_deploy
short_description: Deploy a release to a Fly.io app's machines without downtime
version_added: 0.3.0
description:
  - Brings the machines of a Fly.io app (process group C(app)) to one release, O(image) under
    O(release_id), with the chosen O(strategy), through the Machines API.
  - Every machine of a release carries the metadata C(fly_process_group=app) and
    C(sigma_release=<release_id>). Machines already on O(image) and O(release_id), started,
    passing their checks and not cordoned are left alone; when all are, and there are
    O(count) of them, nothing changes.
  - Before it changes anything the module leases every machine it will change; a machine
    leased by someone else stops the task with an error that names the holder and the
    expiry, and nothing is changed. Machines it creates are leased from their creation.
    Leases are refreshed while the task works and released at its end, whatever happened.
  - O(release_command) (database migrations) runs once, before any traffic moves, in a
    temporary machine of the new image (see O(release_command)).
  - On a failure the app is left serving the release it served before, and the error says
    what happened and what was put back. A rerun after a failure converges.
  - "Beyond C(fly deploy): the deploy is idempotent, it has a check mode that shows the plan,
    a canary judged by the app's own error rate and latency, and a failing green machine is
    always destroyed (no zombie machines, cf. superfly/flyctl#2836)."
author:
  - sigma.deploy maintainers (@sigma-deploy)
options:
  app:
    description: The name of the Fly.io app. It must exist (see M(sigma.deploy.fly_app)).
    type: str
    required: true
  image:
    description:
      - The image of the release, for example V(registry.fly.io/notes:2026-08-01.1).
    type: str
    required: true
  release_id:
    description:
      - The release's id, written to each machine's C(sigma_release) metadata. Deploying the
        same image under another id is a change.
    type: str
    required: true
  strategy:
    description:
      - V(bluegreen) creates O(count) green machines outside the proxy's routing, waits until
        every one is started and passes its checks, uncordons them (now they take traffic),
        cordons the blue machines (no new traffic), then stops and destroys them. Until every
        blue machine is cordoned, a failure destroys the green machines and the blue ones go
        on serving; a green machine that fails its checks never takes traffic. Once every
        blue machine is cordoned the new release serves; a failure while the blue machines are
        stopped and destroyed is reported, and a rerun removes them. A blue machine destroyed
        by someone else during the deploy is simply gone. Needs a check in O(config).
      - V(rolling) updates the machines in place (Fly keeps their ids), O(max_unavailable) at a
        time; each batch is drained first (cordoned, then O(settle_s) seconds for the proxy),
        and each update is waited for by its new instance id, then its checks (then the machine
        is uncordoned), before the next batch. A failure puts every machine already updated
        back to its previous config.
      - V(canary) updates one machine first, waits O(canary.window_s) seconds and judges its
        traffic by the rules of the VPS canary (error rate, p95 latency, minimum requests) from
        Fly's Prometheus metrics; missing data fails the step. Then it goes on as V(rolling).
      - V(immediate) updates every machine at once and waits only for them to start, not for
        their checks.
      - Machines missing to reach O(count) are created (bluegreen creates them all), before
        any machine is updated (a canary's machine excepted); machines over O(count) are
        cordoned, stopped and destroyed once the rest serve.
      - An image Fly cannot pull, an unknown region or a machine config Fly refuses fails the
        deploy at the first machine it would create or update, naming the option (O(image),
        O(region), C(config.guest.cpus), ...); no machine is left changed or behind.
    type: str
    choices: [bluegreen, rolling, canary, immediate]
    default: bluegreen
  count:
    description:
      - How many machines the app runs after the deploy. Default, the number of its machines
        now (at least 1).
    type: int
  region:
    description:
      - The region of machines the module creates. Default, the region of the app's first
        machine (for an app without machines, Fly's choice).
    type: str
  config:
    description:
      - The template of a machine's config (Fly's C(config) object). The module sets C(image)
        from O(image) and adds its metadata to C(metadata). Machines updated in place keep the
        keys this template does not name (C(mounts), for one).
      - The app's secrets (M(sigma.deploy.fly_secret)) reach every machine as environment
        variables; do not put secrets in C(env).
    type: dict
    default: {}
    suboptions:
      env:
        description: Environment variables.
        type: dict
      guest:
        description: CPUs and memory (C(cpu_kind), C(cpus), C(memory_mb)).
        type: dict
      services:
        description: The services the proxy routes to, with ports and their checks.
        type: list
        elements: dict
      checks:
        description: Top-level checks, by name (C(type), C(port), C(path), C(interval), ...).
        type: dict
      restart:
        description: The restart policy (C(policy), C(max_retries)).
        type: dict
      init:
        description: C(cmd), C(entrypoint), C(exec) of the machine.
        type: dict
      metadata:
        description: Metadata of your own; the module's keys win.
        type: dict
  release_command:
    description:
      - A command (argv list) run once before any traffic moves, for example
        V([notes-api-migrate]), in a temporary machine of O(image) with the app's env and
        secrets, restart policy C(no) and C(auto_destroy). The module waits for it to end (at
        most O(wait_timeout)); a non-zero exit code fails the task with that code and the
        machine's last events, and nothing is switched. The machine is destroyed in any case.
    type: list
    elements: str
  max_unavailable:
    description:
      - How many machines a batch of V(rolling) (and of V(canary) after its canary) updates at
        once, a whole number from 1, or a fraction of the machines between 0 and 1 (rounded up).
    type: float
    default: 1
  canary:
    description: The gate of O(strategy=canary).
    type: dict
    default: {}
    suboptions:
      max_error_rate:
        description: The highest error rate (responses 500 or more) that passes, from 0 to 1.
        type: float
        default: 0.01
      max_p95_ms:
        description: The highest p95 latency that passes, in milliseconds.
        type: float
        default: 500
      min_requests:
        description: The fewest requests the canary must have served in the window.
        type: int
        default: 20
      window_s:
        description:
          - Seconds of the canary's traffic that are judged. The module waits this long once
            the canary passes its checks, so the window holds only the new release's traffic.
        type: int
        default: 60
      metrics_url:
        description:
          - Fly's Prometheus API for the app's organization. Default
            C(https://api.fly.io/prometheus/<org>), the organization read from the app.
        type: str
  wait_timeout:
    description:
      - Seconds each wait may take - a machine reaching a state, passing its checks, the
        release command ending.
    type: int
    default: 300
  settle_s:
    description:
      - Seconds to wait for Fly's proxy to apply a routing change, so that no request meets a
        machine that is going away. V(bluegreen) waits after it uncordons the green machines
        before it cordons the blue ones, and again before it stops the cordoned blue ones
        (flyctl waits 10 s at both points). V(rolling) and V(canary) drain each batch; its
        machines are cordoned, then updated this many seconds later (flyctl does not drain).
        V(0) does not wait; the local simulator's proxy stand-in applies a change at once.
    type: float
    default: 10
  lease_ttl:
    description:
      - Seconds each lease lasts; the module refreshes its leases while it works, and a lease
        it could not release expires after this.
    type: int
    default: 120
attributes:
  check_mode:
    support: full
    details: Reads the app's machines and returns the plan; changes nothing.
  diff_mode:
    support: full
    details: The diff shows the release, the image and the number of machines.
  platform:
    platforms: posix
extends_documentation_fragment:
  - sigma.deploy.fly
  - ansible.builtin.action_common_attributes
seealso:
  - module: sigma.deploy.fly_app
  - module: sigma.deploy.fly_machine
  - module: sigma.deploy.fly_secret
  - name: Fly.io Machines API
    description: The API this module drives.
    link: https://fly.io/docs/machines/api/
"""

EXAMPLES = r"""
- name: Deploy release 2 of the notes app, blue/green, migrations first
  sigma.deploy.fly_deploy:
    app: notes
    image: registry.fly.io/notes:2026-08-01.2
    release_id: "2026-08-01.2"
    count: 3
    region: ams
    release_command: [notes-api-migrate]
    config:
      guest: {cpu_kind: shared, cpus: 1, memory_mb: 512}
      env: {PORT: "8080"}
      services:
        - protocol: tcp
          internal_port: 8080
          ports:
            - {port: 80, handlers: [http]}
            - {port: 443, handlers: [tls, http]}
      checks:
        health: {type: http, port: 8080, path: /healthz, interval: 5s, timeout: 2s}
  delegate_to: localhost
  register: deployed

- name: Roll it out one machine at a time instead
  sigma.deploy.fly_deploy:
    app: notes
    image: registry.fly.io/notes:2026-08-01.2
    release_id: "2026-08-01.2"
    strategy: rolling
    max_unavailable: 1
    config: "{{ notes_machine_config }}"
  delegate_to: localhost

- name: A canary judged on 2 minutes of its traffic, then the rest, a third at a time
  sigma.deploy.fly_deploy:
    app: notes
    image: registry.fly.io/notes:2026-08-01.2
    release_id: "2026-08-01.2"
    strategy: canary
    max_unavailable: 0.33
    canary:
      max_error_rate: 0.01
      max_p95_ms: 300
      min_requests: 50
      window_s: 120
    config: "{{ notes_machine_config }}"
  delegate_to: localhost

- name: Show what a deploy would do
  sigma.deploy.fly_deploy:
    app: notes
    image: registry.fly.io/notes:2026-08-01.3
    release_id: "2026-08-01.3"
    config: "{{ notes_machine_config }}"
  check_mode: true
  delegate_to: localhost
  register: plan

- name: Print it
  ansible.builtin.debug:
    msg: >-
      create {{ plan.plan.create }}, update {{ plan.plan.update }},
      destroy {{ plan.plan.destroy }}
"""

RETURN = r"""
release_id:
  description: The release deployed (O(release_id)).
  returned: always
  type: str
  sample: "2026-08-01.2"
previous:
  description:
    - What served before the task - the release and image of most of the app's started
      machines; null for an app without machines.
  returned: always
  type: dict
  contains:
    release_id:
      description: The release id (null for machines deployed without this module).
      type: str
      sample: "2026-08-01.1"
    image:
      description: The image.
      type: str
      sample: registry.fly.io/notes:2026-08-01.1
machines:
  description: The app's machines at the end of the task (in check mode, as they are now).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The machine id.
      type: str
      sample: 148e21ea7d0589
    region:
      description: The region.
      type: str
      sample: ams
    state:
      description: The state (V(started), V(stopped), ...).
      type: str
      sample: started
    image:
      description: The image of its config.
      type: str
      sample: registry.fly.io/notes:2026-08-01.2
    release_id:
      description: Its C(sigma_release) metadata.
      type: str
      sample: "2026-08-01.2"
plan:
  description: What the task does (in check mode, what it would do).
  returned: always
  type: dict
  contains:
    strategy:
      description: The strategy.
      type: str
      sample: bluegreen
    count:
      description: The number of machines after the deploy.
      type: int
      sample: 3
    keep:
      description: Machines already on the release, left alone.
      type: list
      elements: str
      sample: []
    update:
      description: Machines updated in place, in order.
      type: list
      elements: str
      sample: []
    create:
      description: How many machines are created.
      type: int
      sample: 3
    destroy:
      description: Machines destroyed once the new ones serve.
      type: list
      elements: str
      sample: [148e21ea7d0589, 2865d34f9e4d78, 91851edb6ee983]
    region:
      description: The region of created machines (null for Fly's choice).
      type: str
      sample: ams
canary:
  description: The canary's verdict, for O(strategy=canary) when it was judged.
  returned: when judged
  type: dict
  contains:
    machine_id:
      description: The canary machine.
      type: str
    passed:
      description: Whether its numbers passed.
      type: bool
    message:
      description: The numbers and the limits, in words.
      type: str
      sample: >-
        canary 148e21ea7d0589 over 60s: 240 requests, 0 errors (0.00 %), p95 41 ms: pass
        (limits: errors <= 1.00 %, p95 <= 500 ms, at least 20 requests)
    stats:
      description: C(requests), C(errors), C(error_rate), C(p95_ms) and C(statuses).
      type: dict
api_calls:
  description: The number of HTTP requests the task sent (retries included).
  returned: always
  type: int
  sample: 41
steps:
  description: What the task did, in order, one line each (also returned when it fails).
  returned: always
  type: list
  elements: str
  sample:
    - created 3d8d9e5b1f2e87 in ams (2026-08-01.2, registry.fly.io/notes:2026-08-01.2)
    - 3d8d9e5b1f2e87 is started
    - 3d8d9e5b1f2e87 passes its checks (2.1s)
    - "uncordoned 3d8d9e5b1f2e87: it takes traffic"
timings:
  description:
    - Seconds each phase took (C(plan), C(leases), C(release_command), C(deploy), C(total)).
  returned: always
  type: dict
  sample: {plan: 0.02, leases: 0.05, release_command: 4.1, deploy: 12.7, total: 16.9}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError
from ansible_collections.sigma.deploy.plugins.module_utils.fly import deploy_plan as dp
from ansible_collections.sigma.deploy.plugins.module_utils.fly.client import FlyClient
from ansible_collections.sigma.deploy.plugins.module_utils.fly.deploy_run import Deploy


def check_params(params):
    """Refuse, naming the option, what the API would not be asked to do."""
    count = params.get("count")
    if count is not None and count < 1:
        raise ApiError.refusal(f"count must be at least 1, got {count}")
    share = params.get("max_unavailable")
    if share is not None and not (0 < share < 1 or (share >= 1 and share == int(share))):
        raise ApiError.refusal(
            "max_unavailable must be a whole number of machines (1 or more) or a fraction "
            f"between 0 and 1, got {share:g}"
        )
    config = params.get("config") or {}
    if "image" in config:
        raise ApiError.refusal("config.image is set by the module from image: remove it")
    if params.get("release_command") is not None and not params["release_command"]:
        raise ApiError.refusal("release_command must name a command, got an empty list")
    if params.get("settle_s") is not None and params["settle_s"] < 0:
        raise ApiError.refusal(f"settle_s must be 0 or more seconds, got {params['settle_s']:g}")
    for key in ("wait_timeout", "lease_ttl"):
        if params.get(key) is not None and params[key] < 1:
            raise ApiError.refusal(f"{key} must be at least 1 second, got {params[key]}")


# The fields of a machine config the module fills from its own options: an error about one
# names the option.
OPTION_OF_FIELD = {"config.image": "image", "config.metadata.sigma_release": "release_id"}


def run_deploy(client, params, check_mode=False, hooks=()):
    """The whole task: ``(result, error)``; ``error`` is None or the :class:`ApiError` that
    stopped it (the result then says what was done)."""
    deploy = Deploy(client, params, hooks=hooks)
    result = {"changed": False, "release_id": params["release_id"], "previous": None}
    error = None
    try:
        check_params(params)
        mark = client.clock()
        plan = deploy.plan()
        deploy.timings["plan"] = round(client.clock() - mark, 3)
        result["previous"] = dp.serving_release(deploy.before)
        result["plan"] = plan.as_dict()
        result["diff"] = dp.diff(
            plan,
            result["previous"],
            params["image"],
            params["release_id"],
            len(dp.app_machines(deploy.before)),
        )
        result["changed"] = plan.changed
        if plan.changed and not check_mode:
            deploy.apply(plan)
    except ApiError as err:
        err.field = OPTION_OF_FIELD.get(err.field, err.field)
        error = err
    problems = deploy.leases.problems
    if problems:
        result["warnings"] = list(problems)
    try:
        result["machines"] = (
            [dp.shape_machine(m) for m in dp.app_machines(deploy.before)]
            if check_mode
            else deploy.machines_now()
        )
    except ApiError:
        result["machines"] = [dp.shape_machine(m) for m in dp.app_machines(deploy.before)]
    if deploy.canary is not None:
        result["canary"] = deploy.canary
    deploy.timings["total"] = round(client.clock() - deploy.started, 3)
    result.update(api_calls=deploy.api_calls, steps=deploy.steps, timings=deploy.timings)
    if error is not None:
        result["touched"] = deploy.ops.touched
    return result, error


def main():
    module = AnsibleModule(
        argument_spec=FlyClient.argument_spec(
            app=dict(type="str", required=True),
            image=dict(type="str", required=True),
            release_id=dict(type="str", required=True),
            strategy=dict(
                type="str",
                default="bluegreen",
                choices=["bluegreen", "rolling", "canary", "immediate"],
            ),
            count=dict(type="int"),
            region=dict(type="str"),
            config=dict(
                type="dict",
                default={},
                options=dict(
                    env=dict(type="dict"),
                    guest=dict(type="dict"),
                    services=dict(type="list", elements="dict"),
                    checks=dict(type="dict"),
                    restart=dict(type="dict"),
                    init=dict(type="dict"),
                    metadata=dict(type="dict"),
                ),
            ),
            release_command=dict(type="list", elements="str"),
            max_unavailable=dict(type="float", default=1),
            canary=dict(
                type="dict",
                default={},
                options=dict(
                    max_error_rate=dict(type="float", default=0.01),
                    max_p95_ms=dict(type="float", default=500.0),
                    min_requests=dict(type="int", default=20),
                    window_s=dict(type="int", default=60),
                    metrics_url=dict(type="str"),
                ),
            ),
            wait_timeout=dict(type="int", default=300),
            lease_ttl=dict(type="int", default=120),
            settle_s=dict(type="float", default=10),
        ),
        supports_check_mode=True,
    )
    params = dict(module.params)
    params["config"] = {k: v for k, v in (params["config"] or {}).items() if v is not None}
    result, error = run_deploy(FlyClient.from_module(module), params, module.check_mode)
    if error is not None:
        result["changed"] = result.pop("touched", False)  # a failure reports what it changed
        failure = error.failure()
        if failure is not None:
            result["failure"] = failure
        module.fail_json(msg=str(error), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
