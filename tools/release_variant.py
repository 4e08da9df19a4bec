"""Derive a new release from a built one, with small changes to the API, in seconds.

The deploy tests and `make demo` need several releases of the reference app (a plain next
release, one whose health check fails, one that answers 5xx now and then, one whose migration
fails, one with a new schema). Building each from source takes a minute or more (the web app),
so a variant reuses the base release's web artifact and wheelhouse and only rewrites files
inside the API wheel (its RECORD updated), then writes a manifest with a new release id and
new checksums, as sigma.deploy.app_build would.

    python tools/release_variant.py BASE_RELEASE_DIR DEST_ROOT --variant NAME

(NAME: same, unhealthy, flaky, bad_migration or schema2)
prints the new release directory.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import io
import json
import shutil
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

Patch = Callable[[str], str]

# Appended to notes_api/main.py: answers /healthz with 503, so the slot never becomes healthy.
UNHEALTHY = """

# --- release variant "unhealthy" (tools/release_variant.py) ---
from starlette.responses import JSONResponse as _VariantJSON  # noqa: E402


@app.middleware("http")
async def variant_unhealthy(request, call_next):
    if request.url.path == "/healthz":
        return _VariantJSON({"status": "broken", "database": "variant"}, status_code=503)
    return await call_next(request)
"""

# Appended to notes_api/main.py: every third request that came through nginx (it carries
# X-Forwarded-For) answers 500. Health and smoke checks against the slot itself pass, as a
# release that breaks only under real traffic would: what a canary is there to catch.
FLAKY = """

# --- release variant "flaky" (tools/release_variant.py) ---
import itertools as _variant_itertools  # noqa: E402

from starlette.responses import JSONResponse as _VariantJSON  # noqa: E402

_variant_counter = _variant_itertools.count()


@app.middleware("http")
async def variant_flaky(request, call_next):
    proxied = "x-forwarded-for" in request.headers
    if proxied and request.url.path != "/healthz" and next(_variant_counter) % 3 == 0:
        return _VariantJSON({"detail": "variant flaky"}, status_code=500)
    return await call_next(request)
"""

MIGRATION = '''"""{doc}

Revision ID: {revision}
Revises: {down}
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "{revision}"
down_revision: str | None = "{down}"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table("note_tags", sa.Column("id", sa.Integer(), primary_key=True))
{extra}

def downgrade() -> None:
    op.drop_table("note_tags")
'''

# A migration that creates a table, then fails: PostgreSQL rolls back both (one transaction).
# Both migrations follow the base release's head (the manifest's alembic_head): 0002 on 0001.
BAD_MIGRATION = {
    "doc": "Variant bad_migration: fails after creating a table.",
    "extra": '    op.execute("SELECT no_such_column FROM notes")\n',
    "name": "variant_bad",
}
GOOD_MIGRATION = {
    "doc": "Variant schema2: adds the note_tags table.",
    "extra": "",
    "name": "note_tags",
}

VERSIONS = "notes_api/migrations/versions/"

VARIANTS: dict[str, dict] = {
    "same": {"patches": {}},
    "unhealthy": {"patches": {"notes_api/main.py": lambda s: s + UNHEALTHY}},
    "flaky": {"patches": {"notes_api/main.py": lambda s: s + FLAKY}},
    "bad_migration": {"patches": {}, "migration": BAD_MIGRATION},
    "schema2": {"patches": {}, "migration": GOOD_MIGRATION},
}


def next_migration(head: str, migration: dict) -> tuple[str, str, str]:
    """(the new revision, its file in the wheel, its text): the revision after ``head``."""
    revision = f"{int(head) + 1:04d}"
    text = MIGRATION.format(
        doc=migration["doc"], extra=migration["extra"], revision=revision, down=head
    )
    return revision, f"{VERSIONS}{revision}_{migration['name']}.py", text


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def record_hash(data: bytes) -> str:
    raw = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + raw.decode()


def patch_wheel(wheel: bytes, patches: dict[str, Patch], files: dict[str, str]) -> bytes:
    """The wheel with `patches` applied to existing files and `files` added; RECORD updated."""
    src = zipfile.ZipFile(io.BytesIO(wheel))
    contents = {info.filename: src.read(info.filename) for info in src.infolist()}
    missing = set(patches) - set(contents)
    if missing:
        raise ValueError(f"not in the wheel: {sorted(missing)}")
    for name, patch in patches.items():
        contents[name] = patch(contents[name].decode()).encode()
    for name, text in files.items():
        contents[name] = text.encode()
    record = next(n for n in contents if n.endswith(".dist-info/RECORD"))
    lines = [f"{n},{record_hash(d)},{len(d)}" for n, d in contents.items() if n != record]
    contents[record] = ("\n".join([*lines, f"{record},,"]) + "\n").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in contents.items():
            dst.writestr(name, data)
    return out.getvalue()


def new_release_id(base_id: str, variant: str) -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    tag = hashlib.sha256(f"{base_id}/{variant}/{stamp}".encode()).hexdigest()[:12]
    return f"{stamp}-{tag}"


def derive(base: Path, dest_root: Path, variant: str, release_id: str | None = None) -> Path:
    """A new release directory under dest_root made from `base` as `variant` says."""
    spec = VARIANTS[variant]
    manifest = json.loads((base / "manifest.json").read_text())
    release_id = release_id or new_release_id(manifest["release_id"], variant)
    dest = dest_root / release_id
    if dest.exists():
        raise FileExistsError(dest)
    with tempfile.TemporaryDirectory(dir=dest_root) as tmp:
        work = Path(tmp) / release_id
        work.mkdir()
        with tarfile.open(base / "api.tar.gz") as tar:
            members = {m.name: (m, tar.extractfile(m).read() if m.isfile() else None) for m in tar}
        wheel_name = manifest["api_wheel"]
        member, data = members[wheel_name]
        files, head = {}, None
        if spec.get("migration"):
            head, name, text = next_migration(manifest["alembic_head"], spec["migration"])
            files[name] = text
        members[wheel_name] = (member, patch_wheel(data, spec["patches"], files))
        with tarfile.open(work / "api.tar.gz", "w:gz") as tar:
            for member, data in members.values():
                if data is not None:
                    member.size = len(data)
                    tar.addfile(member, io.BytesIO(data))
                else:
                    tar.addfile(member)
        shutil.copy2(base / "web.tar.gz", work / "web.tar.gz")
        files = {name: sha256_file(work / name) for name in ("api.tar.gz", "web.tar.gz")}
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        manifest.update(
            release_id=release_id,
            built_at=now,
            files=files,
            source_hash=hashlib.sha256(f"{manifest['source_hash']}/{variant}".encode()).hexdigest(),
            variant=variant,
        )
        if head:
            manifest["alembic_head"] = head
        sums = "".join(f"{digest}  {name}\n" for name, digest in sorted(files.items()))
        (work / "SHA256SUMS").write_text(sums)
        (work / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        work.rename(dest)
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("base", type=Path, help="a release directory made by app_build")
    parser.add_argument("dest_root", type=Path, help="where the new release directory goes")
    parser.add_argument("--variant", choices=sorted(VARIANTS), default="same")
    args = parser.parse_args(argv)
    print(derive(args.base, args.dest_root, args.variant))
    return 0


if __name__ == "__main__":
    sys.exit(main())
