# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The work of the ``files`` module: bring a list of paths (files, directories, links, absent
paths) to their state, keep what it takes to undo every change, and describe the changes."""

from __future__ import annotations

import contextlib
import errno
import grp
import os
import pwd
import shlex
import stat
import tempfile
from collections.abc import Callable
from typing import Any

DEFAULT_MODES = {"file": 0o644, "directory": 0o755}
MAX_DIFF_BYTES = 256 * 1024


class PathSetError(Exception):
    """An item is wrong, or a path cannot be brought to its state."""


def parse_mode(text: str | None, where: str) -> int | None:
    if text is None:
        return None
    try:
        mode = int(str(text), 8)
    except ValueError:
        mode = -1
    if not 0 <= mode <= 0o7777:
        raise PathSetError(f"{where}.mode: expected an octal mode such as '0644', got {text!r}")
    return mode


def resolve_id(name: str | None, where: str, kind: str) -> int | None:
    """The uid (kind owner) or gid (kind group) of a name or number."""
    if name is None:
        return None
    if str(name).isdigit():
        return int(name)
    try:
        if kind == "owner":
            return pwd.getpwnam(name).pw_uid
        return grp.getgrnam(name).gr_gid
    except KeyError:
        raise PathSetError(
            f"{where}.{kind}: no such {'user' if kind == 'owner' else 'group'} {name!r}"
        ) from None


def kind_of(st: os.stat_result | None) -> str:
    if st is None:
        return "absent"
    if stat.S_ISLNK(st.st_mode):
        return "link"
    if stat.S_ISDIR(st.st_mode):
        return "directory"
    if stat.S_ISREG(st.st_mode):
        return "file"
    return "other"


def as_text(data: bytes | None) -> str:
    if data is None:
        return ""
    if len(data) > MAX_DIFF_BYTES:
        return f"({len(data)} bytes, not shown)\n"
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return f"({len(data)} bytes that are not UTF-8)\n"


def read_bytes(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def write_atomic(
    path: str,
    data: bytes,
    mode: int,
    uid: int = -1,
    gid: int = -1,
    check: Callable[[str], None] | None = None,
) -> None:
    """Replace ``path`` with a file holding ``data`` (owner, group and mode set before it is
    renamed into place): readers see the old or the new. ``check`` is called with the
    temporary file's path before the rename, and may raise to keep the old file."""
    directory = os.path.dirname(path)
    fd, temp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchown(handle.fileno(), uid, gid)
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if check is not None:
            check(temp)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    sync_dir(directory)


def sync_dir(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as err:  # some filesystems cannot sync a directory
        if err.errno not in (errno.EINVAL, errno.EBADF):
            raise
    finally:
        os.close(fd)


def link_atomic(path: str, target: str) -> None:
    directory = os.path.dirname(path)
    for attempt in range(100):
        temp = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.{attempt}")
        try:
            os.symlink(target, temp)
        except FileExistsError:
            continue
        try:
            os.replace(temp, path)
        except BaseException:
            os.unlink(temp)
            raise
        return
    raise PathSetError(f"{path}: no free temporary name for the new link")


class PathSet:
    """The items of the module's ``files`` option, applied in order."""

    def __init__(
        self,
        items: list[dict[str, Any]],
        check_mode: bool,
        run: Callable[[list[str]], tuple[int, str, str]] | None = None,
    ) -> None:
        self.items = items
        self.check_mode = check_mode
        self.run = run  # runs a validate or create command: (rc, stdout, stderr)
        self.changed: list[str] = []
        self.diff: list[dict[str, Any]] = []
        self.journal: list[tuple] = []  # how to undo each change, the oldest first

    # --- input -----------------------------------------------------------------------------
    def validate(self) -> None:
        errors = []
        for index, item in enumerate(self.items):
            errors.extend(self.item_errors(f"files[{index}]", item))
        if errors:
            raise PathSetError("; ".join(errors))

    @staticmethod
    def item_errors(where: str, item: dict[str, Any]) -> list[str]:
        """What is wrong with one item (the secret content taken as its content)."""
        errors = []
        state = item["state"]
        item["secret"] = item.get("secret_content") is not None
        if item["secret"] and item["content"] is not None:
            errors.append(f"{where}.secret_content: not with content")
        elif item["secret"]:
            item["content"] = item["secret_content"]
        try:
            item["_mode"] = parse_mode(item["mode"], where)
            item["_uid"] = resolve_id(item["owner"], where, "owner")
            item["_gid"] = resolve_id(item["group"], where, "group")
        except PathSetError as err:
            errors.append(str(err))
        if not os.path.isabs(item["path"]):
            errors.append(f"{where}.path: expected an absolute path, got {item['path']!r}")
        if state != "file" and item["content"] is not None:
            errors.append(f"{where}.content: only with state file, not {state}")
        if state == "link" and not item["src"]:
            errors.append(f"{where}.src: required with state link ({item['path']})")
        if state != "link" and item["src"] is not None:
            errors.append(f"{where}.src: only with state link, not {state}")
        if state != "link" and item.get("src_must_exist"):
            errors.append(f"{where}.src_must_exist: only with state link, not {state}")
        validate = item.get("validate")
        if validate is not None and (state != "file" or "%s" not in validate):
            errors.append(
                f"{where}.validate: only with state file, and with %s for the file to check"
            )
        if validate is not None and item["content"] is None and state == "file":
            errors.append(f"{where}.validate: only with content to check")
        if state in ("link", "absent") and item["mode"] is not None:
            errors.append(f"{where}.mode: not with state {state}")
        if item.get("create_command") and (state != "file" or item["content"] is not None):
            errors.append(f"{where}.create_command: only with state file and no content")
        return errors

    # --- applying ----------------------------------------------------------------------------
    def apply(self) -> None:
        for index, item in enumerate(self.items):
            try:
                getattr(self, f"apply_{item['state']}")(item)
            except OSError as err:
                raise PathSetError(
                    f"files[{index}] ({item['path']}): {err.strerror or err}"
                ) from err

    def note(self, path: str, before: Any = None, after: Any = None, text=None) -> None:
        if path not in self.changed:
            self.changed.append(path)
        if text is not None:
            self.diff.append(
                {"before_header": path, "after_header": path, "before": text[0], "after": text[1]}
            )
        if before is not None:
            self.diff.append(
                {"before_header": path, "after_header": path, "before": before, "after": after}
            )

    def make_parents(self, path: str) -> None:
        missing = []
        parent = os.path.dirname(path)
        while parent and not os.path.lexists(parent):
            missing.append(parent)
            parent = os.path.dirname(parent)
        for directory in reversed(missing):
            if not self.check_mode:
                os.mkdir(directory, 0o755)
                os.chmod(directory, 0o755)
                self.journal.append(("created_dir", directory))
            self.note(directory, {"state": "absent"}, {"state": "directory", "mode": "0755"})

    def current(self, path: str, wanted: str) -> os.stat_result | None:
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return None
        if kind_of(st) == "directory" and wanted != "directory":
            raise PathSetError(f"{path} is a directory, not a {wanted}; it is left as it is")
        if kind_of(st) not in ("directory", "file", "link"):
            raise PathSetError(f"{path} is neither a file, a directory nor a link")
        if wanted == "directory" and kind_of(st) != "directory":
            raise PathSetError(f"{path} is a {kind_of(st)}, not a directory; it is left as it is")
        return st

    def apply_directory(self, item: dict[str, Any]) -> None:
        path = item["path"]
        st = self.current(path, "directory")
        if st is None:
            self.make_parents(path)
            mode = item["_mode"] if item["_mode"] is not None else DEFAULT_MODES["directory"]
            if not self.check_mode:
                os.mkdir(path, mode)
                self.journal.append(("created_dir", path))
                os.chmod(path, mode)
                os.chown(
                    path,
                    item["_uid"] if item["_uid"] is not None else -1,
                    item["_gid"] if item["_gid"] is not None else -1,
                )
            self.note(path, {"state": "absent"}, {"state": "directory", "mode": f"{mode:04o}"})
            return
        self.fix_attributes(item, st)

    def apply_file(self, item: dict[str, Any]) -> None:
        path = item["path"]
        st = self.current(path, "file")
        if item["content"] is None and st is None and item.get("create_command"):
            st = self.create_with_command(item)
            if st is None:  # check mode
                return
        if item["content"] is None:  # an existing file's owner, group and mode only
            if st is None:
                raise PathSetError(f"{path} does not exist (an item without content only sets the"
                                   " owner, group and mode of an existing file)")  # fmt: skip
            self.fix_attributes(item, st)
            return
        data = item["content"].encode("utf-8")
        kind = kind_of(st)
        old = read_bytes(path) if kind == "file" else None
        if kind == "file" and old == data:
            self.fix_attributes(item, st)
            return
        if st is None:
            self.make_parents(path)
        keep = st if kind == "file" else None
        mode = (
            item["_mode"]
            if item["_mode"] is not None
            else (stat.S_IMODE(keep.st_mode) if keep else DEFAULT_MODES["file"])
        )
        uid = item["_uid"] if item["_uid"] is not None else (keep.st_uid if keep else os.geteuid())
        gid = item["_gid"] if item["_gid"] is not None else (keep.st_gid if keep else os.getegid())
        if not self.check_mode:
            self.journal.append(self.undo_entry(path, st, old))
            write_atomic(path, data, mode, uid, gid, self.validator(item))
        if item["secret"]:
            text = ("(secret content)\n" if old is not None else "", "(new secret content)\n")
        else:
            text = (as_text(old), as_text(data))
        before = None if kind == "file" else {"state": kind}
        self.note(path, before, {"state": "file", "mode": f"{mode:04o}"} if before else None, text)

    def create_with_command(self, item: dict[str, Any]) -> os.stat_result | None:
        """Make a missing file with its create_command; its stat, or None in check mode."""
        path = item["path"]
        self.make_parents(path)
        if self.check_mode:
            self.note(path, {"state": "absent"}, {"state": "file"})
            return None
        if self.run is None:
            raise PathSetError(f"{path}: create_command needs a way to run commands")
        argv = item["create_command"]
        rc, out, err = self.run(argv)
        if os.path.lexists(path):
            self.journal.append(("created", path))
        if rc != 0:
            said = " ".join(" ".join(part.split()) for part in (out, err) if part.strip())
            raise PathSetError(
                f"{path} was not created: {argv[0]} failed (exit status {rc}): {said[:2000]}"
            )
        st = self.current(path, "file")
        if st is None or kind_of(st) != "file":
            raise PathSetError(f"{path} was not created: {argv[0]} made no file there")
        self.note(path, {"state": "absent"}, {"state": "file"})
        return st

    def apply_link(self, item: dict[str, Any]) -> None:
        path = item["path"]
        if item.get("src_must_exist"):
            target = os.path.join(os.path.dirname(path), item["src"])
            if not os.path.exists(target):
                raise PathSetError(
                    f"{path}: the link's target {item['src']} does not exist (src_must_exist)"
                )
        st = self.current(path, "link")
        kind = kind_of(st)
        if kind == "link" and os.readlink(path) == item["src"]:
            self.fix_attributes(item, st)
            return
        if st is None:
            self.make_parents(path)
        before = {"state": kind}
        if kind == "link":
            before["src"] = os.readlink(path)
        if not self.check_mode:
            self.remember(path, st)
            link_atomic(path, item["src"])
            if item["_uid"] is not None or item["_gid"] is not None:
                os.lchown(
                    path,
                    item["_uid"] if item["_uid"] is not None else -1,
                    item["_gid"] if item["_gid"] is not None else -1,
                )
        self.note(path, before, {"state": "link", "src": item["src"]})

    def apply_absent(self, item: dict[str, Any]) -> None:
        path = item["path"]
        st = self.current(path, "file or link")
        if st is None:
            return
        kind = kind_of(st)
        before = {"state": kind}
        if kind == "link":
            before["src"] = os.readlink(path)
        if not self.check_mode:
            self.remember(path, st)
            os.unlink(path)
        self.note(path, before, {"state": "absent"})

    def validator(self, item: dict[str, Any]) -> Callable[[str], None] | None:
        """The check of a new file's content (its validate command), when it has one."""
        if item.get("validate") is None or self.run is None:
            return None

        def check(temp: str) -> None:
            argv = [arg.replace("%s", temp) for arg in shlex.split(item["validate"])]
            rc, out, err = self.run(argv)
            if rc != 0:
                said = " ".join(" ".join(part.split()) for part in (out, err) if part.strip())
                raise PathSetError(
                    f"{item['path']} was not written: {argv[0]} rejected the new content "
                    f"(exit status {rc}): {said.replace(temp, item['path'])[:2000]}"
                )

        return check

    def fix_attributes(self, item: dict[str, Any], st: os.stat_result) -> None:
        """Owner, group and mode of an existing path, where given and different."""
        path = item["path"]
        is_link = stat.S_ISLNK(st.st_mode)
        mode = stat.S_IMODE(st.st_mode)
        wanted = {
            "owner": item["_uid"] if item["_uid"] not in (None, st.st_uid) else None,
            "group": item["_gid"] if item["_gid"] not in (None, st.st_gid) else None,
            "mode": item["_mode"] if not is_link and item["_mode"] not in (None, mode) else None,
        }
        if all(value is None for value in wanted.values()):
            return
        before = {"owner": st.st_uid, "group": st.st_gid, "mode": f"{mode:04o}"}
        after = dict(before)
        for key, value in wanted.items():
            if value is not None:
                after[key] = f"{value:04o}" if key == "mode" else value
        if not self.check_mode:
            self.journal.append(("attributes", path, mode, st.st_uid, st.st_gid, is_link))
            if wanted["owner"] is not None or wanted["group"] is not None:
                os.lchown(
                    path,
                    -1 if wanted["owner"] is None else wanted["owner"],
                    -1 if wanted["group"] is None else wanted["group"],
                )
            if wanted["mode"] is not None:
                os.chmod(path, wanted["mode"])
        self.note(
            path,
            {k: before[k] for k in after if after[k] != before[k]},
            {k: after[k] for k in after if after[k] != before[k]},
        )

    def remember(self, path: str, st: os.stat_result | None) -> None:
        """Keep what it takes to put ``path`` back as it is now."""
        data = read_bytes(path) if kind_of(st) == "file" else None
        self.journal.append(self.undo_entry(path, st, data))

    @staticmethod
    def undo_entry(path: str, st: os.stat_result | None, data: bytes | None) -> tuple:
        kind = kind_of(st)
        if kind == "absent":
            return ("created", path)
        if kind == "link":
            return ("link", path, os.readlink(path), st.st_uid, st.st_gid)
        return ("file", path, data, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)

    # --- undoing -----------------------------------------------------------------------------
    def undo(self) -> None:
        """Put back every change made, the newest first."""
        for entry in reversed(self.journal):
            with contextlib.suppress(OSError):
                self.undo_one(entry)
        self.journal.clear()
        self.changed, self.diff = [], []

    @staticmethod
    def undo_one(entry: tuple) -> None:
        action, path = entry[0], entry[1]
        if action == "created":
            os.unlink(path)
        elif action == "created_dir":
            os.rmdir(path)
        elif action == "file":
            write_atomic(path, entry[2], entry[3], entry[4], entry[5])
        elif action == "link":
            link_atomic(path, entry[2])
            os.lchown(path, entry[3], entry[4])
        elif action == "attributes":
            os.lchown(path, entry[3], entry[4])
            if not entry[5]:
                os.chmod(path, entry[2])
