# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deploy state kept per application, shared by ``deploy_lock``, ``release_ledger`` and
``release_info``: the deploy lock and the release ledger, nothing else. It assumes no kind of
host: the state directory may be on a VPS that a deploy reaches over SSH (the database host) or
on the controller (``delegate_to: localhost``) for a deploy that has no such host. What a VPS
serves (slots, nginx's state) is read by ``host_state``.

``<path>/<app>/`` (mode 0700) holds:

- ``lock.json``: the deploy lock, ``{app, owner, token, since, expires, details}``;
- ``ledger.jsonl``: the release ledger, one JSON object per line and per deploy;
- ``lock.guard`` and ``ledger.guard``: empty files whose ``flock`` serialises
  read-check-write of the lock and of the ledger.

The first part is pure (plain data in, plain data out); the second reads and writes the files.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import json
import os
from collections.abc import Iterator
from typing import Any

from ansible_collections.sigma.deploy.plugins.module_utils.host.path_set import (
    write_atomic as write_bytes_atomic,
)

LOCK_FILE = "lock.json"
LOCK_GUARD = "lock.guard"
LEDGER_FILE = "ledger.jsonl"
LEDGER_GUARD = "ledger.guard"
UNKNOWN_OWNER = "unknown"

# What to do with the lock, given who holds it.
TAKE = "take"  # nobody holds it
KEEP = "keep"  # this deploy holds it already
TAKE_OVER_EXPIRED = "take_over_expired"
BREAK = "break"
REFUSE = "refuse"


class DeployStateError(Exception):
    """Why the deploy state cannot be read or changed; ``failure`` is the structured detail."""

    def __init__(self, message: str, failure: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.failure = failure or {}


# --- time ---------------------------------------------------------------------------------------
def iso_utc(timestamp: float) -> str:
    """``2026-11-26T19:30:02Z`` for a POSIX timestamp."""
    moment = datetime.datetime.fromtimestamp(int(timestamp), tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: Any) -> float | None:
    """The timestamp of an ISO 8601 time (``Z`` or an offset; naive means UTC), else None."""
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp()


# --- the lock -----------------------------------------------------------------------------------
def new_lock(
    app: str, owner: str, token: str, now: float, ttl: int, details: dict | None = None
) -> dict[str, Any]:
    return {
        "app": app,
        "owner": owner,
        "token": token,
        "since": iso_utc(now),
        "expires": iso_utc(now + ttl),
        "details": dict(details or {}),
    }


def parse_lock(text: str) -> dict[str, Any] | None:
    """The lock in the text of ``lock.json``, or None when it is not a readable lock."""
    try:
        lock = json.loads(text)
    except ValueError:
        return None
    if not isinstance(lock, dict) or not isinstance(lock.get("token"), str):
        return None
    if parse_iso(lock.get("expires")) is None:
        return None
    return lock


def unreadable_lock(app: str, mtime: float, ttl: int, reason: str) -> dict[str, Any]:
    """What an unreadable lock file stands for: held by nobody known since it was written,
    until ``ttl`` seconds after that."""
    return {
        "app": app,
        "owner": UNKNOWN_OWNER,
        "token": None,
        "since": iso_utc(mtime),
        "expires": iso_utc(mtime + ttl),
        "details": {},
        "unreadable": reason,
    }


def lock_expired(lock: dict[str, Any], now: float) -> bool:
    expires = parse_iso(lock.get("expires"))
    return expires is not None and expires <= now


def lock_decision(current: dict[str, Any] | None, token: str, now: float, break_lock: bool) -> str:
    """One of TAKE, KEEP, TAKE_OVER_EXPIRED, BREAK or REFUSE."""
    if not current:
        return TAKE
    if current.get("token") == token:
        return KEEP
    if lock_expired(current, now):
        return TAKE_OVER_EXPIRED
    if break_lock:
        return BREAK
    return REFUSE


def describe_holder(lock: dict[str, Any]) -> str:
    """``alice@laptop (deploy abc) since 2026-11-26T19:30:02Z, expiring 2026-...Z``."""
    who = lock.get("owner") or UNKNOWN_OWNER
    deploy = f" (deploy {lock['token']})" if lock.get("token") else ""
    text = f"{who}{deploy} since {lock.get('since')}, expiring {lock.get('expires')}"
    if lock.get("details"):
        text += f"; details: {json.dumps(lock['details'], sort_keys=True)}"
    if lock.get("unreadable"):
        text += f"; the lock file is unreadable: {lock['unreadable']}"
    return text


def refusal_message(app: str, lock: dict[str, Any]) -> str:
    return (
        f"The deploy lock of {app} is held by {describe_holder(lock)}. Wait for that deploy to "
        "end, or break the lock if it is stale (break_lock=true; deploy_lock_break=true in the "
        "deploy playbooks)."
    )


# --- the ledger ---------------------------------------------------------------------------------
def ledger_entry(line: str) -> dict[str, Any] | None:
    """The entry a ledger line holds: a JSON object with a string ``deploy_id``, else None."""
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    return entry if isinstance(entry, dict) and isinstance(entry.get("deploy_id"), str) else None


def parse_ledger(text: str) -> list[dict[str, Any] | str]:
    """The lines of ``ledger.jsonl``: each entry as a dict, any other non-blank line as it is
    (a str), so that it is written back unchanged."""
    records: list[dict[str, Any] | str] = []
    for line in text.splitlines():
        if line.strip():
            entry = ledger_entry(line)
            records.append(line if entry is None else entry)
    return records


def unparsed_lines(text: str) -> list[int]:
    """The numbers of the non-blank lines of ``ledger.jsonl`` that are not entries."""
    return [
        number
        for number, line in enumerate(text.splitlines(), 1)
        if line.strip() and ledger_entry(line) is None
    ]


def render_ledger(records: list[dict[str, Any] | str]) -> str:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    return "".join(line + "\n" for line in lines)


def find_entry(records: list[dict[str, Any] | str], deploy_id: str) -> dict[str, Any] | None:
    for record in reversed(records):
        if isinstance(record, dict) and record["deploy_id"] == deploy_id:
            return record
    return None


def merge_entry(
    records: list[dict[str, Any] | str], app: str, deploy_id: str, fields: dict[str, Any]
) -> tuple[list[dict[str, Any] | str], dict[str, Any], dict[str, Any]]:
    """Set ``fields`` in the entry of ``deploy_id`` (appending it when there is none).

    Returns the new records, the entry before (``{}`` when new) and after. The records given
    are not changed.
    """
    if fields.get("deploy_id", deploy_id) != deploy_id:
        raise DeployStateError(
            f"entry.deploy_id ({fields['deploy_id']}) differs from deploy_id ({deploy_id})"
        )
    before = find_entry(records, deploy_id)
    if before is None:
        after = {"deploy_id": deploy_id, "app": app, **fields}
        return [*records, after], {}, after
    after = {**before, **fields}
    return [after if r is before else r for r in records], dict(before), after


def trim_ledger(
    records: list[dict[str, Any] | str], keep: int, spare: str | None = None
) -> list[dict[str, Any] | str]:
    """Drop the oldest entries beyond ``keep``; lines that are not entries and the entry of
    ``spare`` (a deploy_id) are never dropped."""
    excess = sum(isinstance(r, dict) for r in records) - keep
    dropped: set[int] = set()
    for index, record in enumerate(records):
        if len(dropped) >= excess:
            break
        if isinstance(record, dict) and record["deploy_id"] != spare:
            dropped.add(index)
    return [r for index, r in enumerate(records) if index not in dropped]


def newest_first(records: list[dict[str, Any] | str]) -> list[dict[str, Any]]:
    """The entries, the last written first (entries are appended when a deploy starts)."""
    return [r for r in reversed(records) if isinstance(r, dict)]


def current_and_previous(
    entries: list[dict[str, Any]],
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """From newest-first entries: the newest succeeded entry, and the newest succeeded entry
    older than it that served another release (what a rollback would go back to)."""
    succeeded = [e for e in entries if e.get("result") == "succeeded"]
    if not succeeded:
        return None, None
    current = succeeded[0]
    for entry in succeeded[1:]:
        if entry.get("release_id") != current.get("release_id"):
            return current, entry
    return current, None


# --- the files ----------------------------------------------------------------------------------
def app_dir(path: str, app: str) -> str:
    if not app or app in (".", "..") or "/" in app or "\0" in app:
        raise DeployStateError(f"app: {app!r} is not a valid application name")
    return os.path.join(path, app)


def ensure_dir(directory: str) -> None:
    """Create the state directory of an app (0700) and its parents when missing."""
    if not os.path.isdir(directory):
        os.makedirs(os.path.dirname(directory), mode=0o755, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.mkdir(directory, 0o700)
        os.chmod(directory, 0o700)


@contextlib.contextmanager
def guarded(directory: str, name: str, exclusive: bool = True) -> Iterator[None]:
    """Hold the ``flock`` of the guard file ``name``. Shared holds (readers) neither create the
    guard nor wait when there is none."""
    guard = os.path.join(directory, name)
    if exclusive:
        fd = os.open(guard, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    else:
        try:
            fd = os.open(guard, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            yield
            return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


def read_text(path: str) -> str | None:
    """The text of a file, or None when there is none."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def read_lock(directory: str, app: str, ttl: int) -> dict[str, Any] | None:
    """The lock in ``lock.json``: None when there is none, an :func:`unreadable_lock` when the
    file cannot be read as a lock."""
    path = os.path.join(directory, LOCK_FILE)
    try:
        text = read_text(path)
    except (OSError, UnicodeDecodeError) as err:
        text, reason = "", str(err)
    else:
        reason = "not a JSON lock with a token and an expiry"
    if text is None:
        return None
    lock = parse_lock(text)
    if lock is not None:
        return lock
    try:
        mtime = os.stat(path).st_mtime
    except FileNotFoundError:
        return None
    return unreadable_lock(app, mtime, ttl, reason)


def create_exclusive(path: str, text: str) -> bool:
    """Create ``path`` (0600) holding ``text`` unless it exists; whether it was created."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except FileExistsError:
        return False
    try:
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.unlink(path)
        raise
    os.close(fd)
    return True


def write_atomic(path: str, text: str) -> None:
    """Replace ``path`` with a file (0600) holding ``text``: readers see the old or the new."""
    write_bytes_atomic(path, text.encode("utf-8"), 0o600)


def dump_lock(lock: dict[str, Any]) -> str:
    return json.dumps(lock, indent=2, sort_keys=True) + "\n"
