"""The Agency tab and the Clients tab's billing details through the service layer: create-invoices puts them on
the documents; a wrong value is a Preview warning and stops create-invoices before anything is created."""

from __future__ import annotations

from pathlib import Path

import pytest

from functions import pipeline
from functions.errors import InputErrors
from functions.ports import CellBlock
from tests.accounting.pdf_checks import html_text, pdf_text
from tests.test_pipeline import OCT, approve_all, configure_clients, entries, setup


def fill_agency(sheet, *rows: tuple[str, str]) -> None:
    sheet.write([CellBlock("Agency", 2, 1, [[k, v, ""] for k, v in rows])])


def test_the_agency_and_the_client_reach_the_documents(tmp_path):
    services, sheet, ledger = setup(tmp_path, entries())
    pipeline.refresh(services, OCT)
    configure_clients(sheet, {"Acme": "100"})
    sheet.set("Clients", 2, "Billing Address", "Calle de Alcalá 42 | 28014 Madrid")
    sheet.set("Clients", 2, "Contact", "Begoña Núñez")
    fill_agency(sheet, ("Name", "Nordlicht Studio"), ("Footer", "Danke schön"), ("Tax Rates", "TAX 10%"))
    approve_all(sheet)
    created = pipeline.create_invoices(services, OCT)
    [inv] = created.invoices
    document = Path(inv.document)
    for text in (pdf_text(document.with_suffix(".pdf").read_bytes()), html_text(document.read_text("utf-8"))):
        assert "Nordlicht Studio" in text and "Danke schön" in text
        assert "Attn: Begoña Núñez" in text and "Calle de Alcalá 42 28014 Madrid" in text
        assert "Time detail" in text and "1 entry" in text and "1.50 h logged and billed" in text


def test_a_wrong_agency_value_warns_in_preview_and_stops_create_invoices(tmp_path):
    services, sheet, ledger = setup(tmp_path, entries())
    pipeline.refresh(services, OCT)
    configure_clients(sheet, {"Acme": "100"})
    fill_agency(sheet, ("Name", "Nordlicht Studio"), ("Email", "billing.nordlicht"))
    approve_all(sheet)
    preview = pipeline.preview(services, OCT)
    assert 'Agency!B3: "billing.nordlicht" is not an email address' in preview.warnings
    before = {k: [list(x) for x in v] for k, v in sheet.tabs.items()}
    with pytest.raises(InputErrors) as exc:
        pipeline.create_invoices(services, OCT)
    assert 'Agency!B3: "billing.nordlicht" is not an email address' in str(exc.value)
    assert sheet.tabs == before and ledger.all_invoices() == []
    assert not (tmp_path / "invoices").exists() or not any((tmp_path / "invoices").iterdir())
