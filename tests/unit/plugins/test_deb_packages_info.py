"""deb_packages_info: the split of package specifications by dpkg's status (pure functions,
exact results), and main() run in-process with dpkg and dpkg-query stubbed."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sigma.deploy.plugins.filter import deb_packages_split as dps
from ansible_collections.sigma.deploy.plugins.module_utils.host import deb_packages as debs
from ansible_collections.sigma.deploy.plugins.modules import deb_packages_info as dpi

STATUS = {
    ("nginx", "amd64"): "ii ",
    ("openssl", "amd64"): "ii ",
    ("tzdata", "all"): "ii ",
    ("held", "amd64"): "hi ",
    ("half", "amd64"): "iH ",
    ("unpacked", "amd64"): "iU ",
    ("broken", "amd64"): "iiR",
    ("removing", "amd64"): "ri ",
    ("gone", "amd64"): "rc ",
    ("unknown", "amd64"): "un ",
    ("libfoo", "i386"): "ii ",
}


@pytest.mark.parametrize(
    ("spec", "parsed"),
    [
        ("nginx", ("nginx", None)),
        ("libc6:amd64", ("libc6", "amd64")),
        ("postgresql-15", ("postgresql-15", None)),
        ("g++", ("g++", None)),
        ("nginx=1.22.1-9", None),
        ("nginx>=1.22", None),
        ("nginx*", None),
        ("/tmp/foo.deb", None),
        ("https://example.org/foo.deb", None),
        ("Nginx", None),
        ("", None),
    ],
)
def test_plain_spec(spec, parsed):
    assert debs.plain_spec(spec) == parsed


def test_query_names_asks_once_for_each_bare_name():
    specs = ["nginx", "libc6:amd64", "libc6:i386", "nginx", "curl=8.0", "openssl"]
    assert debs.query_names(specs) == ["nginx", "libc6", "openssl"]


def test_parse_status():
    text = "nginx\tamd64\tii \ntzdata\tall\tii \nnot a status line\n"
    assert debs.parse_status(text) == {("nginx", "amd64"): "ii ", ("tzdata", "all"): "ii "}


@pytest.mark.parametrize(
    ("spec", "installed"),
    [
        ("nginx", True),
        ("tzdata", True),  # architecture all
        ("held", True),  # held at the installed version
        ("openssl:amd64", True),
        ("libfoo:i386", True),
        ("libfoo", False),  # installed for another architecture only
        ("half", False),
        ("unpacked", False),
        ("broken", False),  # reinstallation required
        ("removing", False),
        ("gone", False),  # removed, configuration files left
        ("unknown", False),
        ("missing", False),
        ("nginx=1.22.1-9", False),
        ("nginx*", False),
    ],
)
def test_is_installed_only_when_plainly_installed(spec, installed):
    assert debs.is_installed(spec, STATUS, "amd64") is installed


def test_split_specs_keeps_the_order_without_repeats():
    specs = ["nginx", "missing", "tzdata", "nginx=1.22.1-9", "nginx", "missing"]
    assert debs.split_specs(specs, STATUS, "amd64") == {
        "installed": ["nginx", "tzdata"],
        "pending": ["missing", "nginx=1.22.1-9"],
        "architecture": "amd64",
    }


def test_split_specs_without_dpkg_leaves_everything_to_apt():
    assert debs.split_specs(["nginx", "tzdata"], {}, None) == {
        "installed": [],
        "pending": ["nginx", "tzdata"],
        "architecture": None,
    }


# --- main() ---------------------------------------------------------------------------------------
@pytest.fixture
def commands(monkeypatch):
    """Stub dpkg and dpkg-query with answers by program; the commands main() ran."""
    ran: list[list[str]] = []

    def stub(answers, bins=("dpkg", "dpkg-query")):
        def run_command(unused_self, args, **unused_kw):
            ran.append(args)
            return answers[args[0]]

        monkeypatch.setattr(AnsibleModule, "run_command", run_command)
        monkeypatch.setattr(
            AnsibleModule,
            "get_bin_path",
            lambda unused_self, name, **kw: f"/usr/bin/{name}" if name in bins else None,
        )
        return ran

    return stub


DPKG = {"/usr/bin/dpkg": (0, "amd64\n", "")}


def test_main_asks_dpkg_query_once_and_splits(run, commands):
    answers = {
        **DPKG,
        "/usr/bin/dpkg-query": (
            1,
            "nginx\tamd64\tii \nprocps\tamd64\tun \n",
            "dpkg-query: no packages found matching certbot\n",
        ),
    }
    ran = commands(answers)
    result = run(dpi, check=True, name=["nginx", "procps", "certbot"])
    assert result == {
        "changed": False,
        "failed": False,
        "warnings": [],
        "deb_packages": {
            "installed": ["nginx"],
            "pending": ["procps", "certbot"],
            "architecture": "amd64",
        },
    }
    assert ran == [
        [
            "/usr/bin/dpkg-query",
            "--show",
            "--showformat=${Package}\t${Architecture}\t${db:Status-Abbrev}\n",
            "--",
            "nginx",
            "procps",
            "certbot",
        ],
        ["/usr/bin/dpkg", "--print-architecture"],
    ]


def test_main_without_dpkg_leaves_everything_to_apt(run, commands):
    ran = commands({}, bins=())
    result = run(dpi, name=["nginx"])
    assert result["deb_packages"] == {"installed": [], "pending": ["nginx"], "architecture": None}
    assert ran == []


def test_main_fails_on_a_dpkg_query_error(run, commands):
    answers = {**DPKG, "/usr/bin/dpkg-query": (2, "", "dpkg-query: error: cannot access\n")}
    commands(answers)
    result = run(dpi, name=["nginx"])
    assert result["failed"] is True
    assert result["msg"] == "dpkg-query failed (rc 2): dpkg-query: error: cannot access"


def test_main_lists_every_installed_package_when_asked(run, commands):
    listing = "nginx\tamd64\tii \ntzdata\tall\tii \ngone\tamd64\trc \nlibfoo\ti386\tii \n"
    ran = commands({**DPKG, "/usr/bin/dpkg-query": (0, listing, "")})
    result = run(dpi, name=["nginx", "gone"], list_installed=True)
    assert result["deb_packages"] == {
        "installed": ["nginx"],
        "pending": ["gone"],
        "architecture": "amd64",
        "all_installed": ["libfoo:i386", "nginx:amd64", "tzdata:all"],
    }
    # One question for every package, no names.
    assert ran[0] == [
        "/usr/bin/dpkg-query",
        "--show",
        "--showformat=${Package}\t${Architecture}\t${db:Status-Abbrev}\n",
    ]


def test_main_lists_nothing_without_dpkg_query(run, commands):
    commands({}, bins=())
    result = run(dpi, name=[], list_installed=True)
    assert result["deb_packages"] == {
        "installed": [],
        "pending": [],
        "architecture": None,
        "all_installed": None,
    }


# --- the deb_packages_split filter ------------------------------------------------------------
LISTED = {
    "installed": [],
    "pending": [],
    "architecture": "amd64",
    "all_installed": debs.installed_packages(STATUS),
}


@pytest.mark.parametrize(
    "specs",
    [
        ["nginx", "openssl", "tzdata"],
        ["nginx", "procps", "held", "half", "broken", "removing", "gone", "unknown"],
        ["libfoo", "libfoo:i386", "tzdata:amd64", "tzdata:all", "nginx=1.2", "nginx*", "nginx"],
        [],
    ],
)
def test_the_filter_answers_as_the_module_would(specs):
    assert dps.deb_packages_split(specs, LISTED) == debs.split_specs(specs, STATUS, "amd64")


@pytest.mark.parametrize(
    ("listed", "message"),
    [
        ({"installed": [], "pending": [], "architecture": "amd64"}, "list_installed=true"),
        ({**LISTED, "all_installed": None}, "list_installed=true"),
        ("nginx", "a deb_packages result"),
    ],
)
def test_the_filter_refuses_a_result_without_the_list(listed, message):
    with pytest.raises(AnsibleFilterError, match=message):
        dps.deb_packages_split(["nginx"], listed)


def test_the_filter_refuses_specs_that_are_not_a_list():
    with pytest.raises(AnsibleFilterError, match="a list of package specifications"):
        dps.deb_packages_split("nginx", LISTED)
