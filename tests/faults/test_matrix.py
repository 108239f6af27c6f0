"""The matrix is complete: every (job, step, fault, target) of the table is a test case of its target's
module, every target has its module, and MATRIX.md (written by `python -m tests.faults.matrix`) lists the
table as it is now."""

from __future__ import annotations

from pathlib import Path

from tests.faults import (
    matrix,
    test_google_sheets,
    test_harvest,
    test_local_kill,
    test_quickbooks,
    test_stripe,
    test_xero,
)

MODULES = {
    "ledger": test_local_kill.LEDGER,
    "quickbooks": test_quickbooks.QBO,
    "google-sheets": test_google_sheets.GS,
    "harvest": test_harvest.HARVEST,
    "xero": test_xero.XERO,
    "stripe": test_stripe.STRIPE,
}


def test_every_case_of_the_table_is_a_test():
    assert set(MODULES) == set(matrix.TARGETS)
    tried = [c for cases in MODULES.values() for c in cases]
    assert sorted(c.id for c in tried) == sorted(c.id for c in matrix.cases())
    assert len(set(c.id for c in tried)) == len(tried)  # none twice


def test_every_step_of_both_jobs_meets_every_fault_its_target_can_have():
    for target in set(matrix.TARGETS) - {"harvest"}:  # a time source is called by refresh only
        assert "create-invoices" in {c.job for c in matrix.cases(target)}
    assert {c.fault for c in matrix.cases("quickbooks")} == {*matrix.HTTP_FAULTS, matrix.KILL}
    for target in ("xero", "stripe"):
        assert {c.fault for c in matrix.cases(target)} == set(matrix.HTTP_FAULTS)
    assert {c.job for c in matrix.cases("google-sheets")} == {"refresh", "create-invoices"}
    assert {c.job for c in matrix.cases("ledger")} == {"refresh", "create-invoices"}
    for step in ("ledger commit", "document render", "workbook save"):
        assert any(step in c.step for c in matrix.cases("ledger", fault=matrix.KILL))


def test_matrix_md_lists_the_table_as_it_is():
    text = (Path(__file__).with_name("MATRIX.md")).read_text("utf-8")
    for c in matrix.cases():
        assert f"| {c.target} | {c.job} | {c.step} | {c.fault} |" in text, c.id
    assert f"{len(matrix.cases())} cases in the table" in text
