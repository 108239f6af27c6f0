"""The deployment scripts parse (bash -n) and pass shellcheck (installed from PyPI by requirements-dev)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
SCRIPTS = sorted(DEPLOY.glob("*.sh"))
SHELLCHECK = Path(sys.executable).parent / "shellcheck"


def test_there_are_deploy_scripts_for_every_step():
    assert {p.name for p in SCRIPTS} >= {"project.sh", "secrets.sh", "functions.sh", "scheduler.sh", "deploy.sh"}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_parses(script):
    result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_scripts_pass_shellcheck():
    result = subprocess.run([str(SHELLCHECK), "-x", *map(str, SCRIPTS)], cwd=DEPLOY, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
