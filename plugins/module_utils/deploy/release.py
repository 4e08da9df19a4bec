# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Release ids, source fingerprints and release manifests, shared by the build and deploy code.

A release is a directory of artifacts built once on the controller:
``<artifacts_root>/<release_id>/`` holding ``manifest.json``, ``SHA256SUMS`` and the artifact
files the manifest lists with their SHA-256 checksums. A source tree is what a release is
built from: ``api/`` (a Python project with ``requirements.lock``) and ``web/`` (a Next.js
project with its ``package-lock.json``).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re

MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
# The files every application source tree has; the first one missing is named in errors.
SOURCE_TREE_FILES = ("api/requirements.lock", "web/package.json", "web/package-lock.json")

# Directories and files that are build output or local state, never part of a release's source.
IGNORED_DIRS = frozenset(
    {
        ".git",
        ".next",
        ".pytest_cache",
        ".ruff_cache",
        ".venv",
        "__pycache__",
        "build",
        "dist",
        "node_modules",
    }
)
IGNORED_SUFFIXES = (".pyc", ".pyo", ".egg-info", ".tsbuildinfo")

RELEASE_ID_RE = re.compile(r"^[0-9]{8}T[0-9]{6}Z-[0-9a-z]{1,40}$")
# An image reference's digest, and its tag (the OCI distribution spec's grammar of a tag).
IMAGE_DIGEST_RE = re.compile(r"@sha256:([0-9a-f]{12})[0-9a-f]{52}\Z")
IMAGE_TAG_RE = re.compile(r":([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})\Z")


def image_release_id(image: str, given: str = "") -> str:
    """The release id of a deploy of an image (the fly rung): ``given`` when not empty, else
    ``sha256-`` and the first 12 hex digits of the image's digest, else its tag; empty when the
    image has neither (``registry.fly.io/notes``)."""
    if given:
        return given
    digest = IMAGE_DIGEST_RE.search(image)
    if digest:
        return f"sha256-{digest.group(1)}"
    tag = IMAGE_TAG_RE.search(image)
    return tag.group(1) if tag else ""


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def source_files(root: str) -> list[str]:
    """Relative paths of the source files under root, sorted, build output left out."""
    found = []
    for top, dirs, files in os.walk(root):
        dirs[:] = sorted(
            d for d in dirs if d not in IGNORED_DIRS and not d.endswith(IGNORED_SUFFIXES)
        )
        for name in files:
            if name.endswith(IGNORED_SUFFIXES):
                continue
            found.append(os.path.relpath(os.path.join(top, name), root))
    return sorted(found)


def source_hash(root: str) -> str:
    """One SHA-256 over the names, modes and contents of the source files under root."""
    digest = hashlib.sha256()
    for rel in source_files(root):
        path = os.path.join(root, rel)
        executable = os.access(path, os.X_OK)
        digest.update(f"{rel}\0{int(executable)}\0{sha256_file(path)}\n".encode())
    return digest.hexdigest()


def make_release_id(git_sha: str, now: datetime.datetime | None = None) -> str:
    """``<UTC time>-<short git sha>``: sorts by time, names the code."""
    stamp = (now or datetime.datetime.now(datetime.timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    sha = re.sub(r"[^0-9a-z]", "", (git_sha or "nogit").lower())[:12] or "nogit"
    return f"{stamp}-{sha}"


def alembic_head(versions_dir: str) -> str | None:
    """The head revision of an Alembic versions directory (None when there are none).

    Fails when the history has more than one head: a release must name one schema.
    """
    revision_re = re.compile(r"^revision(?:\s*:\s*str)?\s*=\s*['\"]([^'\"]+)['\"]", re.M)
    down_re = re.compile(r"^down_revision[^=]*=\s*(.+)$", re.M)
    revisions, downs = set(), set()
    if not os.path.isdir(versions_dir):
        return None
    for name in sorted(os.listdir(versions_dir)):
        if not name.endswith(".py"):
            continue
        with open(os.path.join(versions_dir, name), encoding="utf-8") as handle:
            text = handle.read()
        rev = revision_re.search(text)
        if not rev:
            continue
        revisions.add(rev.group(1))
        down = down_re.search(text)
        if down:
            downs.update(re.findall(r"['\"]([^'\"]+)['\"]", down.group(1)))
    heads = sorted(revisions - downs)
    if len(heads) > 1:
        raise ValueError(f"the migrations in {versions_dir} have {len(heads)} heads: {heads}")
    return heads[0] if heads else None


def read_manifest(release_dir: str) -> dict:
    with open(os.path.join(release_dir, MANIFEST), encoding="utf-8") as handle:
        return json.load(handle)


def verify_release(release_dir: str, manifest: dict | None = None) -> list[str]:
    """The problems with a release directory: missing files and checksum mismatches."""
    manifest = manifest if manifest is not None else read_manifest(release_dir)
    problems = []
    for rel, expected in sorted(manifest.get("files", {}).items()):
        path = os.path.join(release_dir, rel)
        if not os.path.isfile(path):
            problems.append(f"{rel}: missing")
        elif sha256_file(path) != expected:
            problems.append(f"{rel}: checksum does not match the manifest")
    return problems


def write_sums(release_dir: str, files: dict[str, str]) -> None:
    with open(os.path.join(release_dir, SUMS), "w", encoding="utf-8") as handle:
        for rel, digest in sorted(files.items()):
            handle.write(f"{digest}  {rel}\n")


def find_release_by_source(artifacts_root: str, wanted_hash: str) -> str | None:
    """The newest release directory under artifacts_root built from the given source hash."""
    if not os.path.isdir(artifacts_root):
        return None
    for name in sorted(os.listdir(artifacts_root), reverse=True):
        path = os.path.join(artifacts_root, name)
        if not RELEASE_ID_RE.match(name) or not os.path.isfile(os.path.join(path, MANIFEST)):
            continue
        try:
            manifest = read_manifest(path)
        except (OSError, ValueError):
            continue
        if manifest.get("source_hash") == wanted_hash:
            return path
    return None


def kind_of(path: str) -> str:
    """``release`` when path holds a manifest, ``source`` when it is an application source tree.

    Anything else raises ValueError saying what the directory lacks to be either.
    """
    if not os.path.isdir(path):
        raise ValueError(f"{path} is not a directory")
    if os.path.isfile(os.path.join(path, MANIFEST)):
        return "release"
    for rel in SOURCE_TREE_FILES:
        if not os.path.isfile(os.path.join(path, rel)):
            raise ValueError(
                f"{path} is neither a built release (no {MANIFEST}) "
                f"nor an application source tree ({rel} is missing)"
            )
    return "source"


def given_release(release_dir: str) -> dict:
    """The manifest of a release directory whose files match it; ValueError otherwise."""
    try:
        manifest = read_manifest(release_dir)
    except (OSError, ValueError) as err:
        raise ValueError(f"{release_dir}: {MANIFEST} cannot be read: {err}") from err
    if not isinstance(manifest, dict) or not manifest.get("release_id"):
        raise ValueError(f"{release_dir}: {MANIFEST} names no release_id")
    problems = verify_release(release_dir, manifest)
    if problems:
        raise ValueError(f"{release_dir} does not match its {MANIFEST}: {'; '.join(problems)}")
    return manifest
