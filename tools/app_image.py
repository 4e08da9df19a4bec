"""Build the reference app's container images and push them to the local registry.

    python tools/app_image.py --registry 127.0.0.1:5765 [--app notes] [--source examples/app]

prints one JSON object: ``{"image": "registry.fly.io/notes:<hash>", "postgres_image": ...}``,
the names a playbook writes (they resolve to the local registry through its registries.conf
mirror, ``tests/cloudsim/registry.py``).

- The app image is ``examples/app/Dockerfile``'s ``api`` target on our local Python base
  (``tests/hosts/images/python-base.Containerfile``, over the test-host image). Its tag is a hash
  of the source, so a source is built and pushed once: when the registry has the tag, nothing
  is built. The release id is not baked in; a deploy sets ``RELEASE_ID`` in the machine's env.
- The PostgreSQL image (``tests/hosts/images/postgres.Containerfile``) backs a database app.

Needs podman (``CONTAINERS_CONF`` as the Makefile sets it) and the test-host image
(``make image``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "tests" / "hosts" / "images"
FLY_REGISTRY = "registry.fly.io"
SKIP_PARTS = {"__pycache__", ".venv", "node_modules", ".next", ".pytest_cache", "build", "dist"}
MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.index.v1+json",
    ]
)


def source_hash(paths: list[Path], extra: str = "") -> str:
    """A hash of the files under ``paths`` (names and contents), ignoring build leftovers."""
    digest = hashlib.sha256(extra.encode())
    for base in paths:
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        for path in files:
            if SKIP_PARTS.intersection(path.parts) or path.suffix == ".pyc":
                continue
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def trust_bundle() -> Path:
    """The CA bundle this environment trusts (pip's, requests', OpenSSL's)."""
    for name in ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
        value = os.environ.get(name)
        if value and Path(value).is_file():
            return Path(value)
    return Path("/etc/ssl/certs/ca-certificates.crt")


def run(args: list[str], quiet: bool = True) -> str:
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip().splitlines()[-15:]
        sys.exit(f"app_image: {' '.join(args[:3])} ... failed:\n" + "\n".join(output))
    return result.stdout.strip()


def image_exists(tag: str) -> bool:
    return subprocess.run(["podman", "image", "exists", tag], check=False).returncode == 0


def registry_has(registry: str, repository: str, tag: str) -> bool:
    request = urllib.request.Request(
        f"http://{registry}/v2/{repository}/manifests/{tag}",
        method="HEAD",
        headers={"Accept": MANIFEST_TYPES},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


def host_image() -> str:
    run(["bash", str(ROOT / "tests" / "hosts" / "build-image.sh")])
    return run(["bash", str(ROOT / "tests" / "hosts" / "build-image.sh"), "--print-tag"])


def base_image(host: str, containerfile: str, name: str, files: dict[str, Path]) -> str:
    """Build ``localhost/<name>:<hash>`` from a Containerfile of tests/hosts/images, once."""
    recipe = IMAGES / containerfile
    digest = source_hash([recipe, *[p for p in files.values() if p.parent == IMAGES]], host)
    tag = f"localhost/{name}:{digest}"
    if image_exists(tag):
        return tag
    with tempfile.TemporaryDirectory() as context:
        shutil.copy(recipe, Path(context) / "Containerfile")
        for target, source in files.items():
            shutil.copy(source, Path(context) / target)
        run(["podman", "build", "-q", "--build-arg", f"HOST_IMAGE={host}", "-t", tag, context])
    return tag


def push(local: str, registry: str, repository: str, tag: str) -> str:
    target = f"{registry}/{repository}:{tag}"
    run(["podman", "tag", local, target])
    run(["podman", "push", "-q", "--tls-verify=false", target])
    run(["podman", "rmi", target])  # machines pull the real name, through the mirror
    return f"{FLY_REGISTRY}/{repository}:{tag}"


def app_image(host: str, registry: str, app: str, source: Path) -> str:
    python_base = base_image(
        host,
        "python-base.Containerfile",
        "sigma-python-base",
        {"ca-certificates.crt": trust_bundle()},
    )
    tag = source_hash([source / "Dockerfile", source / "api"], python_base)
    if registry_has(registry, app, tag):
        return f"{FLY_REGISTRY}/{app}:{tag}"
    local = f"localhost/{app}-api:{tag}"
    run(
        [
            "podman", "build", "-q", "--target", "api",
            "--build-arg", f"PYTHON_IMAGE={python_base}",
            "-t", local, str(source),
        ]
    )  # fmt: skip
    pushed = push(local, registry, app, tag)
    run(["podman", "rmi", local])
    return pushed


def postgres_image(host: str, registry: str) -> str:
    local = base_image(
        host,
        "postgres.Containerfile",
        "sigma-postgres",
        {"postgres-entrypoint.sh": IMAGES / "postgres-entrypoint.sh"},
    )
    tag = local.rsplit(":", 1)[1]
    if registry_has(registry, "sigma-postgres", tag):
        return f"{FLY_REGISTRY}/sigma-postgres:{tag}"
    return push(local, registry, "sigma-postgres", tag)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--registry", required=True, help="the local registry, host:port")
    parser.add_argument("--app", default="notes", help="the image repository (the Fly app)")
    parser.add_argument("--source", type=Path, default=ROOT / "examples" / "app")
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL image")
    args = parser.parse_args(argv)
    host = host_image()
    result = {"image": app_image(host, args.registry, args.app, args.source.resolve())}
    if not args.no_postgres:
        result["postgres_image"] = postgres_image(host, args.registry)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
