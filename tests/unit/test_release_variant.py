"""tools/release_variant.py: a derived release is a consistent release (checksums, RECORD)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest

from tools.release_variant import derive, patch_wheel

WHEEL = "notes_api-1.0.0-py3-none-any.whl"
MAIN = "app = create_app()\n"


def make_wheel() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as whl:
        whl.writestr("notes_api/main.py", MAIN)
        whl.writestr("notes_api-1.0.0.dist-info/RECORD", "stale\n")
    return out.getvalue()


def make_base(root: Path) -> Path:
    base = root / "20260101T000000Z-000000000000"
    base.mkdir(parents=True)
    wheel = make_wheel()
    with tarfile.open(base / "api.tar.gz", "w:gz") as tar:
        info = tarfile.TarInfo(WHEEL)
        info.size = len(wheel)
        tar.addfile(info, io.BytesIO(wheel))
        folder = tarfile.TarInfo("wheelhouse")
        folder.type = tarfile.DIRTYPE
        tar.addfile(folder)
    (base / "web.tar.gz").write_bytes(b"web")
    manifest = {
        "app": "notes",
        "release_id": base.name,
        "api_wheel": WHEEL,
        "alembic_head": "0001",
        "source_hash": "abc",
        "files": {},
    }
    (base / "manifest.json").write_text(json.dumps(manifest))
    return base


def wheel_of(release: Path) -> zipfile.ZipFile:
    with tarfile.open(release / "api.tar.gz") as tar:
        return zipfile.ZipFile(io.BytesIO(tar.extractfile(WHEEL).read()))


def test_variant_has_new_id_checksums_and_patched_code(tmp_path):
    base = make_base(tmp_path / "artifacts")
    new = derive(base, tmp_path / "artifacts", "flaky")
    manifest = json.loads((new / "manifest.json").read_text())
    assert new.name == manifest["release_id"] != base.name
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((new / name).read_bytes()).hexdigest() == digest
    sums = (new / "SHA256SUMS").read_text().splitlines()
    assert sums == [f"{d}  {n}" for n, d in sorted(manifest["files"].items())]
    main = wheel_of(new).read("notes_api/main.py").decode()
    assert main.startswith(MAIN)
    assert "variant_flaky" in main
    assert (new / "web.tar.gz").read_bytes() == b"web"


def test_variant_with_a_migration_moves_the_alembic_head(tmp_path):
    base = make_base(tmp_path / "artifacts")
    new = derive(base, tmp_path / "artifacts", "bad_migration")
    assert json.loads((new / "manifest.json").read_text())["alembic_head"] == "0002"
    names = wheel_of(new).namelist()
    assert "notes_api/migrations/versions/0002_variant_bad.py" in names


def test_record_lists_every_file_with_its_hash():
    wheel = zipfile.ZipFile(io.BytesIO(patch_wheel(make_wheel(), {}, {"extra.py": "x = 1\n"})))
    rows = dict(
        (line.split(",")[0], line.split(",", 1)[1])
        for line in wheel.read("notes_api-1.0.0.dist-info/RECORD").decode().splitlines()
    )
    data = wheel.read("extra.py")
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    assert rows["extra.py"] == f"sha256={digest},{len(data)}"
    assert rows["notes_api-1.0.0.dist-info/RECORD"] == ","


def test_patching_a_file_the_wheel_lacks_fails():
    with pytest.raises(ValueError, match="not in the wheel"):
        patch_wheel(make_wheel(), {"notes_api/nope.py": str.upper}, {})


def test_a_variants_migration_follows_the_base_releases_head():
    from tools.release_variant import BAD_MIGRATION, next_migration

    revision, name, text = next_migration("0002", BAD_MIGRATION)
    assert (revision, name) == ("0003", "notes_api/migrations/versions/0003_variant_bad.py")
    assert 'revision: str = "0003"' in text
    assert 'down_revision: str | None = "0002"' in text
