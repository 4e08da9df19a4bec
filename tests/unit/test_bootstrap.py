"""tools/bootstrap.sh: without root, a missing package is one clear message and exit 1."""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BOOTSTRAP = ROOT / "tools" / "bootstrap.sh"


@pytest.fixture
def bare_path():
    """A PATH with the basic tools and Python, but no podman, runc or debootstrap, and a copy
    of the script beside them (``bootstrap.sh``).

    Made outside pytest's tmp_path, which an unprivileged user cannot enter; so is the copy:
    the checkout itself may lie where only root can enter (anything under /root does).
    """
    with tempfile.TemporaryDirectory(prefix="sigma-bare-path-") as tmp:
        os.chmod(tmp, 0o755)
        shutil.copy(BOOTSTRAP, Path(tmp) / "bootstrap.sh")
        os.chmod(Path(tmp) / "bootstrap.sh", 0o755)
        yield _populate(Path(tmp))


def _populate(bindir: Path) -> str:
    for tool in (
        "bash",
        "env",
        "id",
        "sort",
        "cat",
        "awk",
        "df",
        "tail",
        "python3",
        "tr",
        "dirname",
        "tar",
    ):
        # Debian's python3 first: an unprivileged user may not reach a python under /root.
        found = "/usr/bin/python3" if tool == "python3" else shutil.which(tool)
        if found:
            (bindir / tool).symlink_to(found)
    return str(bindir)


def run_bootstrap(bare_path, *args, user=None):
    cmd = ["bash", str(Path(bare_path) / "bootstrap.sh"), *args]
    if user is not None:
        cmd = [
            shutil.which("setpriv"),
            f"--reuid={user}",
            f"--regid={user}",
            "--clear-groups",
            *cmd,
        ]
    env = {"PATH": bare_path, "HOME": "/nonexistent", "LANG": "C.UTF-8"}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root")
def test_missing_packages_without_root_name_the_command_to_run(bare_path):
    proc = run_bootstrap(bare_path, "system", "demo", user=65534)
    assert proc.returncode == 1
    message = proc.stderr.strip()
    assert message.startswith("bootstrap: missing Debian packages:")
    for package in ("podman", "runc", "debootstrap"):
        assert package in message
    assert "apt-get install -y" in message
    assert message.count("\n") == 0, "one message, one line"


def test_unknown_subcommand_prints_usage(bare_path):
    proc = run_bootstrap(bare_path, "bogus")
    assert proc.returncode == 1
    assert "usage:" in proc.stderr
