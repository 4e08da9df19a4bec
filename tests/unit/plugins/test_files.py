"""The files module's main() run in-process on a temporary tree (as the user running the tests:
owners are given by number)."""

from __future__ import annotations

import os
import stat
import sys

import pytest

from ansible_collections.sigma.deploy.plugins.modules import files

UID, GID = os.geteuid(), os.getegid()


@pytest.fixture
def run(run):
    def run_files(check=False, **params):
        return run(files, check=check, **params)

    return run_files


def mode_of(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_create_then_nothing_to_do(run, tmp_path):
    items = [
        {"path": str(tmp_path / "srv"), "state": "directory", "mode": "0750"},
        {"path": str(tmp_path / "srv/app.conf"), "content": "port = 8001\n", "mode": "0640"},
        {"path": str(tmp_path / "srv/current"), "state": "link", "src": "app.conf"},
        {"path": str(tmp_path / "etc/deep/unit.service"), "content": "[Unit]\n", "owner": str(UID)},
    ]
    first = run(files=items)
    assert first["failed"] is False
    assert first["changed_paths"] == [
        str(tmp_path / "srv"),
        str(tmp_path / "srv/app.conf"),
        str(tmp_path / "srv/current"),
        str(tmp_path / "etc"),
        str(tmp_path / "etc/deep"),
        str(tmp_path / "etc/deep/unit.service"),
    ]
    assert (mode_of(tmp_path / "srv"), mode_of(tmp_path / "srv/app.conf")) == (0o750, 0o640)
    assert (tmp_path / "srv/app.conf").read_text() == "port = 8001\n"
    assert os.readlink(tmp_path / "srv/current") == "app.conf"
    assert (mode_of(tmp_path / "etc/deep"), mode_of(tmp_path / "etc/deep/unit.service")) == (
        0o755,
        0o644,
    )
    again = run(files=items)
    assert (again["changed"], again["changed_paths"], again["diff"]) == (False, [], [])


def test_content_mode_and_link_changes_with_diff(run, tmp_path):
    tmp_path.chmod(0o755)
    conf, link = tmp_path / "app.conf", tmp_path / "current"
    conf.write_text("port = 8001\n")
    conf.chmod(0o644)
    link.symlink_to("old.conf")
    inode, dir_mode = conf.stat().st_ino, mode_of(tmp_path)
    result = run(
        files=[
            {"path": str(conf), "content": "port = 8002\n"},
            {"path": str(link), "state": "link", "src": "app.conf"},
            {"path": str(tmp_path), "state": "directory", "mode": "0700"},
        ]
    )
    assert result["changed_paths"] == [str(conf), str(link), str(tmp_path)]
    assert conf.read_text() == "port = 8002\n"
    assert conf.stat().st_ino != inode  # replaced by a rename, not rewritten in place
    assert mode_of(conf) == 0o644  # kept
    assert os.readlink(link) == "app.conf"
    assert mode_of(tmp_path) == 0o700
    assert result["diff"] == [
        {
            "before_header": str(conf),
            "after_header": str(conf),
            "before": "port = 8001\n",
            "after": "port = 8002\n",
        },
        {
            "before_header": str(link),
            "after_header": str(link),
            "before": {"state": "link", "src": "old.conf"},
            "after": {"state": "link", "src": "app.conf"},
        },
        {
            "before_header": str(tmp_path),
            "after_header": str(tmp_path),
            "before": {"mode": f"{dir_mode:04o}"},
            "after": {"mode": "0700"},
        },
    ]


def test_absent_removes_files_and_links_but_not_directories(run, tmp_path):
    (tmp_path / "default").symlink_to("/nonexistent")
    (tmp_path / "old.conf").write_text("x")
    (tmp_path / "dir").mkdir()
    gone = run(
        files=[
            {"path": str(tmp_path / "default"), "state": "absent"},
            {"path": str(tmp_path / "old.conf"), "state": "absent"},
            {"path": str(tmp_path / "never"), "state": "absent"},
        ]
    )
    assert gone["changed_paths"] == [str(tmp_path / "default"), str(tmp_path / "old.conf")]
    assert sorted(os.listdir(tmp_path)) == ["dir"]
    refused = run(files=[{"path": str(tmp_path / "dir"), "state": "absent"}])
    assert refused["failed"]
    assert "is a directory" in refused["msg"]
    assert (tmp_path / "dir").is_dir()


def test_check_mode_changes_nothing_and_says_what_would_change(run, tmp_path):
    conf = tmp_path / "app.conf"
    conf.write_text("a\n")
    conf.chmod(0o600)
    result = run(
        check=True,
        files=[
            {"path": str(tmp_path / "new/dir"), "state": "directory"},
            {"path": str(conf), "content": "b\n", "mode": "0644"},
        ],
        check_command=[sys.executable, "-c", "raise SystemExit(1)"],
    )
    assert (result["failed"], result["changed"]) == (False, True)
    assert result["changed_paths"] == [str(tmp_path / "new"), str(tmp_path / "new/dir"), str(conf)]
    assert "check_output" not in result
    assert sorted(os.listdir(tmp_path)) == ["app.conf"]
    assert (conf.read_text(), mode_of(conf)) == ("a\n", 0o600)


def test_a_failing_check_command_undoes_every_change(run, tmp_path):
    tmp_path.chmod(0o755)
    conf, link, old = tmp_path / "app.conf", tmp_path / "current", tmp_path / "old.conf"
    conf.write_text("good\n")
    conf.chmod(0o640)
    link.symlink_to("old.conf")
    old.write_text("old\n")
    before = {p.name: (p.read_text() if not p.is_symlink() else None) for p in (conf, old)}
    result = run(
        files=[
            {"path": str(conf), "content": "bad\n", "mode": "0644"},
            {"path": str(link), "state": "link", "src": "app.conf"},
            {"path": str(old), "state": "absent"},
            {"path": str(tmp_path / "new/more.conf"), "content": "more\n"},
            {"path": str(tmp_path), "state": "directory", "mode": "0700"},
        ],
        check_command=[
            sys.executable,
            "-c",
            "print('emerg: unknown directive'); raise SystemExit(1)",
        ],
    )
    assert result["failed"]
    assert "failed (exit status 1) with the new files: emerg: unknown directive." in result["msg"]
    assert result["msg"].endswith(
        f"{conf}, {link}, {old}, {tmp_path / 'new'}, "
        f"{tmp_path / 'new/more.conf'}, {tmp_path} are as before."
    )
    assert result["changed_paths"] == []
    assert {p.name: p.read_text() for p in (conf, old)} == before
    assert mode_of(conf) == 0o640
    assert os.readlink(link) == "old.conf"
    assert sorted(os.listdir(tmp_path)) == ["app.conf", "current", "old.conf"]
    assert mode_of(tmp_path) == 0o755


def test_a_passing_check_command_keeps_the_changes_and_runs_only_on_change(run, tmp_path):
    marker = tmp_path / "ran"
    command = [sys.executable, "-c", f"open({str(marker)!r}, 'a').write('x'); print('ok')"]
    items = [{"path": str(tmp_path / "a.conf"), "content": "a\n"}]
    first = run(files=items, check_command=command)
    assert (first["changed"], first["check_output"]) == (True, "ok")
    second = run(files=items, check_command=command)
    assert second["changed"] is False
    assert marker.read_text() == "x"


def test_a_secret_file_shows_no_content_in_the_diff_and_is_masked(run, tmp_path, monkeypatch):
    env, unit = tmp_path / "api.env", tmp_path / "api.service"
    env.write_text("PASSWORD=old\n")
    masked = []
    monkeypatch.setattr(
        files.AnsibleModule, "_log_invocation", lambda self: masked.extend(self.no_log_values)
    )
    result = run(
        files=[
            {"path": str(env), "secret_content": "PASSWORD=new\n", "mode": "0600"},
            {"path": str(unit), "content": "[Service]\n"},
        ]
    )
    assert "PASSWORD" not in str(result["diff"])
    assert "[Service]" in str(result["diff"])
    assert (env.read_text(), mode_of(env)) == ("PASSWORD=new\n", 0o600)
    assert masked == ["PASSWORD=new\n"]  # masked in the log and in every result
    both = run(files=[{"path": str(env), "content": "a", "secret_content": "b"}])
    assert "files[0].secret_content: not with content" in both["msg"]


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"path": "rel/x", "content": ""}, "files[0].path: expected an absolute path, got 'rel/x'"),
        ({"path": "/x", "state": "link"}, "files[0].src: required with state link (/x)"),
        (
            {"path": "/x", "state": "directory", "content": "a"},
            "files[0].content: only with state file, not directory",
        ),
        (
            {"path": "/x", "state": "link", "src": "/y", "mode": "0644"},
            "files[0].mode: not with state link",
        ),
        (
            {"path": "/x", "state": "directory", "mode": "rw"},
            "files[0].mode: expected an octal mode such as '0644', got 'rw'",
        ),
        (
            {"path": "/x", "validate": "/bin/true %s"},
            "files[0].validate: only with content to check",
        ),
        (
            {"path": "/x", "state": "file", "content": "", "src_must_exist": True},
            "files[0].src_must_exist: only with state link, not file",
        ),
        (
            {"path": "/x", "state": "directory", "owner": "no-such-user-sigma"},
            "files[0].owner: no such user 'no-such-user-sigma'",
        ),
        (
            {"path": "/x", "content": "a", "create_command": ["/bin/true"]},
            "files[0].create_command: only with state file and no content",
        ),
    ],
)
def test_bad_items_fail_naming_the_field_before_anything_changes(run, tmp_path, item, message):
    first = {"path": str(tmp_path / "first"), "state": "directory"}
    result = run(files=[item, first])
    assert result["failed"]
    assert message in result["msg"]
    assert not (tmp_path / "first").exists()


def test_a_path_that_cannot_be_brought_to_its_state_undoes_the_earlier_ones(run, tmp_path):
    (tmp_path / "conf").mkdir()
    result = run(
        files=[
            {"path": str(tmp_path / "a.conf"), "content": "a\n"},
            {"path": str(tmp_path / "conf"), "content": "not a directory\n"},
        ]
    )
    assert result["failed"]
    assert result["msg"] == f"{tmp_path / 'conf'} is a directory, not a file; it is left as it is"
    assert sorted(os.listdir(tmp_path)) == ["conf"]


def test_a_link_whose_target_must_exist_is_refused_and_the_task_undone(run, tmp_path):
    (tmp_path / "zoneinfo").mkdir()
    (tmp_path / "zoneinfo/UTC").write_text("TZif")
    zone, localtime = tmp_path / "timezone", tmp_path / "localtime"
    items = [
        {"path": str(zone), "content": "Mars/Olympus\n"},
        {"path": str(localtime), "state": "link", "src_must_exist": True,
         "src": str(tmp_path / "zoneinfo/Mars/Olympus")},
    ]  # fmt: skip
    refused = run(files=items)
    assert refused["failed"]
    assert refused["msg"] == (
        f"{localtime}: the link's target {tmp_path}/zoneinfo/Mars/Olympus does not exist"
        " (src_must_exist)"
    )
    assert not zone.exists()
    assert not os.path.lexists(localtime)
    items[1]["src"] = "zoneinfo/UTC"  # relative to the link's directory
    made = run(files=items)
    assert made["changed_paths"] == [str(zone), str(localtime)]
    assert os.readlink(localtime) == "zoneinfo/UTC"


def test_a_file_without_content_gets_its_mode_and_must_exist(run, tmp_path):
    key, missing = tmp_path / "tls.key", tmp_path / "missing.key"
    key.write_text("secret")
    key.chmod(0o644)
    result = run(files=[{"path": str(key), "mode": "0600"}])
    assert result["changed_paths"] == [str(key)]
    assert mode_of(key) == 0o600
    assert key.read_text() == "secret"
    again = run(files=[{"path": str(key), "mode": "0600"}])
    assert again["changed"] is False
    refused = run(files=[{"path": str(missing), "mode": "0600"}])
    assert refused["failed"]
    assert refused["msg"].startswith(f"{missing} does not exist (an item without content")
    assert not missing.exists()


def test_validate_checks_the_new_content_before_it_replaces_the_file(run, tmp_path):
    conf, other = tmp_path / "sshd.conf", tmp_path / "other.conf"
    conf.write_text("Port 22\n")
    checker = tmp_path / "check.py"
    checker.write_text(
        "import sys\n"
        "text = open(sys.argv[1]).read()\n"
        "if 'Bogus' in text:\n"
        "    print(sys.argv[1] + ': line 1: Bogus is not a keyword'); sys.exit(255)\n"
    )
    validate = f"{sys.executable} {checker} %s"
    good = run(files=[{"path": str(conf), "content": "Port 2222\n", "validate": validate}])
    assert (good["failed"], conf.read_text()) == (False, "Port 2222\n")
    bad = run(
        files=[
            {"path": str(other), "content": "other\n"},
            {"path": str(conf), "content": "Bogus yes\n", "validate": validate},
        ]
    )
    assert bad["failed"]
    assert bad["msg"] == (
        f"{conf} was not written: {sys.executable} rejected the new content (exit status 255): "
        f"{conf}: line 1: Bogus is not a keyword"
    )
    assert conf.read_text() == "Port 2222\n"
    assert sorted(os.listdir(tmp_path)) == ["check.py", "sshd.conf"]  # other.conf undone
    missing = run(files=[{"path": str(conf), "content": "x", "validate": "true"}])
    assert "files[0].validate: only with state file, and with %s" in missing["msg"]


def make_key_command(tmp_path, key, cert):
    """A create_command that writes a key and a certificate, counting its runs."""
    count = tmp_path / "runs"
    code = (
        f"import os; os.umask(0o077); open({str(key)!r}, 'w').write('key'); "
        f"open({str(cert)!r}, 'w').write('cert'); open({str(count)!r}, 'a').write('x')"
    )
    return [sys.executable, "-c", code], count


def test_create_command_makes_a_missing_file_once(run, tmp_path):
    key, cert = tmp_path / "tls/app.key", tmp_path / "tls/app.crt"
    command, count = make_key_command(tmp_path, key, cert)
    items = [
        {"path": str(key), "create_command": command, "mode": "0600"},
        {"path": str(cert), "mode": "0644"},
    ]
    preview = run(check=True, files=items[:1])
    assert (preview["changed"], preview["changed_paths"]) == (
        True,
        [str(tmp_path / "tls"), str(key)],
    )
    assert not count.exists()
    first = run(files=items)
    assert first["failed"] is False
    assert first["changed_paths"] == [str(tmp_path / "tls"), str(key), str(cert)]
    assert (key.read_text(), mode_of(key), mode_of(cert)) == ("key", 0o600, 0o644)
    again = run(files=items)
    assert (again["changed"], count.read_text()) == (False, "x")


def test_a_failing_create_command_fails_and_leaves_nothing(run, tmp_path):
    key = tmp_path / "app.key"
    code = f"open({str(key)!r}, 'w').write('half'); print('no entropy'); raise SystemExit(3)"
    result = run(
        files=[
            {"path": str(tmp_path / "first.conf"), "content": "a\n"},
            {"path": str(key), "create_command": [sys.executable, "-c", code]},
        ]
    )
    assert result["failed"]
    assert result["msg"] == (
        f"{key} was not created: {sys.executable} failed (exit status 3): no entropy"
    )
    assert os.listdir(tmp_path) == []
    silent = run(files=[{"path": str(key), "create_command": [sys.executable, "-c", "pass"]}])
    assert silent["msg"] == f"{key} was not created: {sys.executable} made no file there"


def test_check_always_runs_the_check_with_nothing_changed(run, tmp_path):
    conf, marker = tmp_path / "sshd.conf", tmp_path / "override"
    items = [{"path": str(conf), "content": "PasswordAuthentication no\n"}]
    command = [
        sys.executable,
        "-c",
        f"import os, sys; sys.exit('overridden' if os.path.exists({str(marker)!r}) else 0)",
    ]
    assert run(files=items, check_command=command, check_always=True)["changed"] is True
    quiet = run(files=items, check_command=command, check_always=True)
    assert (quiet["failed"], quiet["changed"], quiet["check_output"]) == (False, False, "")
    marker.write_text("")
    drifted = run(files=items, check_command=command, check_always=True)
    assert drifted["failed"]
    assert drifted["msg"].endswith("failed (exit status 1), nothing changed: overridden")
    assert conf.read_text() == "PasswordAuthentication no\n"
    assert run(files=items, check_command=command)["failed"] is False  # only on change


def test_report_existing_names_the_paths_that_exist_after_the_changes(run, tmp_path):
    slots = tmp_path / "slots"
    (tmp_path / "releases/r1").mkdir(parents=True)
    (tmp_path / "releases/r1/.installed").write_text("")
    wanted = [str(slots / "blue/.installed"), str(slots / "green/.installed")]
    items = [
        {"path": str(slots), "state": "directory"},
        {"path": str(slots / "blue"), "state": "link", "src": str(tmp_path / "releases/r1")},
    ]
    assert run(files=items, report_existing=wanted)["existing"] == wanted[:1]
    assert run(files=items[:1])["existing"] == []
