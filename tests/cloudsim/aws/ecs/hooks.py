"""The ECS calls the engine answers or completes (gateway hooks, run under the gateway lock).

- CreateService / UpdateService: answered here through moto's backend (which stores the
  service) and moto's own rendering; the engine adds what moto lacks: the deployment
  configuration, a new deployment per change that needs one, the awsvpc default security group.
- DescribeServices: moto answers; the engine keeps moto's Service objects current.
- DeleteService: moto answers; the engine drains the service's tasks (status DRAINING, then
  INACTIVE).
- RunTask, DescribeTasks, ListTasks, StopTask: the engine's tasks, answered here.
"""

from __future__ import annotations

from typing import Any

from moto.core.utils import camelcase_to_underscores

from ..gateway import AwsCall, AwsError
from . import model, rollout, runspec
from .engine import EcsEngine, ServiceState
from .model import DeploymentConfiguration
from .render import moto_errors, render

# What UpdateService can change that makes ECS start a new deployment.
REDEPLOYING = ("networkConfiguration", "loadBalancers", "platformVersion", "serviceRegistries")


def _invalid(message: str) -> AwsError:
    return AwsError("InvalidParameterException", message)


def _config(raw: Any, base: DeploymentConfiguration | None = None) -> DeploymentConfiguration:
    if raw is not None and not isinstance(raw, dict):
        raise _invalid("deploymentConfiguration must be an object.")
    config = DeploymentConfiguration.parse(raw, base)
    if not 0 <= config.minimum_healthy_percent <= 100:
        raise _invalid("minimumHealthyPercent must be between 0 and 100.")
    if config.maximum_percent < 100:
        raise _invalid("maximumPercent must be at least 100.")
    return config


def _with_default_security_group(engine: EcsEngine, region: str, network: Any) -> Any:
    """AWS uses the VPC's default security group when awsvpcConfiguration names none (moto
    fails with a KeyError)."""
    vpc = (network or {}).get("awsvpcConfiguration")
    if not isinstance(vpc, dict) or vpc.get("securityGroups"):
        return network
    ec2 = engine.gateway.backend("ec2", region)
    subnets = vpc.get("subnets") or []
    vpc_id = None
    if subnets:
        try:
            vpc_id = ec2.get_subnet(subnets[0]).vpc_id
        except Exception as exc:  # moto's InvalidSubnetIdError
            raise _invalid(
                f"Error retrieving subnet information for [{subnets[0]}]: {exc}"
            ) from exc
    group = ec2.get_default_security_group(vpc_id)
    return {
        **network,
        "awsvpcConfiguration": {**vpc, "securityGroups": [group.id] if group else []},
    }


def _family(task_definition_arn: str) -> str:
    return task_definition_arn.rsplit("/", 1)[-1].split(":", maxsplit=1)[0]


class Hooks:
    def __init__(self, engine: EcsEngine) -> None:
        self.engine = engine

    def install(self) -> None:
        on = self.engine.gateway.on
        on("ecs", "CreateService", before=self.create_service)
        on("ecs", "UpdateService", before=self.update_service)
        on("ecs", "DeleteService", after=self.delete_service)
        on("ecs", "RunTask", before=self.run_task)
        on("ecs", "DescribeTasks", before=self.describe_tasks)
        on("ecs", "ListTasks", before=self.list_tasks)
        on("ecs", "StopTask", before=self.stop_task)

    # -- services ------------------------------------------------------------------------

    def create_service(self, call: AwsCall):
        engine, p, region = self.engine, call.params, call.region
        backend = engine.gateway.backend("ecs", region)
        config = _config(p.get("deploymentConfiguration"))
        controller = (p.get("deploymentController") or {}).get("type", "ECS")
        if controller != "ECS":
            raise _invalid(f"deploymentController {controller} is not simulated (only ECS).")
        if int(p.get("desiredCount") or 0) < 0:
            raise _invalid("desiredCount must be 0 or more.")
        with moto_errors():
            cluster = backend._get_cluster(p.get("cluster") or "default")
            existing = backend.services.get(f"{cluster.name}:{p.get('serviceName')}")
            if existing is not None and existing.status != "INACTIVE":
                raise _invalid("Creation of service was not idempotent.")
            svc = backend.create_service(
                cluster.name, p.get("serviceName"), p.get("desiredCount"),
                p.get("taskDefinition"), p.get("loadBalancers"), p.get("schedulingStrategy"),
                p.get("tags"), p.get("deploymentController"), p.get("launchType"),
                network_configuration=_with_default_security_group(
                    engine, region, p.get("networkConfiguration")
                ),
                service_registries=p.get("serviceRegistries"),
                platform_version=p.get("platformVersion"),
                propagate_tags=p.get("propagateTags") or "NONE", role_arn=p.get("role"),
            )  # fmt: skip
        if svc.task_definition is None:
            raise _invalid("TaskDefinition must be specified.")
        svc.deployments = []
        service = ServiceState(svc.arn, region, cluster.name, svc.name, svc, config)
        engine.services[svc.arn] = service
        rollout.new_deployment(engine, service, svc.task_definition)
        engine.publish(service)
        return render("CreateService", {"service": svc})

    def _service(self, region: str, cluster: str | None, name: str) -> tuple[Any, ServiceState]:
        backend = self.engine.gateway.backend("ecs", region)
        with moto_errors():
            svc = backend._get_service(cluster or "default", name)
        service = self.engine.services.get(svc.arn)
        if service is None or svc.status != "ACTIVE":
            raise AwsError("ServiceNotActiveException", "Service was not ACTIVE.")
        return svc, service

    def update_service(self, call: AwsCall):
        engine, p, region = self.engine, call.params, call.region
        svc, service = self._service(region, p.get("cluster"), p.get("service", ""))
        backend = engine.gateway.backend("ecs", region)
        config = _config(p.get("deploymentConfiguration"), service.config)
        redeploy = bool(p.get("forceNewDeployment"))
        for key in REDEPLOYING:
            old = getattr(svc, camelcase_to_underscores(key), None)
            if p.get(key) is not None and p.get(key) != old:
                redeploy = True
        props = {
            camelcase_to_underscores(k): v for k, v in p.items()
            if k not in ("deploymentConfiguration", "forceNewDeployment", "taskDefinition")
        }  # fmt: skip
        if "network_configuration" in props:
            props["network_configuration"] = _with_default_security_group(
                engine, region, props["network_configuration"]
            )
        if int(p.get("desiredCount", 0) or 0) < 0:
            raise _invalid("desiredCount must be 0 or more.")
        with moto_errors():
            task_definition = (
                backend.describe_task_definition(p["taskDefinition"]).arn
                if p.get("taskDefinition") else svc.task_definition
            )  # fmt: skip
            running, pending = svc.running_count, svc.pending_count
            backend.update_service(props)
        svc.running_count, svc.pending_count = running, pending  # moto sets desired as running
        service.config = config
        if task_definition != service.primary.task_definition:
            redeploy = True
        svc.task_definition = task_definition
        if redeploy:
            rollout.new_deployment(engine, service, task_definition)
        elif "desiredCount" in p:
            service.primary.desired_count = svc.desired_count
            if service.primary.rollout_state == "COMPLETED":
                service.steady = False
            engine.wake()
        engine.publish(service)
        return render("UpdateService", {"service": svc})

    def delete_service(self, call: AwsCall, answer: dict) -> dict:
        engine = self.engine
        arn = (answer.get("service") or {}).get("serviceArn")
        service = engine.services.get(arn)
        if service is not None:
            service.deleting = True
            service.moto.desired_count = 0
            service.moto.status = "DRAINING"
            answer["service"].update(status="DRAINING", desiredCount=0)
            engine.wake()
        return answer

    # -- tasks ---------------------------------------------------------------------------

    def run_task(self, call: AwsCall):
        engine, p, region = self.engine, call.params, call.region
        backend = engine.gateway.backend("ecs", region)
        number = int(p.get("count") or 1)
        if not 1 <= number <= 10:
            raise _invalid("count must be between 1 and 10.")
        with moto_errors():
            cluster = backend._get_cluster(p.get("cluster") or "default")
            if not p.get("taskDefinition"):
                raise _invalid("TaskDefinition must be specified.")
            task_definition = backend.describe_task_definition(p["taskDefinition"])
        network = _with_default_security_group(engine, region, p.get("networkConfiguration"))
        vpc = (network or {}).get("awsvpcConfiguration") or {}
        if task_definition.network_mode == "awsvpc" and not vpc.get("subnets"):
            raise _invalid(
                "Network Configuration must be provided when networkMode 'awsvpc' is specified."
            )
        overrides = p.get("overrides") or {}
        tasks = []
        for _index in range(number):
            try:
                spec = runspec.run_spec(
                    engine.gateway, region, task_definition, overrides, engine.aws.task_env(region)
                )
            except runspec.SecretError as exc:
                spec = exc
            tasks.append(
                engine.new_task(
                    region,
                    cluster.arn,
                    task_definition,
                    group=p.get("group") or f"family:{task_definition.family}",
                    started_by=p.get("startedBy"),
                    launch_type=p.get("launchType") or "FARGATE",
                    subnets=list(vpc.get("subnets") or []),
                    spec_and_container=spec,
                    overrides={"containerOverrides": overrides.get("containerOverrides") or []},
                )
            )
        return {"tasks": [model.task_json(t) for t in tasks], "failures": []}

    def _cluster_arn(self, region: str, cluster: str | None) -> str:
        with moto_errors():
            return self.engine.gateway.backend("ecs", region)._get_cluster(cluster or "default").arn

    def _find(self, region: str, cluster_arn: str, ref: str):
        task = self.engine.tasks.get(ref.rsplit("/", 1)[-1])
        if task is None or task.cluster_arn != cluster_arn or task.region != region:
            return None
        return task

    def describe_tasks(self, call: AwsCall):
        p, region = call.params, call.region
        cluster_arn = self._cluster_arn(region, p.get("cluster"))
        found, failures = [], []
        for ref in p.get("tasks") or []:
            task = self._find(region, cluster_arn, ref)
            if task is None:
                arn = (
                    ref
                    if ref.startswith("arn:")
                    else cluster_arn.replace(":cluster/", ":task/") + f"/{ref}"
                )
                failures.append({"arn": arn, "reason": "MISSING"})
            else:
                found.append(model.task_json(task))
        return {"tasks": found, "failures": failures}

    def list_tasks(self, call: AwsCall):
        p, region = call.params, call.region
        cluster_arn = self._cluster_arn(region, p.get("cluster"))
        desired = p.get("desiredStatus") or model.RUNNING
        group = f"service:{p['serviceName'].rsplit('/', 1)[-1]}" if p.get("serviceName") else None
        arns = [
            t.arn for t in self.engine.tasks.values()
            if t.cluster_arn == cluster_arn and t.region == region
            and t.desired_status == desired
            and (group is None or t.group == group)
            and (not p.get("family") or _family(t.task_definition_arn) == p["family"])
            and (not p.get("startedBy") or t.started_by == p["startedBy"])
            and (not p.get("launchType") or t.launch_type == p["launchType"])
        ]  # fmt: skip
        return {"taskArns": arns}

    def stop_task(self, call: AwsCall):
        p, region = call.params, call.region
        cluster_arn = self._cluster_arn(region, p.get("cluster"))
        task = self._find(region, cluster_arn, p.get("task") or "")
        if task is None:
            raise _invalid("The referenced task was not found.")
        self.engine.stop_task(task, p.get("reason") or model.USER_STOPPED, model.USER_INITIATED)
        return {"task": model.task_json(task)}
