"""The offline workbook alone at n Time rows: reading every tab with python-calamine (what runs use) and
with openpyxl's read-only mode (the alternative), and writing a run's changes by splicing them in (one
Runs row, like preview; one column of every Time row, like create-invoices' invoice numbers).

    .venv/bin/python -m benchmarks.workbook_scale              # 20,000 rows
    .venv/bin/python -m benchmarks.workbook_scale 100000

Prints one JSON line (CPU seconds of this process, so a loaded machine does not inflate them, and wall
seconds) and `main(argv)` returns it as a dict.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.pipeline_scale import synthetic_entries


def _timed(fn) -> tuple[object, float, float]:
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, round(time.process_time() - c, 2), round(time.perf_counter() - t, 2)


def run(n: int) -> dict:
    from openpyxl import load_workbook

    from functions.ports import CellBlock
    from functions.sheet.contract import HeaderMap, load_contract
    from functions.sheet.tables import row_values, source_cells
    from functions.sheet.workbook import LocalWorkbook
    from functions.sheet.xlsx_read import read_tabs

    tab = load_contract().tab("Time")
    hm = HeaderMap(tab, tab.headers)
    rows = [row_values(hm, source_cells(e)) for e in synthetic_entries(n)]
    figures: dict[str, object] = {"rows": n}
    with tempfile.TemporaryDirectory() as tmp:
        wb = LocalWorkbook(Path(tmp) / "invoicing.xlsx")
        wb.ensure_layout()
        _, figures["create_workbook_cpu"], figures["create_workbook_s"] = _timed(
            lambda: wb.write([CellBlock("Time", 2, 1, rows)])
        )
        figures["file_mb"] = round(wb.path.stat().st_size / 1e6, 1)
        tabs, figures["read_calamine_cpu"], figures["read_calamine_s"] = _timed(lambda: read_tabs(wb.path))

        def openpyxl_read() -> int:
            book = load_workbook(wb.path, read_only=True, data_only=True)
            try:
                return sum(1 for ws in book.worksheets for _ in ws.iter_rows(values_only=True))
            finally:
                book.close()

        _, figures["read_openpyxl_readonly_cpu"], figures["read_openpyxl_readonly_s"] = _timed(openpyxl_read)
        assert len(tabs["Time"]) == n + 1  # type: ignore[index]
        runs = len(tabs["Runs"]) + 1  # type: ignore[index]
        _, figures["write_one_row_cpu"], figures["write_one_row_s"] = _timed(
            lambda: wb.write([CellBlock("Runs", runs, 1, [["bench", "preview"]])])
        )
        col = hm.index["invoice"] + 1
        _, figures["write_a_column_cpu"], figures["write_a_column_s"] = _timed(
            lambda: wb.write([CellBlock("Time", 2, col, [[f"INV-{i % 50:04d}"] for i in range(n)])])
        )
    return figures


def main(argv: list[str] | None = None) -> dict:
    argv = list(sys.argv[1:] if argv is None else argv)
    figures = run(int(argv[0]) if argv else 20000)
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
