"""nginx_upstreams: main() run in-process on a temporary directory, with a stand-in for
sigma-nginx-reload that accepts, rejects (putting the previous file back, or not, as a helper
older than --installed) or fails to reload."""

from __future__ import annotations

import json
import os
import stat
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

# Imported by the first check otherwise (lazily), inside the timed window of a test below.
import ansible.module_utils.urls  # noqa: F401  # pylint: disable=unused-import
import pytest

from ansible_collections.sigma.deploy.plugins.modules import nginx_upstreams

OLD = "upstream notes_api { server 127.0.0.1:8001; }\n"
NEW = "upstream notes_api { server 127.0.0.1:8002; }\n"
FACT = {"mode": "host", "active_slot": "green", "canary_weight": 0}
FACT_TEXT = '{\n    "active_slot": "green",\n    "canary_weight": 0,\n    "mode": "host"\n}\n'

# Its behaviour comes from the file "mode" next to it; its arguments go to "argv".
HELPER = """#!/bin/sh
here=$(dirname "$0")
printf '%s\\n' "$@" > "$here/argv"
installed="" backup=""
while [ $# -gt 0 ]; do
  case "$1" in
    --installed) installed="$2"; shift ;;
    --backup) backup="$2"; shift ;;
  esac
  shift
done
case "$(cat "$here/mode")" in
  ok) [ -n "$backup" ] && rm -f "$backup"; echo "sigma-nginx-reload: reloaded in 5 ms"; exit 0 ;;
  reject|reject-old)
    echo 'nginx: [emerg] invalid value "0" in "keepalive" directive' >&2
    if [ "$(cat "$here/mode")" = reject ]; then
      if [ -n "$backup" ]; then mv -f "$backup" "$installed"; else rm -f "$installed"; fi
      echo "sigma-nginx-reload: the configuration is invalid; nginx was not reloaded" >&2
    fi
    exit 1 ;;
  stuck) echo "sigma-nginx-reload: nginx did not take the new configuration within 10 s" >&2
    exit 2 ;;
esac
"""


@pytest.fixture
def site(tmp_path):
    """An upstreams directory with the OLD file, a facts directory, and the helper."""
    (tmp_path / "sigma").mkdir()
    (tmp_path / "facts.d").mkdir()
    (tmp_path / "sigma" / "notes-upstreams.conf").write_text(OLD)
    helper = tmp_path / "bin" / "sigma-nginx-reload"
    helper.parent.mkdir()
    helper.write_text(HELPER)
    helper.chmod(0o755)
    (helper.parent / "mode").write_text("ok")
    return tmp_path


def params(site: Path, **overrides):
    return {
        "path": str(site / "sigma" / "notes-upstreams.conf"),
        "content": NEW,
        "reload_command": [str(site / "bin" / "sigma-nginx-reload"), "--wait-old", "5"],
        "fact_path": str(site / "facts.d" / "sigma_notes.fact"),
        "fact": FACT,
        "mode": "0644",
        **overrides,
    }


def helper_mode(site: Path, mode: str) -> None:
    (site / "bin" / "mode").write_text(mode)


def helper_argv(site: Path) -> list[str] | None:
    argv = site / "bin" / "argv"
    return argv.read_text().splitlines() if argv.exists() else None


def leftovers(site: Path) -> list[str]:
    return sorted(name for name in os.listdir(site / "sigma") if name != "notes-upstreams.conf")


def test_a_new_state_is_written_reloaded_and_recorded(run, site):
    result = run(nginx_upstreams, **params(site))
    assert result["failed"] is False, result
    assert (result["changed"], result["reloaded"], result["fact_written"]) == (True, True, True)
    assert result["reload_output"] == "sigma-nginx-reload: reloaded in 5 ms"
    upstreams = site / "sigma" / "notes-upstreams.conf"
    assert upstreams.read_text() == NEW
    assert (site / "facts.d" / "sigma_notes.fact").read_text() == FACT_TEXT
    assert stat.S_IMODE(upstreams.stat().st_mode) == 0o644
    argv = helper_argv(site)
    assert argv[:4] == ["--wait-old", "5", "--installed", str(upstreams)]
    assert argv[4] == "--backup"
    assert argv[5].startswith(f"{upstreams}.")
    assert argv[5].endswith("~")
    assert leftovers(site) == []  # the backup is gone
    assert [d["after_header"] for d in result["diff"]] == [
        str(upstreams),
        params(site)["fact_path"],
    ]


def test_nothing_happens_when_both_files_say_so(run, site):
    (site / "sigma" / "notes-upstreams.conf").write_text(NEW)
    (site / "facts.d" / "sigma_notes.fact").write_text(FACT_TEXT)
    result = run(nginx_upstreams, **params(site))
    assert (result["changed"], result["reloaded"], result["fact_written"]) == (False, False, False)
    assert helper_argv(site) is None
    assert result["diff"] == []


def test_a_missing_fact_is_written_without_a_reload(run, site):
    (site / "sigma" / "notes-upstreams.conf").write_text(NEW)
    result = run(nginx_upstreams, **params(site))
    assert (result["changed"], result["reloaded"], result["fact_written"]) == (True, False, True)
    assert helper_argv(site) is None
    assert json.loads((site / "facts.d" / "sigma_notes.fact").read_text()) == FACT


def test_check_mode_shows_the_diff_and_changes_nothing(run, site):
    result = run(nginx_upstreams, check=True, **params(site))
    assert (result["changed"], result["reloaded"], result["fact_written"]) == (True, False, True)
    assert (result["diff"][0]["before"], result["diff"][0]["after"]) == (OLD, NEW)
    assert (result["diff"][1]["before"], result["diff"][1]["after"]) == ("", FACT_TEXT)
    assert (site / "sigma" / "notes-upstreams.conf").read_text() == OLD
    assert not (site / "facts.d" / "sigma_notes.fact").exists()
    assert helper_argv(site) is None


@pytest.mark.parametrize("mode", ["reject", "reject-old"])
def test_a_rejected_file_is_put_back_and_nothing_recorded(run, site, mode):
    helper_mode(site, mode)
    result = run(nginx_upstreams, **params(site))
    assert result["failed"] is True
    assert result["msg"] == (
        f"{site}/sigma/notes-upstreams.conf was not changed: nginx rejected it (nginx: [emerg]"
        ' invalid value "0" in "keepalive" directive). The previous file is back in place;'
        " nginx was not reloaded and serves as before."
    )
    assert (site / "sigma" / "notes-upstreams.conf").read_text() == OLD
    assert leftovers(site) == []
    assert not (site / "facts.d" / "sigma_notes.fact").exists()


@pytest.mark.parametrize("mode", ["reject", "reject-old"])
def test_a_rejected_new_file_is_removed(run, site, mode):
    (site / "sigma" / "notes-upstreams.conf").unlink()
    helper_mode(site, mode)
    result = run(nginx_upstreams, **params(site))
    assert result["failed"] is True
    assert "The new file is removed; nginx was not reloaded" in result["msg"]
    assert "--backup" not in helper_argv(site)
    assert leftovers(site) == []
    assert not (site / "sigma" / "notes-upstreams.conf").exists()


def test_a_reload_that_fails_otherwise_says_so(run, site):
    helper_mode(site, "stuck")
    result = run(nginx_upstreams, **params(site))
    assert result["failed"] is True
    assert result["msg"] == (
        f"{site}/sigma/notes-upstreams.conf was written, but nginx did not take it (exit status"
        " 2): sigma-nginx-reload: nginx did not take the new configuration within 10 s"
    )
    assert (site / "sigma" / "notes-upstreams.conf").read_text() == NEW
    assert leftovers(site) == []
    assert not (site / "facts.d" / "sigma_notes.fact").exists()


def test_a_missing_directory_is_named(run, site):
    result = run(nginx_upstreams, **params(site, path=str(site / "nowhere" / "up.conf")))
    assert result["failed"] is True
    assert result["msg"] == (
        f"{site}/nowhere/up.conf could not be written: {site}/nowhere does not exist. Has the"
        " main entry point of sigma.deploy.nginx_proxy run on this host?"
    )
    assert helper_argv(site) is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"fact_path": None}, "fact_path is required with fact"),
        ({"reload_command": []}, "reload_command: expected the reload program, got an empty list"),
    ],
)
def test_bad_input_is_refused_before_anything_changes(run, site, overrides, message):
    result = run(nginx_upstreams, **params(site, **overrides))
    assert (result["failed"], result["msg"]) == (True, message)
    assert (site / "sigma" / "notes-upstreams.conf").read_text() == OLD
    assert helper_argv(site) is None


# --- checks before and after the switch ---------------------------------------------------


class Served(BaseHTTPRequestHandler):
    """/version answers the release the upstreams file points at (NEW: r2, else r1); /ok 200,
    /down 503."""

    def do_GET(self):
        self.server.paths.append(self.path)
        release = "r2" if self.server.upstreams.read_text() == NEW else "r1"
        status, body = {
            "/ok": (200, b"ok\n"),
            "/down": (503, b"maintenance\n"),
            "/version": (200, json.dumps({"release_id": release}).encode()),
        }.get(self.path, (404, b""))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def web(site):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Served)
    httpd.daemon_threads = True
    httpd.paths = []
    httpd.upstreams = site / "sigma" / "notes-upstreams.conf"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_checks_before_and_after_pass_around_the_switch(run, site, web):
    httpd, base = web
    result = run(
        nginx_upstreams,
        **params(site),
        checks_before=[{"url": f"{base}/ok", "name": "smoke"}],
        checks_after=[{"url": f"{base}/version", "json": {"release_id": "r2"}}],
    )
    assert result["failed"] is False, result
    assert (result["changed"], result["reloaded"], result["installed"]) == (True, True, True)
    assert [(c["name"], c["passed"]) for c in result["checks_before"]] == [("smoke", True)]
    assert [(c["name"], c["passed"]) for c in result["checks_after"]] == [(f"{base}/version", True)]
    assert httpd.paths == ["/ok", "/version"]


def test_a_failed_check_before_changes_nothing(run, site, web):
    httpd, base = web
    result = run(
        nginx_upstreams,
        **params(site),
        checks_before=[{"url": f"{base}/ok"}, {"url": f"{base}/down", "name": "api"}],
        checks_after=[{"url": f"{base}/version"}],
    )
    assert result["failed"] is True
    assert result["msg"] == (
        "Before the switch, 1 of 2 checks failed: api (status 503, expected 200); nothing was"
        " changed."
    )
    assert (result["changed"], result["reloaded"], result["installed"]) == (False, False, False)
    assert (site / "sigma" / "notes-upstreams.conf").read_text() == OLD
    assert not (site / "facts.d" / "sigma_notes.fact").exists()
    assert helper_argv(site) is None
    assert "checks_after" not in result
    assert httpd.paths == ["/ok", "/down"]


def test_a_failed_check_after_says_nginx_serves_the_new_file(run, site, web):
    httpd, base = web
    result = run(
        nginx_upstreams,
        **params(site),
        checks_after=[{"url": f"{base}/version", "json": {"release_id": "r3"}}],
        checks_after_wait=1.2,
    )
    assert result["failed"] is True
    assert result["msg"].startswith("After the switch (nginx serves the new file), 1 of 1 checks")
    assert 'release_id is "r2", expected "r3"' in result["msg"]
    assert (result["changed"], result["reloaded"], result["installed"]) == (True, True, True)
    assert (site / "sigma" / "notes-upstreams.conf").read_text() == NEW
    # Tried again every 0.25 s for 1.2 s.
    assert 2 <= result["checks_after"][0]["attempts"] == len(httpd.paths) <= 6


def test_checks_after_run_when_the_file_was_in_place(run, site, web):
    base = web[1]
    (site / "sigma" / "notes-upstreams.conf").write_text(NEW)
    (site / "facts.d" / "sigma_notes.fact").write_text(FACT_TEXT)
    check = {"url": f"{base}/version", "json": {"release_id": "r2"}}
    result = run(nginx_upstreams, **params(site), checks_after=[check])
    assert (result["failed"], result["changed"], result["installed"]) == (False, False, True)
    assert result["checks_after"][0]["passed"] is True
    # In check mode too, since nothing would change.
    result = run(nginx_upstreams, check=True, **params(site), checks_after=[check])
    assert (result["failed"], result["checks_after"][0]["passed"]) == (False, True)


def test_check_mode_runs_the_checks_before_but_not_those_after_a_change(run, site, web):
    httpd, base = web
    result = run(
        nginx_upstreams,
        check=True,
        **params(site),
        checks_before=[{"url": f"{base}/ok"}],
        checks_after=[{"url": f"{base}/version", "json": {"release_id": "r2"}}],
    )
    assert (result["failed"], result["changed"], result["installed"]) == (False, True, False)
    assert "checks_after" not in result
    assert httpd.paths == ["/ok"]
    assert (site / "sigma" / "notes-upstreams.conf").read_text() == OLD


def test_wrong_checks_are_named_before_anything_runs(run, site, web):
    httpd = web[0]
    result = run(
        nginx_upstreams,
        **params(site),
        checks_before=[{"url": "ftp://x/"}],
        checks_after=[{"url": "http://127.0.0.1/", "status": 700}],
    )
    assert result["failed"] is True
    assert (
        result["msg"] == "checks_before[0].url: expected an http:// or https:// URL, got 'ftp://x/'"
    )
    assert (site / "sigma" / "notes-upstreams.conf").read_text() == OLD
    assert httpd.paths == []
