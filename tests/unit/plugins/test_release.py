"""module_utils/deploy/release.py: source fingerprints, release ids, Alembic heads, manifests."""

from __future__ import annotations

import datetime
import json
import os

import pytest

from ansible_collections.sigma.deploy.plugins.module_utils.deploy import release


def write(path, text: str = "x") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def src(tmp_path):
    root = tmp_path / "app"
    write(root / "api" / "pyproject.toml", "[project]\nname = 'a'\n")
    write(root / "web" / "package.json", "{}")
    return root


def test_source_hash_ignores_build_output(src):
    before = release.source_hash(str(src))
    write(src / "web" / "node_modules" / "next" / "index.js")
    write(src / "web" / ".next" / "BUILD_ID")
    write(src / "api" / "src" / "pkg" / "__pycache__" / "m.cpython-311.pyc")
    write(src / "api" / "notes_api.egg-info" / "PKG-INFO")
    assert release.source_hash(str(src)) == before


def test_source_hash_follows_content_names_and_modes(src):
    before = release.source_hash(str(src))
    write(src / "web" / "package.json", '{"name": "changed"}')
    changed = release.source_hash(str(src))
    assert changed != before
    os.chmod(src / "web" / "package.json", 0o755)
    assert release.source_hash(str(src)) != changed
    os.chmod(src / "web" / "package.json", 0o644)
    (src / "web" / "package.json").rename(src / "web" / "package2.json")
    assert release.source_hash(str(src)) != changed


def test_release_id_is_utc_time_and_short_sha():
    now = datetime.datetime(2026, 11, 26, 15, 34, 0, tzinfo=datetime.UTC)
    rid = release.make_release_id("ABCDEF0123456789abcdef", now)
    assert rid == "20261126T153400Z-abcdef012345"
    assert release.RELEASE_ID_RE.match(rid)
    assert release.make_release_id("", now) == "20261126T153400Z-nogit"


def migration(directory, name: str, rev: str, down) -> None:
    write(directory / name, f'revision = "{rev}"\ndown_revision = {down!r}\n')


def test_alembic_head_follows_the_chain(tmp_path):
    versions = tmp_path / "versions"
    migration(versions, "0001_a.py", "0001", None)
    migration(versions, "0002_b.py", "0002", "0001")
    migration(versions, "0003_c.py", "0003", "0002")
    assert release.alembic_head(str(versions)) == "0003"


def test_alembic_head_after_a_merge(tmp_path):
    versions = tmp_path / "versions"
    migration(versions, "a.py", "a", None)
    migration(versions, "b.py", "b", "a")
    migration(versions, "c.py", "c", "a")
    migration(versions, "m.py", "m", ("b", "c"))
    assert release.alembic_head(str(versions)) == "m"


def test_alembic_two_heads_is_an_error(tmp_path):
    versions = tmp_path / "versions"
    migration(versions, "a.py", "a", None)
    migration(versions, "b.py", "b", "a")
    migration(versions, "c.py", "c", "a")
    with pytest.raises(ValueError, match="2 heads"):
        release.alembic_head(str(versions))


def test_alembic_head_of_nothing(tmp_path):
    assert release.alembic_head(str(tmp_path / "missing")) is None


def make_release(root, rid: str, source: str) -> str:
    path = root / rid
    write(path / "api.tar.gz", "api")
    files = {"api.tar.gz": release.sha256_file(str(path / "api.tar.gz"))}
    manifest = {"release_id": rid, "source_hash": source, "files": files}
    write(path / release.MANIFEST, json.dumps(manifest))
    return str(path)


def test_verify_release_reports_missing_and_changed_files(tmp_path):
    path = make_release(tmp_path, "20261126T000000Z-aaa", "s1")
    assert release.verify_release(path) == []
    write(tmp_path / "20261126T000000Z-aaa" / "api.tar.gz", "tampered")
    assert release.verify_release(path) == ["api.tar.gz: checksum does not match the manifest"]
    os.remove(os.path.join(path, "api.tar.gz"))
    assert release.verify_release(path) == ["api.tar.gz: missing"]


def test_find_release_by_source_takes_the_newest_match(tmp_path):
    make_release(tmp_path, "20261126T000000Z-aaa", "s1")
    newest = make_release(tmp_path, "20261126T010000Z-bbb", "s1")
    make_release(tmp_path, "20261126T020000Z-ccc", "s2")
    write(tmp_path / ".building-x" / release.MANIFEST, json.dumps({"source_hash": "s1"}))
    assert release.find_release_by_source(str(tmp_path), "s1") == newest
    assert release.find_release_by_source(str(tmp_path), "s3") is None
    assert release.find_release_by_source(str(tmp_path / "none"), "s1") is None


def test_sums_file_lists_every_file(tmp_path):
    release.write_sums(str(tmp_path), {"b.tar.gz": "22", "a.tar.gz": "11"})
    assert (tmp_path / release.SUMS).read_text() == "11  a.tar.gz\n22  b.tar.gz\n"


def test_kind_of_a_directory(tmp_path):
    write(tmp_path / "rel" / release.MANIFEST, "{}")
    for rel in release.SOURCE_TREE_FILES:
        write(tmp_path / "app" / rel)
    write(tmp_path / "half" / "api" / "requirements.lock")
    (tmp_path / "empty").mkdir()
    assert release.kind_of(str(tmp_path / "rel")) == "release"
    assert release.kind_of(str(tmp_path / "app")) == "source"
    problems = {}
    for name in ("half", "empty", "absent"):
        try:
            release.kind_of(str(tmp_path / name))
        except ValueError as err:
            problems[name] = str(err)
    neither = "is neither a built release (no manifest.json) nor an application source tree"
    assert problems == {
        "half": f"{tmp_path}/half {neither} (web/package.json is missing)",
        "empty": f"{tmp_path}/empty {neither} (api/requirements.lock is missing)",
        "absent": f"{tmp_path}/absent is not a directory",
    }


def test_given_release_checks_the_manifest(tmp_path):
    path = make_release(tmp_path, "20260101T000000Z-abc", "s1")
    assert release.given_release(path)["release_id"] == "20260101T000000Z-abc"
    write(tmp_path / "bad" / release.MANIFEST, "{not json")
    with pytest.raises(ValueError, match=r"manifest.json cannot be read"):
        release.given_release(str(tmp_path / "bad"))
    write(tmp_path / "anon" / release.MANIFEST, "{}")
    with pytest.raises(ValueError, match=r"names no release_id$") as err:
        release.given_release(str(tmp_path / "anon"))
    assert str(err.value) == f"{tmp_path}/anon: manifest.json names no release_id"
