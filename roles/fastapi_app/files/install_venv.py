# Run by the fastapi_app role on the host (python3 -c):
#   install_venv.py VENV PIP_CACHE PIP_INSTALL_ARGUMENT...
#
# Creates the virtualenv VENV without a pip of its own: ensurepip would unpack and compile
# pip into every release, seconds of CPU per deploy. The host's pip wheel (Debian's
# python3-pip-whl, which python3-venv depends on) is unpacked and byte-compiled once under
# PIP_CACHE/<wheel name>, and runs from there (PYTHONPATH) with the venv's python, so that
# it installs into the venv. The installed files are then byte-compiled by one process per
# CPU but one (at least one) rather than one file after the other by pip.
#
# The host serves the current release meanwhile: all of this runs at nice 10 and leaves a CPU
# free, so that requests are not kept waiting behind the build of the next release.
import compileall
import glob
import os
import shutil
import subprocess
import sys
import venv
import zipfile

WHEELS = "/usr/share/python-wheels/pip-*.whl"
NICE = 10


def unpacked_pip(cache: str) -> str:
    wheels = sorted(glob.glob(WHEELS))
    if not wheels:
        sys.exit(f"no pip wheel matches {WHEELS} (Debian package python3-pip-whl)")
    target = os.path.join(cache, os.path.basename(wheels[-1])[: -len(".whl")])
    if os.path.isdir(target):
        return target
    os.makedirs(cache, mode=0o755, exist_ok=True)
    partial = target + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    with zipfile.ZipFile(wheels[-1]) as wheel:
        wheel.extractall(partial)
    if not compileall.compile_dir(partial, quiet=2):
        sys.exit(f"could not byte-compile the pip unpacked in {partial}")
    os.rename(partial, target)
    for other in os.listdir(cache):  # the pip of an older python3-pip-whl
        if os.path.join(cache, other) != target:
            shutil.rmtree(os.path.join(cache, other), ignore_errors=True)
    return target


def main() -> None:
    env, cache, *install = sys.argv[1:]
    os.nice(NICE)
    pip = unpacked_pip(cache)
    python = os.path.join(env, "bin", "python")
    if not os.path.exists(python):
        venv.EnvBuilder(with_pip=False, symlinks=True).create(env)
    sys.stdout.flush()
    done = subprocess.run(
        [python, "-m", "pip", "install", "--no-compile", *install],
        env={**os.environ, "PYTHONPATH": pip},
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"pip install failed (rc {done.returncode})")
    # As pip does, a file that does not compile (one for another Python) is left as it is.
    workers = str(max(1, (os.cpu_count() or 1) - 1))
    compile_all = [python, "-m", "compileall", "-qq", "-j", workers, os.path.join(env, "lib")]
    subprocess.run(compile_all, check=False)


main()
