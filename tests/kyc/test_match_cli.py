"""``python -m kyc.match A B``: one JSON line, exit 0 on a decision, 2 on unreadable input."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.kyc.conftest import FACES

ROOT = Path(__file__).resolve().parents[2]


def run(*args, env=None):
    environment = {**os.environ, "PYTHONWARNINGS": "error", **(env or {})}
    command = [sys.executable, "-m", "kyc.match", *map(str, args)]
    return subprocess.run(command, cwd=ROOT,  # noqa: S603 (our interpreter, our module)
                          capture_output=True, text=True, timeout=120, env=environment,
                          check=False)


def test_same_person_and_impostor_in_one_process_each():
    result = run(FACES / "obama.jpg", FACES / "obama2.jpg")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    body = json.loads(lines[0])
    assert list(body) == ["faces_a", "faces_b", "distance", "same_person", "threshold", "ms"]
    assert body["faces_a"] == body["faces_b"] == 1
    assert body["same_person"] is True and body["distance"] < body["threshold"] == 0.5
    assert body["ms"] > 0


def test_the_threshold_comes_from_the_environment_or_the_option():
    strict = run(FACES / "obama.jpg", FACES / "obama2.jpg", "--threshold", "0.2")
    assert json.loads(strict.stdout)["same_person"] is False
    env = run(FACES / "obama.jpg", FACES / "biden.jpg", env={"KYC_MATCH_THRESHOLD": "0.95"})
    body = json.loads(env.stdout)
    assert body["threshold"] == 0.95 and body["same_person"] is True


def test_two_faces_is_a_decision_without_a_distance():
    result = run(FACES / "two_people.jpg", FACES / "obama.jpg")
    assert result.returncode == 0
    body = json.loads(result.stdout)
    assert (body["faces_a"], body["faces_b"]) == (2, 1)
    assert body["distance"] is None and body["same_person"] is None


@pytest.mark.parametrize("bad", ["README.md", "missing.jpg"])
def test_unreadable_input_exits_2_with_a_message(bad):
    result = run(FACES / "obama.jpg", FACES / bad)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "图片 B" in result.stderr and bad in result.stderr
