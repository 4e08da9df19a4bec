"""Outcomes of fastapi_app and nextjs_app (with postgresql and nginx_proxy) on one host.

Run by molecule (scenario app_stack) through testinfra; `host` is the converged container.
Requests go to the container's own nginx on 127.0.0.1, from inside it.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest

APP = "notes"
REPO = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[4]))
CURL = "curl -sk --max-time 10"
# systemd-analyze security: 10 = fully exposed; our units must stay in the "OK" band.
MAX_EXPOSURE = 4.0


def curl_json(host, path: str, *extra: str) -> dict:
    out = host.check_output(f"{CURL} {' '.join(extra)} https://127.0.0.1{path}")
    return json.loads(out)


@pytest.fixture(scope="module")
def release_id(host) -> str:
    return Path(host.check_output(f"readlink /srv/{APP}/slots/blue")).name


def test_blue_slot_holds_a_release_built_on_the_controller(host, release_id):
    manifest_file = REPO / ".build" / "artifacts" / release_id / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    assert manifest["release_id"] == release_id
    assert host.file(f"/srv/{APP}/releases/{release_id}/api/.installed").exists
    assert host.file(f"/srv/{APP}/releases/{release_id}/web/server.js").exists
    assert not host.file(f"/srv/{APP}/slots/green").exists


def test_version_through_nginx_names_the_release(host, release_id):
    assert curl_json(host, "/version")["release_id"] == release_id
    assert curl_json(host, "/api/version")["release_id"] == release_id


def test_healthz_reports_the_database(host):
    assert curl_json(host, "/healthz") == {"status": "ok", "database": "ok"}


def test_page_lists_notes_created_through_the_api_path(host, release_id):
    title = f"molecule-{uuid.uuid4().hex[:8]}"
    body = json.dumps({"title": title, "body": "made by the app_stack scenario"})
    created = curl_json(
        host, "/api/notes", "-X POST -H 'Content-Type: application/json'", f"-d '{body}'"
    )
    assert created["title"] == title
    page = host.check_output(f"{CURL} https://127.0.0.1/")
    assert "<h1>Notes</h1>" in page
    assert title in page
    assert release_id in page
    # ... and it is in PostgreSQL.
    query = f"SELECT count(*) FROM notes WHERE title = '{title}'"
    rows = host.check_output(f'runuser -u postgres -- psql -d {APP} -tAc "{query}"')
    assert rows.strip() == "1"


def test_invalid_note_is_refused_with_the_field_named(host):
    out = host.run(
        f"{CURL} -o /dev/stderr -w '%{{http_code}}' -X POST -H 'Content-Type: application/json'"
        ' -d \'{"title": ""}\' https://127.0.0.1/api/notes'
    )
    assert out.stdout == "422"
    assert "title" in out.stderr


def test_http_redirects_to_https(host):
    code = host.check_output("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1/")
    assert code == "301"


@pytest.mark.parametrize("unit", [f"{APP}-api@blue", f"{APP}-web@blue"])
def test_slot_units_run_unprivileged_and_sandboxed(host, unit):
    service = host.service(unit)
    assert service.is_running
    assert service.is_enabled
    pid = host.check_output(f"systemctl show -p MainPID --value {unit}")
    user = host.check_output(f"ps -o user= -p {pid}")
    assert user.strip() == f"{APP}-{unit.split('-')[1].split('@')[0]}"
    exposure = host.check_output(f"systemd-analyze security {unit} --no-pager | tail -1")
    # "→ Overall exposure level for notes-api@blue.service: 2.1 OK 🙂"
    score = float(exposure.split(":")[1].split()[0])
    record_exposure(unit, score)
    assert score <= MAX_EXPOSURE, exposure


def record_exposure(unit: str, score: float) -> None:
    """Keep the score in .build/reports/systemd-exposure.json, where `make test` leaves it."""
    report = REPO / ".build" / "reports" / "systemd-exposure.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    scores = json.loads(report.read_text()) if report.exists() else {}
    scores[unit] = score
    report.write_text(json.dumps(scores, indent=2, sort_keys=True) + "\n")


def test_secrets_file_is_root_only(host):
    env = host.file(f"/etc/{APP}/api.env")
    assert env.mode == 0o600
    assert env.user == "root"
    assert "DATABASE_URL=" in host.check_output(f"cat /etc/{APP}/api.env")


def test_only_ssh_http_https_listen_beyond_loopback(host):
    public = set()
    for line in host.check_output("ss -Htln").splitlines():
        local = line.split()[3]
        address, port = local.rsplit(":", 1)
        if address not in ("127.0.0.1", "[::1]", "::1"):
            public.add(int(port))
    assert public <= {22, 80, 443}, public
    for port in (5432, 8001, 3001):
        assert host.socket(f"tcp://127.0.0.1:{port}").is_listening


def test_database_down_makes_healthz_503(host):
    # `systemctl stop postgresql` returns when Debian's umbrella unit has stopped; the cluster
    # unit it propagates to may still be shutting down: wait until nothing listens on 5432.
    host.check_output("systemctl stop postgresql")
    try:
        host.check_output(
            "for i in $(seq 100); do ss -Htln 'sport = :5432' | grep -q . || exit 0; sleep 0.2; "
            "done; echo 'PostgreSQL still listens 20 s after the stop' >&2; exit 1"
        )
        out = host.run(f"{CURL} -w '\\n%{{http_code}}' http://127.0.0.1:8001/healthz")
        body, code = out.stdout.rsplit("\n", 1)
        assert code == "503"
        assert json.loads(body)["status"] == "unavailable"
    finally:
        host.check_output("systemctl start postgresql")
