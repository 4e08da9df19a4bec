"""playbooks/site.yml on four local hosts over real SSH: the hardened base on every host and
the application stack by group (it-1: load balancer and database, it-2..4: the app).
It converges, then changes nothing, and is checked from outside: hardening, firewall, and the
app answering through the load balancer with notes kept in PostgreSQL."""

import http.client
import json
import os
import shlex
import shutil
import socket
import ssl
import subprocess
import urllib.error
import urllib.request

import pytest

from tests.integration.support import (
    ROOT,
    hostctl,
    recap,
    run_playbook,
    site,
    ssh,
    stack_groups,
    start_group,
)

pytestmark = pytest.mark.hosts


def changed_task_names(output: str) -> list[str]:
    """'<task> on <host>' for every task of a playbook run that reported a change."""
    task, found = "", []
    for line in output.splitlines():
        if line.startswith("TASK ["):
            task = line[6 : line.find("]")]
        elif line.startswith("changed: ["):
            found.append(f"{task} on {line[10 : line.find(']')]}")
    return found


def test_first_run_configures_every_host(converged):
    group, first = converged
    stats = recap(first.stdout)
    assert set(stats) == set(group.hosts)
    for host, s in stats.items():
        assert (s["failed"], s["unreachable"]) == (0, 0), host
        assert s["changed"] > 0, host


def test_second_run_changes_nothing(converged):
    group = converged[0]
    again = site(group)
    assert again.returncode == 0, again.stdout[-4000:]
    stats = recap(again.stdout)
    assert set(stats) == set(group.hosts)
    changed_tasks = changed_task_names(again.stdout)
    for host, s in stats.items():
        assert (s["changed"], s["failed"], s["unreachable"]) == (0, 0, 0), (host, s, changed_tasks)


def test_root_login_is_refused_and_the_admin_user_can_sudo(converged):
    group = converged[0]
    for address in group.hosts.values():
        root = ssh(group, "root", address, "true")
        assert root.returncode == 255, root.stderr
        assert "Permission denied" in root.stderr
        admin = ssh(group, "sigma", address, "sudo -n id -u")
        assert admin.returncode == 0, admin.stderr
        assert admin.stdout.strip() == "0"


LISTENING_ON_8080 = """
import socket, time
for _ in range(50):
    try:
        socket.create_connection(("127.0.0.1", 8080), 1).close()
        break
    except OSError:
        time.sleep(0.1)
else:
    raise SystemExit(1)
"""


def connect(address: str, port: int) -> str:
    """'open', 'refused' (allowed by the firewall, nothing listening) or 'dropped'."""
    try:
        with socket.create_connection((address, port), timeout=3):
            return "open"
    except ConnectionRefusedError:
        return "refused"
    except TimeoutError:
        return "dropped"


def test_firewall_lets_through_only_the_listed_ports(converged):
    group = converged[0]
    name, address = next(iter(group.hosts.items()))
    container = f"sigma-{name}"
    # Something listens on 8080 inside the host; from outside it must not be reachable.
    subprocess.run(
        ["podman", "exec", "-d", container, "python3", "-m", "http.server", "8080"], check=True
    )
    try:
        probe = subprocess.run(
            ["podman", "exec", container, "python3", "-c", LISTENING_ON_8080], check=False
        )
        assert probe.returncode == 0, "the listener inside the host did not start"
        assert connect(address, 22) == "open"
        assert connect(address, 80) == "open"  # nginx of the load balancer
        assert connect(address, 443) == "open"
        assert connect(address, 8080) == "dropped"
        # PostgreSQL on it-1 listens on its address for the app hosts, not for anyone else.
        assert connect(address, 5432) == "dropped"
    finally:
        # The stack's own listeners are checked later: leave none of the test's behind.
        stop = ["podman", "exec", container, "pkill", "-f", "http.server 8080"]
        subprocess.run(stop, check=False)


def https(address: str, path: str, body: dict | None = None) -> tuple[int, str]:
    """A request to the stack's nginx; its certificate is self-signed, so not verified."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"https://{address}{path}", data=data, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def podman_exec(container: str, command: str) -> str:
    return subprocess.run(
        ["podman", "exec", container, "sh", "-c", command],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip


def blue_release(name: str) -> str:
    return os.path.basename(podman_exec(f"sigma-{name}", "readlink /srv/notes/slots/blue").strip())


def test_app_hosts_run_the_same_release_in_the_blue_slot(converged):
    releases = {blue_release(name) for name in ("it-2", "it-3")}
    assert len(releases) == 1
    (release,) = releases
    assert (ROOT / ".build" / "artifacts" / release / "manifest.json").is_file()


def test_page_lists_notes_created_through_the_load_balancer(converged):
    group = converged[0]
    lb = group.hosts["it-1"]
    title = f"it-note-{os.getpid()}"
    status, created = https(lb, "/api/notes", {"title": title, "body": "from the controller"})
    assert status == 201, created
    assert json.loads(created)["title"] == title
    status, page = https(lb, "/")
    assert status == 200
    assert "<h1>Notes</h1>" in page
    assert title in page
    rows = podman_exec(
        "sigma-it-1",
        "runuser -u postgres -- psql -d notes -tAc"
        f" \"SELECT count(*) FROM notes WHERE title = '{title}'\"",
    )
    assert rows.strip() == "1"


def test_version_through_the_load_balancer_names_the_release(converged):
    group = converged[0]
    status, body = https(group.hosts["it-1"], "/version")
    assert status == 200, body
    assert json.loads(body)["release_id"] == blue_release("it-2")


def test_load_balancer_spreads_over_both_app_hosts(converged):
    group = converged[0]
    for _request in range(8):
        assert https(group.hosts["it-1"], "/version")[0] == 200
    log = podman_exec("sigma-it-1", "tail -n 200 /var/log/nginx/notes.access.log")
    upstreams = {
        json.loads(line).get("upstream_addr", "").rsplit(":", 1)[0] for line in log.splitlines()
    }
    assert {group.hosts["it-2"], group.hosts["it-3"]} <= upstreams, upstreams


def test_app_processes_are_not_root_and_secrets_are_root_only(converged):
    for name in ("it-2", "it-3"):
        for unit, user in (("notes-api@blue", "notes-api"), ("notes-web@blue", "notes-web")):
            pid = podman_exec(f"sigma-{name}", f"systemctl show -p MainPID --value {unit}").strip()
            owner = podman_exec(f"sigma-{name}", f"ps -o user= -p {pid}").strip()
            assert owner == user, (name, unit, pid, owner)
        mode = podman_exec(f"sigma-{name}", "stat -c '%a %U' /etc/notes/api.env").strip()
        assert mode == "600 root"
        assert podman_exec(f"sigma-{name}", "grep -c ^DATABASE_URL= /etc/notes/api.env") == "1\n"


def test_each_app_host_holds_the_release_built_on_the_controller(converged):
    release = blue_release("it-2")
    manifest = json.loads((ROOT / ".build" / "artifacts" / release / "manifest.json").read_text())
    assert manifest["release_id"] == release
    for name in ("it-2", "it-3"):
        present = podman_exec(
            f"sigma-{name}",
            f"cd /srv/notes && ls -d releases/{release}/api/.installed"
            f" releases/{release}/web/server.js; test -e slots/green || echo no-green",
        ).split()
        assert present == [
            f"releases/{release}/api/.installed",
            f"releases/{release}/web/server.js",
            "no-green",
        ], name


def test_the_api_answers_under_both_paths_and_reports_the_database(converged):
    lb = converged[0].hosts["it-1"]
    release = blue_release("it-2")
    for path in ("/version", "/api/version"):
        status, body = https(lb, path)
        assert (status, json.loads(body)["release_id"]) == (200, release), path
    status, body = https(lb, "/healthz")
    assert (status, json.loads(body)) == (200, {"status": "ok", "database": "ok"})


def test_an_invalid_note_is_refused_with_the_field_named(converged):
    status, body = https(converged[0].hosts["it-1"], "/api/notes", {"title": ""})
    assert status == 422
    assert "title" in body


def test_http_redirects_to_https(converged):
    for name, address in converged[0].hosts.items():
        connection = http.client.HTTPConnection(address, 80, timeout=10)
        try:
            connection.request("GET", "/notes?x=1")
            answer = connection.getresponse()
            location = answer.getheader("Location", "")
        finally:
            connection.close()
        assert (answer.status, location) == (301, f"https://{address}/notes?x=1"), name


# systemd-analyze security: 10 = fully exposed; the slot units must stay in the "OK" band.
MAX_EXPOSURE = 4.0


@pytest.mark.parametrize("unit", ["notes-api@blue", "notes-web@blue"])
def test_slot_units_run_enabled_and_sandboxed(converged, unit):
    for name in ("it-2", "it-3"):
        state = podman_exec(
            f"sigma-{name}", f"systemctl is-enabled {unit}; systemctl is-active {unit}"
        ).split()
        assert state == ["enabled", "active"], name
        exposure = podman_exec(
            f"sigma-{name}", f"systemd-analyze security {unit} --no-pager | tail -1"
        )
        # "-> Overall exposure level for notes-api@blue.service: 2.1 OK"
        score = float(exposure.split(":")[1].split()[0])
        assert score <= MAX_EXPOSURE, (name, exposure)


def public_ports(container: str) -> set[int]:
    """The TCP ports something listens on beyond loopback."""
    ports = set()
    for line in podman_exec(container, "ss -Htln").splitlines():
        address, port = line.split()[3].rsplit(":", 1)
        if address not in ("127.0.0.1", "[::1]", "::1"):
            ports.add(int(port))
    return ports


def test_only_ssh_http_https_and_postgresql_listen_beyond_loopback(converged):
    assert public_ports("sigma-it-1") <= {22, 80, 443, 5432}
    for name in ("it-2", "it-3"):
        assert public_ports(f"sigma-{name}") <= {22, 80, 443}, name
        loopback = podman_exec(f"sigma-{name}", "ss -Htln 'sport = :8001 or sport = :3001'")
        assert "127.0.0.1:8001" in loopback, name
        assert "127.0.0.1:3001" in loopback, name


def test_database_is_reached_only_by_the_app_hosts(converged):
    group = converged[0]
    db = group.hosts["it-1"]
    listening = podman_exec("sigma-it-1", "ss -Htln 'sport = :5432'")
    assert f"{db}:5432" in listening
    # From an app host the port answers; from the controller it is dropped (firewall test).
    probe = f"python3 -c \"import socket; socket.create_connection(('{db}', 5432), 3).close()\""
    podman_exec("sigma-it-2", probe)


def install_api_release(group, tmp_path, release_dir, **role_vars: str):
    """Run fastapi_app's `release` entry point on it-2 into the green slot."""
    lines = [f"fastapi_app_release_dir: {release_dir}", "fastapi_app_slot: green"]
    lines += [f"{name}: {value}" for name, value in role_vars.items()]
    playbook = tmp_path / "release.yml"
    playbook.write_text(
        "- hosts: it-2\n"
        "  become: true\n"
        "  tasks:\n"
        "    - ansible.builtin.include_role:\n"
        "        name: sigma.deploy.fastapi_app\n"
        "        tasks_from: release\n"
        "      vars:\n" + "".join(f"        {line}\n" for line in lines)
    )
    return run_playbook(group.inventory, str(playbook), "-e", "ansible_user=sigma")


def test_tampered_artifact_is_refused(converged, tmp_path):
    group = converged[0]
    release = blue_release("it-2")
    tampered = tmp_path / release
    shutil.copytree(ROOT / ".build" / "artifacts" / release, tampered)
    with open(tampered / "api.tar.gz", "ab") as archive:
        archive.write(b"tampered")
    run = install_api_release(
        group, tmp_path, tampered, fastapi_app_database_url="postgresql+psycopg://x:y@127.0.0.1/x"
    )
    assert run.returncode != 0
    assert "refusing to install it" in run.stdout, run.stdout[-3000:]
    assert (
        podman_exec("sigma-it-2", "test -e /srv/notes/slots/green || echo absent").strip()
        == "absent"
    )


# The blue slot's API asked for its health on the host (the hosts have no curl): "<code> <body>".
API_HEALTH = """
import urllib.error, urllib.request
try:
    answer = urllib.request.urlopen("http://127.0.0.1:8001/healthz", timeout=10)
except urllib.error.HTTPError as error:
    answer = error
print(answer.status, answer.read().decode())
"""

# `systemctl stop postgresql` returns when Debian's umbrella unit has stopped; the cluster unit
# may still be shutting down: wait until nothing listens on 5432.
WAIT_POSTGRESQL_GONE = (
    "for i in $(seq 100); do ss -Htln 'sport = :5432' | grep -q . || exit 0; sleep 0.2; done;"
    " echo 'PostgreSQL still listens 20 s after the stop' >&2; exit 1"
)


def test_unreachable_database_fails_the_health_wait_clearly(converged, tmp_path):
    group = converged[0]
    release = blue_release("it-2")
    podman_exec("sigma-it-1", "systemctl stop postgresql")
    try:
        # The serving API says so itself: its health check is 503 while the database is down.
        podman_exec("sigma-it-1", WAIT_POSTGRESQL_GONE)
        health = podman_exec("sigma-it-2", f"python3 -c {shlex.quote(API_HEALTH)}")
        code, body = health.split(" ", 1)
        assert (code, json.loads(body)["status"]) == ("503", "unavailable")
        run = install_api_release(
            group,
            tmp_path,
            ROOT / ".build" / "artifacts" / release,
            fastapi_app_run_migrations="false",
            fastapi_app_health_timeout="10",
            fastapi_app_database_url="unused://",
        )
        assert run.returncode != 0
        assert "notes-api@green" in run.stdout
        assert "did not become healthy" in run.stdout
        assert "503" in run.stdout, run.stdout[-3000:]
        assert "it-Secret-0451" not in run.stdout
        # The blue slot kept answering through the load balancer.
        assert https(group.hosts["it-1"], "/version")[0] == 200
    finally:
        podman_exec("sigma-it-1", "systemctl start postgresql")
        podman_exec(
            "sigma-it-2",
            "systemctl disable --now notes-api@green; rm -f /srv/notes/slots/green"
            " /etc/notes/slots/green-api.env",
        )


def test_missing_database_password_fails_before_any_change(stack_hosts):
    groups = stack_groups(stack_hosts)
    run = run_playbook(stack_hosts.inventory, "playbooks/site.yml", "-i", str(groups))
    assert run.returncode != 0
    assert "sigma_db_password" in run.stdout, run.stdout[-3000:]
    assert "PLAY [Harden the base system]" not in run.stdout


def test_hosts_removed_leave_nothing_behind(tmp_path):
    inventory = tmp_path / "hosts.yml"
    group = start_group("it-clean", 1, inventory)
    keydir = group.key.rsplit("/", 1)[0]
    assert inventory.exists()
    proc = hostctl("down", "--group", "it-clean")
    assert proc.returncode == 0, proc.stderr
    left = subprocess.run(
        ["podman", "ps", "-a", "--filter", "label=io.sigma-deploy.group=it-clean", "-q"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert left.stdout.strip() == ""
    assert not inventory.exists()
    assert not os.path.exists(keydir)
