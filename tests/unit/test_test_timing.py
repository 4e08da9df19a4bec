"""tools/test_timing.py: the critical path and the slowest tests of a make test run."""

from tools.test_timing import Step, critical_path, read_timeline, report, slowest_tests

TIMELINE = """\
image 0 90
release 90 170
molecule 170 2000
integration-stack 170 2300
lint 170 300
unit 300 400
"""


def test_the_critical_path_follows_the_check_that_ended_last_back_to_the_start():
    steps = read_timeline(TIMELINE)
    assert [s.name for s in critical_path(steps)] == ["image", "release", "integration-stack"]


def test_a_lone_check_is_its_own_critical_path_and_none_is_empty():
    assert critical_path([Step("unit", 0, 10)]) == [Step("unit", 0, 10)]
    assert critical_path([]) == []


def test_slowest_tests_come_from_pytest_durations_and_molecule_scenarios():
    logs = {
        "integration-stack": (
            "============ slowest 10 durations ============\n"
            "756.12s call     tests/integration/test_site.py::test_first_run\n"
            "  3.50s setup    tests/integration/test_site.py::test_second_run_changes_nothing\n"
            "12 passed in 900.00s\n"
        ),
        "molecule": "molecule scenario app_stack: passed in 512 s\nnoise 1.0s call x\n",
    }
    assert slowest_tests(logs, count=2) == [
        (
            756.12,
            "integration-stack",
            "tests/integration/test_site.py::test_first_run (call)",
        ),
        (512.0, "molecule", "scenario app_stack (passed)"),
    ]


def test_report_names_the_critical_path_and_the_run(tmp_path):
    (tmp_path / "timeline").write_text(TIMELINE)
    (tmp_path / "molecule.log").write_text("molecule scenario postgresql: FAILED in 300 s\n")
    text = report(tmp_path, 2310)
    assert (
        "critical path: image 90 s -> release 80 s -> integration-stack 2130 s; the run took 2310 s"
    ) in text
    assert "  300.0 s  molecule           scenario postgresql (FAILED)" in text
