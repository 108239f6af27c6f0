"""The local ledger and workbook: the CLI killed (SIGKILL, a real subprocess) at each local write of refresh
and create-invoices, then the same command run again: nothing twice, nothing lost, every edit kept."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from functions.cli import main as cli
from tests.faults import matrix
from tests.faults.world import CLIENTS, TimeTab, count, edit_workbook, ledger_invoices, write_export

ROOT = Path(__file__).resolve().parents[2]
PERIOD = ["--period", "2026-10"]
STEPS = {  # matrix step -> the child's kill point (tests/faults/child.py)
    "workbook save (mid-write)": "open:.xlsx",
    "workbook save (before the rename)": "rename:invoicing.xlsx",
    "ledger commit (before)": "sql:COMMIT",
    "ledger commit (after, before documents)": "after:COMMIT",
    "document render": "open:invoices/",
}

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")


def child_env(tmp: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("QBO_", "GOOGLE_", "SHEET", "ACCOUNTING"))}
    return {**keep, "AI_ENABLED": "false", "PYTHONPATH": str(ROOT), "HOME": str(tmp)}


def killed_at(step: str, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tests.faults.child", step, "1", "--", *argv],
        cwd=cwd,
        env=env,
        timeout=60,
        capture_output=True,
        text=True,
    )
    assert done.returncode == -signal.SIGKILL, f"the run was not killed at {step}: {done.stdout}{done.stderr}"


def reviewed_month(base: Path) -> tuple[Path, str, set[str]]:
    """October refreshed into a new workbook from the export, then the person's review; built once per module
    (under `base`) and copied for each test."""
    work = base / "w"
    categories = ROOT / "functions" / "sample" / "config" / "Categories.csv"
    with pytest.MonkeyPatch.context() as mp:
        for k, v in child_env(base).items():
            mp.setenv(k, v)
        mp.chdir(base)  # no stray .env
        assert cli(["setup-sheet", "--categories", str(categories), "--workdir", str(work)]) == 0
        export = write_export(base / "toggl.csv")
        assert cli(["refresh", "--csv", str(export), *PERIOD, "--workdir", str(work)]) == 0
    edited = edit_workbook(work / "invoicing.xlsx")
    ticked = set(TimeTab.from_workbook(work / "invoicing.xlsx").ids())
    assert len(ticked) == 6
    return work, edited, ticked


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return reviewed_month(tmp_path_factory.mktemp("month"))


def copy_month(template, tmp_path: Path, monkeypatch) -> tuple[Path, Path, str, set[str]]:
    work, edited, ticked = template
    for k, v in child_env(tmp_path).items():
        monkeypatch.setenv(k, v)
    for k in [k for k in os.environ if k.startswith(("QBO_", "GOOGLE_", "SHEET", "ACCOUNTING"))]:
        monkeypatch.delenv(k)
    monkeypatch.chdir(tmp_path)  # no stray .env
    shutil.copytree(work, tmp_path / "w")
    export = write_export(tmp_path / "toggl.csv")
    return tmp_path / "w", export, edited, set(ticked)


@pytest.fixture
def month(template, tmp_path, monkeypatch):
    """The reviewed October, this test's own copy: (workdir, export, edited id, approved ids)."""
    return copy_month(template, tmp_path, monkeypatch)


LEDGER = matrix.cases("ledger")


@pytest.mark.parametrize("case", LEDGER, ids=matrix.ids(LEDGER))
def test_a_kill_at_each_local_write_then_a_rerun_loses_nothing(case, month, tmp_path, recorded, capsys):
    work, export, edited, ticked = month
    expected = set(ticked)
    if case.job == "refresh":
        write_export(export, extra=1)  # a late entry arrives; the nightly refresh is killed
        expected |= {"new"}
        argv = ["refresh", "--csv", str(export), *PERIOD, "--workdir", str(work)]
    else:
        argv = ["create-invoices", *PERIOD, "--workdir", str(work)]
    before = (work / "invoicing.xlsx").read_bytes()
    killed_at(STEPS[case.step], argv, tmp_path, dict(os.environ))
    # the kill happened where it was meant to: what the dead run left behind
    assert (work / "invoicing.xlsx").read_bytes() == before  # a killed save leaves the workbook whole
    committed = ledger_invoices(work / "ledger.sqlite")
    if case.job == "create-invoices":
        assert len(committed) == (0 if case.step == "ledger commit (before)" else 2), committed
        docs = list((work / "invoices").glob("*.pdf")) if (work / "invoices").exists() else []
        assert (len(docs) < 2) == (case.step != "workbook save (mid-write)" and "rename" not in case.step)
    assert cli(argv) == 0  # the same command again
    if case.job == "refresh":
        assert cli(["create-invoices", *PERIOD, "--workdir", str(work)]) == 0
    capsys.readouterr()
    tab = TimeTab.from_workbook(work / "invoicing.xlsx")
    if "new" in expected:
        expected = (expected - {"new"}) | (set(tab.ids()) - ticked)
        assert len(expected) == 7
    invoices = ledger_invoices(work / "ledger.sqlite")
    counts = count(tab, invoices, expected, ticked, edited)
    recorded(case, counts)
    assert sorted(c for c, _ in invoices) == sorted(CLIENTS)
    assert counts.bad() == 0, counts
    documents = {p.name for p in (work / "invoices").iterdir()}
    for _, number in invoices:  # every invoice has its two documents, and no half-written file is left
        assert {f"{number}.html", f"{number}.pdf"} <= documents or any(number in d for d in documents), documents
    assert not [d for d in documents if d.endswith(".tmp")]
