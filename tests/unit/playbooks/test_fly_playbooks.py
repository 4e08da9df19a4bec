"""The fly rung's playbooks run by ansible-playbook against the Fly simulator (memory runtime,
no podman): demo_fly.yml (fly_app.yml, deploy.yml), deploy.yml, rollback.yml, a failing
deploy, preview.yml present, again, absent.

The memory runtime runs no process, so the release command's machine is made to exit here:
machines whose command is ``notes-api-migrate`` start and exit 0 (a wrapper around the
runtime's ``launch``, undone after each test). The inventory is inventories/local/demo.fly.yml,
its state directories moved under the test's tmp_path.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
INVENTORY = ROOT / "inventories" / "local" / "demo.fly.yml"
IMAGE_1, IMAGE_2 = "registry.fly.io/notes:r1", "registry.fly.io/notes:r2"
MIGRATE = "notes-api-migrate"


@pytest.fixture
def vendor(sim):
    return next(v for v in sim.sim.vendors if v.name == "fly")


@pytest.fixture
def migrations(vendor, monkeypatch) -> list[str]:
    """Machines running the release command start and exit 0; returns the images they ran."""
    runtime = vendor.runtime
    launch = runtime.launch
    ran: list[str] = []

    def launch_or_exit(key, spec, report):
        if not (spec.cmd and spec.cmd[0] == MIGRATE) or ":missing" in spec.image:
            launch(key, spec, report)  # (the runtime cannot pull a :missing image)
            return
        ran.append(spec.image)

        def run():
            report("started", {})
            report("exited", {"exit_code": 0})

        threading.Thread(target=run, daemon=True).start()

    monkeypatch.setattr(runtime, "launch", launch_or_exit)
    return ran


@pytest.fixture
def play(sim, tmp_path):
    """Run a playbook against the simulator; returns (returncode, the json callback's report)."""
    collections = tmp_path / "collections" / "ansible_collections" / "sigma"
    collections.mkdir(parents=True)
    (collections / "deploy").symlink_to(ROOT)
    cfg = tmp_path / "ansible.cfg"
    cfg.write_text("[defaults]\nretry_files_enabled = false\n")
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(cfg),
        "ANSIBLE_COLLECTIONS_PATH": str(tmp_path / "collections"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "FLY_API_TOKEN": sim.token,
        "FLY_FLAPS_BASE_URL": sim.url + "/fly",
        "REQUESTS_CA_BUNDLE": sim.ca_path,
        "FLY_APP_URL": "http://127.0.0.1:9/{app}",
        "HOME": str(tmp_path / "home"),
    }
    state = tmp_path / "state"

    def run(playbook: str, *extra: str, inventory: Path = INVENTORY) -> tuple[int, dict]:
        proc = subprocess.run(
            [
                ANSIBLE_PLAYBOOK, "-i", str(inventory), str(ROOT / "playbooks" / playbook),
                "-e", f"app_deploy_state_dir={state}", "-e", f"fly_state_dir={state}/fly",
                *extra,
            ],
            capture_output=True, text=True, env=env, cwd=tmp_path, check=False, timeout=300,
        )  # fmt: skip
        try:
            report = json.loads(proc.stdout)
        except json.JSONDecodeError:
            pytest.fail(f"{playbook}: no JSON report\n{proc.stdout}\n{proc.stderr}")
        return proc.returncode, report

    run.state = state
    return run


def task_result(report: dict, name: str) -> dict:
    """The last result of the task whose name starts with ``name``."""
    found = [
        task["hosts"]["fly-notes"]
        for p in report["plays"]
        for task in p["tasks"]
        if task["task"]["name"].startswith(name) and "fly-notes" in task["hosts"]
    ]
    assert found, f"no task {name!r}"
    return found[-1]


def machines(vendor, app: str) -> list:
    return [m for m in vendor.machines.values() if m.app == app and m.state != "destroyed"]


def ledger(state: Path) -> list[dict]:
    lines = (state / "notes" / "ledger.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


def failure(report: dict) -> str:
    """The messages of the failed tasks, for an assertion's message."""
    return "\n".join(
        f"{task['task']['name']}: {result.get('msg')}"
        for p in report["plays"]
        for task in p["tasks"]
        for result in task["hosts"].values()
        if result.get("failed")
    )


def served(vendor, app: str = "notes") -> list[tuple[str, str]]:
    """(image, release) of each live machine of the app."""
    return sorted(
        (m.config["image"], m.config["metadata"]["sigma_release"]) for m in machines(vendor, app)
    )


def test_the_demo_then_deploy_and_rollback_through_the_same_playbooks(play, vendor, migrations):
    # demo_fly.yml: fly_app.yml, then deploy.yml of release 1.
    summary = play.state / "summary.txt"
    rc, report = play(
        "demo_fly.yml", "-e", f"fly_image_v1={IMAGE_1}", "-e", f"fly_image_v2={IMAGE_2}",
        "-e", f"demo_summary_file={summary}",
    )  # fmt: skip
    assert rc == 0, failure(report)
    assert sorted(vendor.apps) == ["notes", "notes-db"]
    assert sorted(vendor.apps["notes"].secrets) == ["DATABASE_URL"]
    assert served(vendor) == [(IMAGE_1, "r1"), (IMAGE_1, "r1")]
    text = summary.read_text()
    assert "release r1 (registry.fly.io/notes:r1) was deployed" in text
    assert "The app: http://127.0.0.1:9/notes\n" in text
    assert (
        "Deploy release 2:  ansible-playbook -i inventories/local/demo.fly.yml"
        f" playbooks/deploy.yml -e image={IMAGE_2}\n"
    ) in text

    rc, report = play("deploy.yml", "-e", f"image={IMAGE_2}")
    assert rc == 0, failure(report)
    assert served(vendor) == [(IMAGE_2, "r2"), (IMAGE_2, "r2")]
    assert migrations == [IMAGE_1, IMAGE_2]  # once per deploy, before the machines moved

    rc, report = play("rollback.yml")
    assert rc == 0, failure(report)
    assert served(vendor) == [(IMAGE_1, "r1"), (IMAGE_1, "r1")]
    assert migrations == [IMAGE_1, IMAGE_2]  # a rollback never migrates

    entries = ledger(play.state)
    fields = ("kind", "release_id", "image", "previous_release_id", "strategy", "result")
    assert [tuple(e[f] for f in fields) for e in entries] == [
        ("deploy", "r1", IMAGE_1, "", "blue_green", "succeeded"),
        ("deploy", "r2", IMAGE_2, "r1", "blue_green", "succeeded"),
        ("rollback", "r1", IMAGE_1, "r2", "blue_green", "succeeded"),
    ]
    assert entries[-1]["host_results"]["fly-notes"]["result"] == "succeeded"
    assert not (play.state / "notes" / "lock.json").exists()


def test_failing_releases_are_recorded_failed_and_the_app_keeps_serving(play, vendor, migrations):
    assert play("fly_app.yml")[0] == 0
    assert play("deploy.yml", "-e", f"image={IMAGE_1}")[0] == 0
    ids = sorted(m.id for m in machines(vendor, "notes"))

    # Its checks never pass (the memory runtime's hook); 3 s is all the wait gets.
    rc, report = play(
        "deploy.yml", "-e", "image=registry.fly.io/notes:failing",
        "-e", "app_deploy_fly_wait_timeout=3",
    )  # fmt: skip
    assert rc == 2, json.dumps(task_result(report, "sigma.deploy.app_deploy : Show what"), indent=1)
    assert "checks" in task_result(report, "sigma.deploy.app_deploy : Fail when")["msg"]
    assert served(vendor) == [(IMAGE_1, "r1"), (IMAGE_1, "r1")]  # no green machine left
    last = ledger(play.state)[-1]
    assert (last["release_id"], last["result"], last["host_results"]["fly-notes"]["result"]) == (
        "failing", "failed", "failed",
    )  # fmt: skip
    assert not (play.state / "notes" / "lock.json").exists()

    # An image that does not exist: the message names it, nothing moves, recorded failed.
    missing = "registry.fly.io/notes:missing"
    rc, report = play("deploy.yml", "-e", f"image={missing}")
    assert rc == 2, failure(report)
    message = task_result(report, "sigma.deploy.app_deploy : Fail when")["msg"]
    assert "for field 'image': " in message, message
    assert f"unable to pull image {missing}" in message, message
    assert served(vendor) == [(IMAGE_1, "r1"), (IMAGE_1, "r1")]
    assert sorted(m.id for m in machines(vendor, "notes")) == ids
    last = ledger(play.state)[-1]
    assert (last["release_id"], last["image"], last["result"]) == ("missing", missing, "failed")
    assert f"unable to pull image {missing}" in last["error"]
    assert not (play.state / "notes" / "lock.json").exists()

    # The same release again: nothing to do, and the deploy says so.
    rc, report = play("deploy.yml", "-e", f"image={IMAGE_1}")
    assert rc == 0, failure(report)
    assert ledger(play.state)[-1]["host_results"]["fly-notes"]["result"] == "unchanged"
    assert migrations == [IMAGE_1, "registry.fly.io/notes:failing"]


def test_immediate_is_refused_on_the_vps_rung(play, tmp_path):
    inventory = tmp_path / "vps.ini"
    inventory.write_text("[app]\nvps1 ansible_connection=local\n")
    rc, report = play(
        "deploy.yml", "-e", "strategy=immediate", "-e", "sigma_connect_as_admin=false",
        inventory=inventory,
    )  # fmt: skip
    assert rc == 2
    assert failure(report).startswith(
        "sigma.deploy.app_deploy : Check the deploy settings: The strategy immediate is for the"
        " fly rung only (app_deploy_rung=fly). Invalid deploy settings: strategy must be"
        " blue_green, rolling or canary (it is immediate); app_deploy_app a lower-case name"
    ), failure(report)


def test_a_preview_app_is_made_once_and_removed_whole(play, vendor, migrations):
    image = "registry.fly.io/notes:pr-42"
    rc, report = play("preview.yml", "-e", "pr=42", "-e", f"image={image}")
    assert rc == 0, failure(report)
    assert sorted(vendor.apps) == ["notes-pr-42", "notes-pr-42-db"]
    assert served(vendor, "notes-pr-42") == [(image, "pr-42")]
    database = machines(vendor, "notes-pr-42-db")
    assert [(m.name, m.config["image"]) for m in database] == [("postgres", "postgres:16-bookworm")]
    assert sorted(vendor.apps["notes-pr-42-db"].secrets) == [
        "POSTGRES_DB", "POSTGRES_PASSWORD", "POSTGRES_USER",
    ]  # fmt: skip
    assert migrations == [image]
    password_file = play.state / "fly" / "notes-pr-42-db.password"
    password = password_file.read_text().strip()
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    assert len(password) == 32
    url = f"postgresql+psycopg://notes:{password}@notes-pr-42-db.internal:5432/notes"
    assert vendor.apps["notes-pr-42"].secrets["DATABASE_URL"]["value"] == url
    assert vendor.apps["notes-pr-42-db"].secrets["POSTGRES_PASSWORD"]["value"] == password
    shown = task_result(report, "Show the preview")["msg"]
    assert shown.startswith("Preview of pull request 42: http://127.0.0.1:9/notes-pr-42 (app")
    assert password not in json.dumps(report)

    rc, report = play("preview.yml", "-e", "pr=42", "-e", f"image={image}")
    assert rc == 0, failure(report)
    assert report["stats"]["fly-notes"]["changed"] == 0
    assert migrations == [image]

    made = [m.id for m in machines(vendor, "notes-pr-42")] + [m.id for m in database]
    rc, report = play("preview.yml", "-e", "pr=42", "-e", "state=absent")
    assert rc == 0, failure(report)
    assert vendor.apps == {}
    assert not password_file.exists()
    removed = task_result(report, "Show what was removed")["msg"]
    assert removed == (
        f"Removed: app notes-pr-42, its machines ({made[0]}) and secrets (DATABASE_URL); "
        f"app notes-pr-42-db, its machines ({made[1]}) and secrets (POSTGRES_DB, "
        f"POSTGRES_PASSWORD, POSTGRES_USER); password file {password_file}"
    )

    rc, report = play("preview.yml", "-e", "pr=42", "-e", "state=absent")
    assert rc == 0, failure(report)
    assert report["stats"]["fly-notes"]["changed"] == 0
