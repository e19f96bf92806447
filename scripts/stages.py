#!/usr/bin/env python3
"""Run the stages of ``make test`` one after another, time each, print a table at the end.

    scripts/stages.py "LABEL=COMMAND" ...

Each argument is a stage: a label and a shell command, whose output goes straight to
ours (pytest's closing line included). A failing stage stops the run, as make does; the
stages after it are listed as not run. The exit status is 0 only when every stage passed.
Standard library only: it runs before the virtualenv exists (the install stage makes it).
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass


@dataclass
class Stage:
    label: str
    command: str
    status: str = "not run"
    seconds: float | None = None


def parse(arguments: list[str]) -> list[Stage]:
    stages = []
    for argument in arguments:
        label, sep, command = argument.partition("=")
        if not sep or not label.strip() or not command.strip():
            raise SystemExit(f"stages.py: expected LABEL=COMMAND, got {argument!r}")
        stages.append(Stage(label.strip(), command.strip()))
    return stages


def banner(text: str) -> None:
    print(f"\n===== {text} " + "=" * max(0, 70 - len(text)), flush=True)


def run(stage: Stage) -> None:
    banner(stage.label)
    started = time.monotonic()
    try:
        # The commands are the Makefile's own (make test), run by the shell as make does.
        returncode = subprocess.call(stage.command, shell=True)  # noqa: S602
    finally:
        stage.seconds = time.monotonic() - started
    stage.status = "passed" if returncode == 0 else "FAILED"


def minutes(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{int(seconds // 60)}:{seconds % 60:04.1f}"


def table(stages: list[Stage], total: float) -> str:
    width = max(len(stage.label) for stage in [*stages, Stage("total", "")])
    header = f"{'stage':<{width}}  {'result':<8} {'wall (m:s)':>10}"
    lines = [header, "-" * len(header)]
    lines += [f"{s.label:<{width}}  {s.status:<8} {minutes(s.seconds):>10}" for s in stages]
    result = "passed" if all(stage.status == "passed" for stage in stages) else "FAILED"
    lines += ["-" * len(header), f"{'total':<{width}}  {result:<8} {minutes(total):>10}"]
    return "\n".join(lines)


def main(arguments: list[str]) -> int:
    stages = parse(arguments)
    started = time.monotonic()
    try:
        for stage in stages:
            run(stage)
            if stage.status != "passed":
                break
    except KeyboardInterrupt:
        print("\ninterrupted", flush=True)
    banner("time per stage")
    print(table(stages, time.monotonic() - started), flush=True)
    return 0 if all(stage.status == "passed" for stage in stages) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
