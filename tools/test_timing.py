"""Where the time of a `make test` run went: the slowest tests and the critical path.

    python tools/test_timing.py LOG_DIR RUN_SECONDS

LOG_DIR is the run's .build/logs: `timeline` (one line a check: name, start and end in seconds
from the run's start, written by tools/test-all.sh) and one log a check, in which pytest's
`--durations` lines and the molecule target's `molecule scenario NAME: ...` lines name the
slow tests.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

# pytest --durations: "756.12s call     tests/integration/test_site.py::test_first_run"
PYTEST_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s (call|setup|teardown)\s+(\S+)")
# the Makefile's molecule target: "molecule scenario app_stack: passed in 512 s"
MOLECULE_SCENARIO = re.compile(r"^molecule scenario (\S+): (\w+) in (\d+) s$")


@dataclass(frozen=True)
class Step:
    name: str
    start: int
    end: int

    @property
    def seconds(self) -> int:
        return self.end - self.start


def read_timeline(text: str) -> list[Step]:
    steps = []
    for line in text.splitlines():
        name, start, end = line.split()
        steps.append(Step(name, int(start), int(end)))
    return sorted(steps, key=lambda s: (s.start, s.name))


def critical_path(steps: list[Step], slack: int = 2) -> list[Step]:
    """The chain that decided the run's length: the check that ended last, the check that
    ended (within ``slack`` seconds) when it started, and so on back to the start."""
    if not steps:
        return []
    path = [max(steps, key=lambda s: (s.end, s.seconds))]
    while True:
        before = [s for s in steps if s.end <= path[0].start + slack and s not in path]
        if not before:
            return path
        path.insert(0, max(before, key=lambda s: (s.end, s.seconds)))


def slowest_tests(logs: dict[str, str], count: int = 15) -> list[tuple[float, str, str]]:
    """(seconds, check, test) of the slowest tests and scenarios over every check's log."""
    found: list[tuple[float, str, str]] = []
    for check, text in logs.items():
        for line in text.splitlines():
            if match := PYTEST_DURATION.match(line):
                seconds, phase, test = match.groups()
                found.append((float(seconds), check, f"{test} ({phase})"))
            elif match := MOLECULE_SCENARIO.match(line):
                name, result, seconds = match.groups()
                found.append((float(seconds), check, f"scenario {name} ({result})"))
    return sorted(found, key=lambda item: -item[0])[:count]


def report(log_dir: Path, run_seconds: int) -> str:
    timeline = log_dir / "timeline"
    steps = read_timeline(timeline.read_text()) if timeline.exists() else []
    logs = {p.stem: p.read_text(errors="replace") for p in sorted(log_dir.glob("*.log"))}
    lines = ["checks (seconds from the start of the run):"]
    lines += [f"  {s.name:<18} {s.start:>5} -> {s.end:>5}  {s.seconds:>5} s" for s in steps]
    path = critical_path(steps)
    if path:
        chain = " -> ".join(f"{s.name} {s.seconds} s" for s in path)
        lines.append(f"critical path: {chain}; the run took {run_seconds} s")
    slow = slowest_tests(logs)
    if slow:
        lines.append("slowest tests:")
        lines += [f"  {seconds:>7.1f} s  {check:<18} {test}" for seconds, check, test in slow]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    print(report(Path(argv[1]), int(argv[2])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
