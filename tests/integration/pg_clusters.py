"""Throwaway PostgreSQL 15 clusters on loopback for the data-move tests: initdb and pg_ctl as
the ``postgres`` user (initdb refuses root), in a temporary directory, each on a free port."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

PG_BIN = Path(os.environ.get("PG_MOVE_TEST_BIN", "/usr/lib/postgresql/15/bin"))
SUPERUSER_PASSWORD = "move-test-superuser"


def missing_reason() -> str | None:
    """Why the clusters cannot run here, or None."""
    if not (PG_BIN / "initdb").exists():
        return f"no PostgreSQL binaries in {PG_BIN} (set PG_MOVE_TEST_BIN)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser"
    return None


def _as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Cluster:
    name: str
    directory: Path
    port: int

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def params(self, database: str = "app", user: str = "postgres", password: str | None = None):
        """The module's server option for this cluster."""
        return {
            "host": "127.0.0.1",
            "port": self.port,
            "database": database,
            "user": user,
            "password": password or SUPERUSER_PASSWORD,
        }

    def conninfo(self, database: str = "app", user: str = "postgres", password=None) -> str:
        p = self.params(database, user, password)
        return (
            f"host={p['host']} port={p['port']} dbname={p['database']} user={p['user']}"
            f" password={p['password']}"
        )

    def stop(self) -> None:
        subprocess.run(
            _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"]),
            check=False,
            capture_output=True,
        )


def start_cluster(name: str, wal_level: str = "logical") -> Cluster:
    directory = Path(tempfile.mkdtemp(prefix=f"pgmove-{name}-"))
    os.chmod(directory, 0o755)
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    cluster = Cluster(name, directory, _free_port())
    pwfile = directory / "pw"
    pwfile.write_text(SUPERUSER_PASSWORD + "\n")
    if os.geteuid() == 0:
        shutil.chown(pwfile, "postgres", "postgres")
    subprocess.run(
        _as_postgres(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(cluster.data),
                "-U",
                "postgres",
                "--auth=scram-sha-256",
                f"--pwfile={pwfile}",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]
        ),
        check=True,
        capture_output=True,
    )
    settings = {
        "listen_addresses": "'127.0.0.1'",
        "port": str(cluster.port),
        "unix_socket_directories": f"'{directory}'",
        "wal_level": wal_level,
        "max_wal_senders": "10",
        "max_replication_slots": "10",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "shared_buffers": "32MB",
    }
    with open(cluster.data / "postgresql.conf", "a", encoding="utf-8") as conf:
        conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
    subprocess.run(
        _as_postgres(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(cluster.data),
                "-l",
                str(directory / "log"),
                "-w",
                "-t",
                "60",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    return cluster


def remove_cluster(cluster: Cluster) -> None:
    cluster.stop()
    shutil.rmtree(cluster.directory, ignore_errors=True)
