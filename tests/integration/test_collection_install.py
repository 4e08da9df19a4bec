"""The collection builds into a tarball that installs and resolves by fully qualified names."""

import json
import os
import subprocess
import tarfile

import pytest

from tests.integration.support import ROOT


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """Build the tarball and install it into a fresh collections path, the only one used."""
    tmp = tmp_path_factory.mktemp("galaxy")
    path = tmp / "collections"
    cfg = tmp / "ansible.cfg"  # not this checkout's ansible.cfg
    cfg.write_text("[defaults]\n")
    env = {"ANSIBLE_COLLECTIONS_PATH": str(path), "ANSIBLE_CONFIG": str(cfg)}
    dist = tmp / "dist"
    build = run(["ansible-galaxy", "collection", "build", "--output-path", str(dist), str(ROOT)],
                tmp, env)  # fmt: skip
    assert build.returncode == 0, build.stderr
    (tarball,) = dist.glob("sigma-deploy-*.tar.gz")
    install = run(["ansible-galaxy", "collection", "install", "-p", str(path), str(tarball)],
                  tmp, env)  # fmt: skip
    assert install.returncode == 0, install.stderr
    assert (path / "ansible_collections" / "sigma" / "deploy" / "MANIFEST.json").is_file()
    return tarball, tmp, env


def run(cmd, tmp, env):
    return subprocess.run(
        cmd, capture_output=True, text=True, check=False, cwd=tmp, env={**os.environ, **env}
    )


def test_tarball_holds_the_collection_and_not_the_tooling(installed):
    tarball = installed[0]
    with tarfile.open(tarball) as tar:
        names = set(tar.getnames())
    for wanted in ("MANIFEST.json", "FILES.json", "README.md", "LICENSE", "meta/runtime.yml",
                   "roles/server_base/tasks/main.yml", "playbooks/site.yml"):  # fmt: skip
        assert wanted in names
    for unwanted in ("tests", "tools", ".ci", "Makefile", "ansible.cfg", "extensions",
                     "requirements.txt", ".venv", ".build"):  # fmt: skip
        assert not any(n == unwanted or n.startswith(unwanted + "/") for n in names), unwanted


def test_role_documentation_resolves_by_fqcn(installed):
    tmp, env = installed[1:]
    proc = run(["ansible-doc", "-t", "role", "-j", "sigma.deploy.server_base"], tmp, env)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)["sigma.deploy.server_base"]
    options = doc["entry_points"]["main"]["options"]
    assert options["server_base_admin_user"]["type"] == "str"
    assert options["server_base_firewall_allowed_tcp_ports"]["type"] == "list"


@pytest.mark.parametrize(
    ("kind", "name"),
    [("module", "sigma.deploy.hetzner_server"), ("module", "sigma.deploy.digitalocean_droplet"),
     ("inventory", "sigma.deploy.hetzner"), ("inventory", "sigma.deploy.digitalocean")],
)  # fmt: skip
def test_plugins_resolve_and_document_themselves(installed, kind, name):
    tmp, env = installed[1:]
    proc = run(["ansible-doc", "-t", kind, "-j", name], tmp, env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[name]["doc"]["short_description"]


def test_collection_playbook_and_role_resolve(installed):
    tmp, env = installed[1:]
    for playbook in ("site", "provision", "destroy"):
        proc = run(
            ["ansible-playbook", "-i", "localhost,", "--syntax-check", f"sigma.deploy.{playbook}"],
            tmp, env,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
    user_playbook = tmp / "mine.yml"
    user_playbook.write_text(
        "- name: Use the role by its full name\n  hosts: all\n  roles:\n"
        "    - role: sigma.deploy.server_base\n"
    )
    proc = run(["ansible-playbook", "-i", "localhost,", "--syntax-check", str(user_playbook)],
               tmp, env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
