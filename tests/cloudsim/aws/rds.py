"""The RDS engine: a PostgreSQL DB instance is a real PostgreSQL, run through ``aws.runtime``.

moto keeps the DB instances; this engine wraps the region backend's ``create_db_instance``,
``reboot_db_instance`` and ``delete_db_instance`` (once per backend object, from the before
hooks of the calls, under the gateway's lock) so that moto renders the truth:

- CreateDBInstance (engine ``postgres``): the instance is ``creating`` while a container of
  the PostgreSQL image (``CLOUDSIM_RDS_IMAGE``; required with the podman backend) starts with
  the master user, password and DBName of the request; ``available`` once PostgreSQL accepts
  connections; ``failed`` when it cannot start. Its Endpoint is then the container's address
  and port 5432 (deviation: AWS gives a DNS name, and the port asked for). With the memory
  runtime nothing runs: the instance turns ``available`` after the runtime's delay and keeps
  moto's endpoint. Other engines stay moto's.
- RebootDBInstance (with or without ForceFailover): ``rebooting``, the container restarts on the
  same data (its PGDATA is a volume, ``RunSpec.volumes``), then ``available``. ForceFailover
  on an instance that is not Multi-AZ is refused, as AWS does.
- DeleteDBInstance: moto deletes (and takes the final snapshot, honouring SkipFinalSnapshot as
  moto does); then the container and its data go.
- A master password AWS would refuse is an InvalidParameterValue with AWS's message, before
  anything is made.

Admin: ``GET /_admin/aws/rds`` -> ``{identifier: {"status", "key", "address"}}``.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import Any

from moto.rds.models import DBInstance

from ..core import Response
from ..fly.runtime import RunSpec
from .gateway import AwsCall, AwsError

PG_PORT = 5432
PGDATA = "/data"  # the volume; the image's PGDATA is /data/pgdata
READY_TIMEOUT = 180.0  # seconds PostgreSQL may take to accept connections
_WATCHED = "_cloudsim_rds_watched"
BAD_PASSWORD = (
    "The parameter MasterUserPassword is not a valid password. Only printable ASCII characters "
    "besides '/', '@', '\"', ' ' may be used."
)


def password_error(password: str | None) -> str | None:
    """AWS's message for a master password it refuses, or None."""
    if not password:
        return "The parameter MasterUserPassword must be provided and must not be blank."
    if len(password) < 8:
        return (
            "The parameter MasterUserPassword is not a valid password because it is shorter "
            "than 8 characters."
        )
    if any(c in '/@" ' or not 32 < ord(c) < 127 for c in password):
        return BAD_PASSWORD
    return None


class LocalDBInstance(DBInstance):
    """moto's DB instance, at the address where its PostgreSQL answers once it runs."""

    @property
    def address(self) -> str:
        return self.__dict__.get("local_address") or super().address

    @property
    def endpoint(self) -> dict[str, Any]:  # type: ignore[override]
        if self.__dict__.get("local_address"):
            return {"Address": self.local_address, "Port": PG_PORT}
        return super().endpoint


@dataclass
class Instance:
    region: str
    identifier: str
    db: Any  # moto's DBInstance
    spec: RunSpec
    key: str
    generation: int = 0  # bumped by each (re)start: a stale readiness poll gives up


class RdsEngine:
    def __init__(self, aws: Any) -> None:
        self.aws = aws
        self.gateway = aws.gateway
        self.runtime = aws.runtime
        self.instances: dict[tuple[str, str], Instance] = {}
        self.gateway.on("rds", "CreateDBInstance", before=self._before_create)
        self.gateway.on("rds", "ModifyDBInstance", before=self._before_modify)
        self.gateway.on("rds", "RebootDBInstance", before=self._before_reboot)
        self.gateway.on("rds", "DeleteDBInstance", before=self._watch)

    # -- hooks ---------------------------------------------------------------------------------

    def _watch(self, call: AwsCall) -> None:
        backend = self.gateway.backend("rds", call.region)
        if not getattr(backend, _WATCHED, False):
            backend.create_db_instance = self._wrap_create(call.region, backend.create_db_instance)
            backend.reboot_db_instance = self._wrap_reboot(call.region, backend.reboot_db_instance)
            backend.delete_db_instance = self._wrap_delete(call.region, backend.delete_db_instance)
            setattr(backend, _WATCHED, True)

    def _before_create(self, call: AwsCall) -> None:
        if call.params.get("Engine") == "postgres":
            if call.params.get("ManageMasterUserPassword", "false").lower() != "true":
                error = password_error(call.params.get("MasterUserPassword"))
                if error:
                    raise AwsError("InvalidParameterValue", error)
            if self._image() is None:
                raise AwsError(
                    "InvalidParameterValue",
                    "the local AWS has no PostgreSQL image for RDS: start the simulator with "
                    "CLOUDSIM_RDS_IMAGE set (tools/app_image.py builds sigma-postgres)",
                )
        return self._watch(call)

    def _before_modify(self, call: AwsCall) -> None:
        if "MasterUserPassword" in call.params:
            error = password_error(call.params["MasterUserPassword"])
            if error:
                raise AwsError("InvalidParameterValue", error)

    def _before_reboot(self, call: AwsCall) -> None:
        identifier = call.params.get("DBInstanceIdentifier", "")
        instance = self.instances.get((call.region, identifier))
        if instance is not None:
            if instance.db.status != "available":
                raise AwsError(
                    "InvalidDBInstanceState", f"DB instance {identifier} is not available."
                )
            failover = call.params.get("ForceFailover", "false").lower() == "true"
            if failover and not instance.db.multi_az:
                raise AwsError(
                    "InvalidParameterCombination",
                    f"Cannot do a reboot with failover: DB instance {identifier} is not Multi-AZ.",
                )
        return self._watch(call)

    # -- moto's backend, wrapped ---------------------------------------------------------------

    def _wrap_create(self, region: str, create):
        def wrapped(db_kwargs: dict[str, Any]) -> Any:
            db = create(db_kwargs)
            # moto's own class exactly: not a cluster member, not one already ours
            if db.engine == "postgres" and db.__class__ is DBInstance:
                self._start(region, db, db_kwargs)
            return db

        return wrapped

    def _wrap_reboot(self, region: str, reboot):
        def wrapped(identifier: str) -> Any:
            db = reboot(identifier)
            instance = self.instances.get((region, identifier))
            if instance is not None:
                db.status = "rebooting"
                instance.generation += 1
                generation = instance.generation

                def stopped(event: str, details: dict) -> None:
                    if event == "stopped":
                        self.runtime.launch(
                            instance.key, instance.spec, self._report(instance, generation)
                        )

                self.runtime.stop(instance.key, "SIGTERM", 30.0, stopped)
            return db

        return wrapped

    def _wrap_delete(self, region: str, delete):
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            db = delete(*args, **kwargs)
            instance = self.instances.pop((region, db.db_instance_identifier), None)
            if instance is not None:
                db.status = "deleting"
                instance.generation += 1
                self.runtime.destroy(instance.key, lambda event, details: None)
            return db

        return wrapped

    # -- running PostgreSQL --------------------------------------------------------------------

    def _image(self) -> str | None:
        image = os.environ.get("CLOUDSIM_RDS_IMAGE")
        if image:
            return image
        return "sigma-postgres:memory" if type(self.runtime).__name__ == "MemoryRuntime" else None

    def _start(self, region: str, db: Any, params: dict[str, Any]) -> None:
        identifier = db.db_instance_identifier
        user = params.get("master_username") or "postgres"
        spec = RunSpec(
            image=self._image() or "",
            env={
                "POSTGRES_USER": user,
                "POSTGRES_PASSWORD": params.get("master_user_password") or "",
                "POSTGRES_DB": params.get("db_name") or "postgres",
            },
            name=f"rds-{identifier}",
            volumes=[PGDATA],
        )
        db.__class__ = LocalDBInstance
        db.status = "creating"
        instance = Instance(region, identifier, db, spec, f"rds-{region}-{identifier}")
        self.instances[(region, identifier)] = instance
        self.runtime.launch(instance.key, spec, self._report(instance, 0))

    def _report(self, instance: Instance, generation: int):
        def report(event: str, details: dict) -> None:
            if event == "started":
                threading.Thread(
                    target=self._await_ready, args=(instance, generation),
                    name=f"rds-ready-{instance.identifier}", daemon=True,
                ).start()  # fmt: skip
            elif event in ("failed", "exited"):
                self._settle(instance, generation, "failed")

        return report

    def _await_ready(self, instance: Instance, generation: int) -> None:
        check = {"type": "tcp", "port": PG_PORT, "timeout": "2s"}
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline and instance.generation == generation:
            ok, _detail = self.runtime.probe(instance.key, check)
            if ok:
                self._settle(instance, generation, "available")
                return
            time.sleep(0.2)
        self._settle(instance, generation, "failed")

    def _settle(self, instance: Instance, generation: int, status: str) -> None:
        with self.gateway.lock:
            if instance.generation != generation:
                return  # restarted or deleted since
            if self.instances.get((instance.region, instance.identifier)) is not instance:
                return
            instance.db.status = status
            address = self.runtime.address(instance.key)
            if address:
                instance.db.local_address = address

    # -- admin, reset, close -------------------------------------------------------------------

    def admin(self, method: str, path: str, body: Any) -> Response | None:
        if path == "/_admin/aws/rds" and method == "GET":
            with self.gateway.lock:
                return Response(200, {
                    i.identifier: {
                        "status": i.db.status, "key": i.key,
                        "address": i.db.__dict__.get("local_address"),
                    }
                    for i in self.instances.values()
                })  # fmt: skip
        return None

    def reset(self) -> None:
        with self.gateway.lock:
            instances = list(self.instances.values())
            self.instances.clear()
        for instance in instances:
            instance.generation += 1
            self.runtime.destroy(instance.key, lambda event, details: None)

    def close(self) -> None:
        self.reset()


def install(aws: Any) -> RdsEngine:
    return RdsEngine(aws)
