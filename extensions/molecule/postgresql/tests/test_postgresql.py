"""Outcomes of sigma.deploy.postgresql on a Debian 12 host whose application hosts are separate.

Run by molecule (scenario postgresql) through testinfra; `host` is the converged container.
Some tests run playbooks of the scenario against it (restore.yml, converge.yml with other
inputs) with ansible-playbook and molecule's inventory.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

APP = "notes"
# The password of converge.yml: spaces, quotes, a dollar sign and a non-ASCII letter.
PASSWORD = "molecule pässword with 'quotes' \"and\" $igns"
OTHER_PASSWORD = "another password, 'changed' by the tests"
OTHER_PASSWORD_VARS = json.dumps({"postgresql_app_password": OTHER_PASSWORD})
NETWORK = "10.89.213.0/24"
BACKUP_DIR = "/var/backups/postgresql"
BACKUP_UNIT = "sigma-postgresql-backup"
CLUSTER_UNIT = "postgresql@15-main"
RETENTION_DAYS = 7


def admin_sql(host, sql: str, database: str = "postgres") -> str:
    """Output of SQL run by the postgres superuser over the local socket (unaligned)."""
    return host.check_output(
        f"cd / && runuser -u postgres -- psql -X -A -t -d {database} -c {shlex.quote(sql)}"
    )


def app_connect(
    host,
    sql: str = "SELECT current_user",
    password: str = PASSWORD,
    address: str = "127.0.0.1",
    database: str = APP,
    user: str = APP,
    sslmode: str = "prefer",
):
    """Run SQL over TCP as a client with a password; the result of the psql command."""
    dsn = f"host={address} dbname={database} user={user} sslmode={sslmode} connect_timeout=5"
    return host.run(
        f"cd / && PGPASSWORD={shlex.quote(password)} psql -X -A -t -v ON_ERROR_STOP=1"
        f" {shlex.quote(dsn)} -c {shlex.quote(sql)}"
    )


def own_address(host) -> str:
    return next(a for a in host.interface("eth0").addresses if ":" not in a)


def dumps(host) -> set[str]:
    return set(host.check_output(f"find {BACKUP_DIR} -maxdepth 1 -type f -printf '%f\\n'").split())


class Run(NamedTuple):
    rc: int
    output: str  # stdout and stderr, without colours

    @property
    def changed(self) -> int:
        """The `changed=` count of the play recap."""
        recap = [
            line for line in self.output.splitlines() if " ok=" in line and " changed=" in line
        ]
        return int(recap[-1].split(" changed=")[1].split()[0])


def run_playbook(playbook: str, *args: str) -> Run:
    """ansible-playbook with a playbook of this scenario against the molecule instance."""
    if "MOLECULE_INVENTORY_FILE" not in os.environ:
        pytest.skip("needs molecule's inventory (run through molecule)")
    scenario = Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"])
    command = [
        str(Path(sys.executable).with_name("ansible-playbook")),
        "-i",
        os.environ["MOLECULE_INVENTORY_FILE"],
        str(scenario / playbook),
        *args,
    ]
    env = {**os.environ, "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_NOCOLOR": "1"}
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=900, check=False, env=env
    )
    return Run(result.returncode, result.stdout + result.stderr)


def test_service_running_and_enabled(host):
    assert host.package("postgresql-15").is_installed
    assert host.service(CLUSTER_UNIT).is_running
    assert host.service("postgresql").is_enabled
    assert admin_sql(host, "SHOW server_version").startswith("15.")


def test_cluster_has_checksums_and_utf8(host):
    assert admin_sql(host, "SHOW data_checksums") == "on"
    encoding = admin_sql(
        host, f"SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = '{APP}'"
    )
    assert encoding == "UTF8"


def test_listens_only_on_configured_addresses(host):
    lines = host.check_output("ss -Hltn 'sport = :5432'").splitlines()
    addresses = {line.split()[3].rsplit(":", 1)[0].strip("[]") for line in lines}
    localhost = set(host.check_output("getent ahosts localhost | awk '{print $1}'").split())
    assert own_address(host) in addresses
    assert "127.0.0.1" in addresses
    assert addresses <= localhost | {own_address(host)}
    assert not addresses & {"0.0.0.0", "*", "::"}


def test_password_encryption_is_scram(host):
    assert admin_sql(host, "SHOW password_encryption") == "scram-sha-256"
    verifier = admin_sql(host, f"SELECT rolpassword FROM pg_authid WHERE rolname = '{APP}'")
    assert verifier.startswith("SCRAM-SHA-256$4096:")


def test_pg_hba_is_least_privilege(host):
    rules = admin_sql(
        host,
        "SELECT type, array_to_string(database, ','), array_to_string(user_name, ','),"
        " coalesce(address, ''), coalesce(netmask, ''), auth_method, coalesce(error, '')"
        " FROM pg_hba_file_rules ORDER BY line_number",
    ).splitlines()
    assert rules == [
        "local|all|postgres|||peer|",
        f"host|{APP}|{APP}|127.0.0.1|255.255.255.255|scram-sha-256|",
        f"host|{APP}|{APP}|::1|ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff|scram-sha-256|",
        f"hostssl|{APP}|{APP}|10.89.213.0|255.255.255.0|scram-sha-256|",
    ]
    hba = host.file("/etc/postgresql/15/main/pg_hba.conf")
    assert "trust" not in [
        word for line in hba.content_string.splitlines() for word in line.split()
    ]
    assert hba.mode == 0o640
    assert hba.user == "postgres"


def test_app_role_authenticates_over_loopback(host):
    result = app_connect(host)
    assert result.rc == 0, result.stderr
    assert result.stdout.strip() == APP


def test_app_role_authenticates_from_the_network_over_tls_only(host):
    address = own_address(host)  # the source address is in the allowed network
    result = app_connect(
        host,
        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        address=address,
        sslmode="require",
    )
    assert result.rc == 0, result.stderr
    assert result.stdout.strip() == "t"
    plain = app_connect(host, address=address, sslmode="disable")
    assert plain.rc != 0
    assert "no pg_hba.conf entry" in plain.stderr


def test_wrong_password_is_refused(host):
    result = app_connect(host, password="not the password")
    assert result.rc != 0
    assert 'password authentication failed for user "notes"' in result.stderr


def test_app_role_is_confined_to_its_database(host):
    other_db = app_connect(host, database="postgres")
    assert other_db.rc != 0
    assert "no pg_hba.conf entry" in other_db.stderr
    superuser = app_connect(host, user="postgres", database="postgres")
    assert superuser.rc != 0
    assert "no pg_hba.conf entry" in superuser.stderr


def test_app_role_has_no_special_attributes(host):
    attributes = admin_sql(
        host,
        "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolcanlogin"
        f" FROM pg_roles WHERE rolname = '{APP}'",
    )
    assert attributes == "f|f|f|f|f|t"


def test_database_belongs_to_the_app_and_is_closed_to_others(host):
    owner = admin_sql(
        host, f"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '{APP}'"
    )
    assert owner == APP
    public = admin_sql(
        host,
        "SELECT count(*) FROM pg_database, aclexplode(datacl) AS acl"
        f" WHERE datname = '{APP}' AND acl.grantee = 0",
    )
    assert public == "0"
    # The owner may create tables in its database (schema public belongs to the owner).
    result = app_connect(host, "CREATE TABLE owner_probe (id int); DROP TABLE owner_probe")
    assert result.rc == 0, result.stderr


def test_memory_settings_derived_from_ram(host):
    memtotal_kb = int(host.check_output("awk '/^MemTotal:/ {print $2}' /proc/meminfo"))
    memory_mb = memtotal_kb // 1024  # how Ansible computes ansible_memtotal_mb
    shared_buffers = memory_mb // 4
    expected = {
        "shared_buffers": shared_buffers,
        "effective_cache_size": memory_mb * 3 // 4,
        "work_mem": max(4, (memory_mb - shared_buffers) // 300),  # 3 x max_connections 100
        "maintenance_work_mem": max(64, min(2048, memory_mb // 16)),
    }
    for name, megabytes in expected.items():
        actual = admin_sql(host, f"SELECT pg_size_bytes(current_setting('{name}')) / 1048576")
        assert int(actual) == megabytes, name


def test_extra_settings_applied(host):
    assert admin_sql(host, "SHOW log_min_duration_statement") == "500ms"
    assert admin_sql(host, "SHOW idle_in_transaction_session_timeout") == "1min"
    assert admin_sql(host, "SHOW log_connections") == "on"
    pending = admin_sql(host, "SELECT count(*) FROM pg_settings WHERE pending_restart")
    assert pending == "0"


def test_backup_timer(host):
    timer = host.service(f"{BACKUP_UNIT}.timer")
    assert timer.is_enabled
    assert timer.is_running
    show = host.check_output(f"systemctl show {BACKUP_UNIT}.timer -p TimersCalendar -p Persistent")
    assert "OnCalendar=*-*-* 03:15:00" in show
    assert "Persistent=yes" in show


def test_backup_service_is_sandboxed(host):
    show = dict(
        line.split("=", 1)
        for line in host.check_output(
            f"systemctl show {BACKUP_UNIT}.service -p User -p ProtectSystem -p PrivateNetwork"
            " -p NoNewPrivileges -p ReadWritePaths -p CapabilityBoundingSet -p UMask"
        ).splitlines()
    )
    assert show["User"] == "postgres"
    assert show["ProtectSystem"] == "strict"
    assert show["PrivateNetwork"] == "yes"
    assert show["NoNewPrivileges"] == "yes"
    assert show["ReadWritePaths"] == BACKUP_DIR
    assert show["CapabilityBoundingSet"] == ""
    assert show["UMask"] == "0077"


def test_backup_dir(host):
    directory = host.file(BACKUP_DIR)
    assert directory.is_directory
    assert directory.mode == 0o700
    assert directory.user == "postgres"
    assert directory.group == "postgres"


def test_retention_deletes_old_dumps_only(host):
    old = f"{APP}-20000101T000000Z.dump"
    old_labelled = f"{APP}-20000101T000000Z-before-restore.dump"
    recent = f"{APP}-20000102T000000Z.dump"
    other = f"{APP}-old-20000101T000000Z.dump"  # of a database called notes-old
    host.check_output(
        f"cd {BACKUP_DIR} && touch {old} {old_labelled} {other} {recent}"
        f" && touch -d '{RETENTION_DAYS + 1} days ago' {old} {old_labelled} {other}"
        f" && touch -d '{RETENTION_DAYS - 1} days ago' {recent}"
    )
    host.check_output(f"systemctl start {BACKUP_UNIT}.service")
    remaining = dumps(host)
    assert old not in remaining
    assert old_labelled not in remaining
    assert recent in remaining
    assert other in remaining
    host.check_output(f"rm -f {BACKUP_DIR}/{recent} {BACKUP_DIR}/{other}")
    log = host.check_output(f"journalctl -u {BACKUP_UNIT}.service --no-pager")
    assert f"deleted {BACKUP_DIR}/{old}" in log


def test_backup_and_restore(host):
    create = app_connect(
        host,
        "DROP TABLE IF EXISTS restore_probe;"
        " CREATE TABLE restore_probe (id int PRIMARY KEY, label text);"
        " INSERT INTO restore_probe SELECT g, 'row ' || g FROM generate_series(1, 25) AS g",
    )
    assert create.rc == 0, create.stderr
    before = dumps(host)
    host.check_output(f"systemctl start {BACKUP_UNIT}.service")
    new = dumps(host) - before
    assert len(new) == 1
    dump = host.file(f"{BACKUP_DIR}/{new.pop()}")
    assert dump.mode == 0o600
    assert dump.user == "postgres"

    assert app_connect(host, "DROP TABLE restore_probe").rc == 0
    assert app_connect(host, "SELECT count(*) FROM restore_probe").rc != 0

    # Twice: the second run restores the same (newest scheduled) dump, not the backup the
    # first run took of the database without the table.
    for attempt in ("first", "second"):
        result = run_playbook("restore.yml")
        assert result.rc == 0, f"{attempt} restore: {result.output}"
        assert result.changed == 2  # the backup before the restore, and the restore
        assert f"from {dump.path}" in result.output
        rows = app_connect(host, "SELECT count(*), min(label), max(id) FROM restore_probe")
        assert rows.rc == 0, rows.stderr
        assert rows.stdout.strip() == "25|row 1|25"
    owner = admin_sql(
        host, "SELECT tableowner FROM pg_tables WHERE tablename = 'restore_probe'", database=APP
    )
    assert owner == APP
    labelled = {name for name in dumps(host) - before if name.endswith("-before-restore.dump")}
    assert len(labelled) == 2


def test_restore_check_mode_changes_nothing(host):
    assert app_connect(host, "DELETE FROM restore_probe WHERE id > 20").rc == 0
    before = dumps(host)
    result = run_playbook("restore.yml", "--check")
    assert result.rc == 0, result.output
    assert "Would restore" in result.output
    assert dumps(host) == before
    assert app_connect(host, "SELECT count(*) FROM restore_probe").stdout.strip() == "20"


@pytest.mark.parametrize(
    ("extra_vars", "message"),
    [
        ('{"postgresql_max_connections": "lots"}', "postgresql_max_connections"),
        ('{"postgresql_app_password": ""}', "postgresql_app_password must not be empty"),
        ('{"postgresql_allowed_clients": ["10.0.0.0/33"]}', "postgresql_allowed_clients"),
        ('{"postgresql_listen_addresses": ["192.0.2.10"]}', "postgresql_listen_addresses"),
        ('{"postgresql_settings": {"shared_buffers": "1GB"}}', "postgresql_settings"),
        ('{"postgresql_backup_on_calendar": "every tuesday"}', "postgresql_backup_on_calendar"),
    ],
)
def test_invalid_inputs_fail_before_any_change(extra_vars, message):
    result = run_playbook("converge.yml", "--tags", "postgresql_validate", "-e", extra_vars)
    assert result.rc != 0
    assert message in result.output
    assert result.changed == 0


def test_password_change_detected_and_never_printed(host):
    """Check mode reports the change, the real run makes it, and no output shows the password."""
    database_phase = ("--tags", "postgresql_database", "--diff", "-vvv")
    try:
        check = run_playbook("converge.yml", *database_phase, "--check", "-e", OTHER_PASSWORD_VARS)
        assert check.rc == 0, check.output
        assert check.changed == 1
        assert app_connect(host).rc == 0  # check mode changed nothing

        change = run_playbook("converge.yml", *database_phase, "-e", OTHER_PASSWORD_VARS)
        assert change.rc == 0, change.output
        assert change.changed == 1
        assert app_connect(host, password=OTHER_PASSWORD).rc == 0
        assert app_connect(host).rc != 0

        for result in (check, change):
            assert OTHER_PASSWORD not in result.output
            assert "SCRAM-SHA-256$" not in result.output
    finally:
        back = run_playbook("converge.yml", *database_phase)
        assert back.rc == 0, back.output
        assert back.changed == 1
        assert PASSWORD not in back.output
    assert app_connect(host).rc == 0


def test_no_file_holds_the_password(host):
    for password in (PASSWORD, OTHER_PASSWORD):
        pattern = shlex.quote(password)
        found = host.run(
            f"grep -rlF -- {pattern} /etc /usr/local /var /root /tmp /home 2>/dev/null"
        )
        assert found.stdout == ""
    # Nor does the server log a verifier (the role creates the role with log_statement off).
    log = host.run("grep -rlF 'SCRAM-SHA-256$' /var/log/postgresql")
    assert log.stdout == ""
    programs = {
        "/usr/local/lib/sigma-postgresql-app-role.py": 0o644,
        "/usr/local/sbin/sigma-postgresql-check-config": 0o755,
        "/usr/local/sbin/sigma-postgresql-backup": 0o755,
    }
    for path, mode in programs.items():
        program = host.file(path)
        assert program.mode == mode, path
        assert program.user == "root", path
