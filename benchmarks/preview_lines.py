"""Every invoice line preview computes, one tab-separated line each, to prove a speed-up changed no figure and no
word: dump before the change, dump after, diff (0 lines is the only good answer).

    .venv/bin/python -m benchmarks.preview_lines demo /tmp/lines.before     # the sample agency's months
    .venv/bin/python -m benchmarks.preview_lines 100000 /tmp/lines.before   # the synthetic month of the core
    diff /tmp/lines.before /tmp/lines.after | wc -l

Each line: client, currency, invoice total, the engine's description, the client's description and who wrote
it, quantity, rate, amount, tracked hours, kind, line item, service date, entry refs and audit notes; then,
for the synthetic month, every cell of the Preview tab as written.
"""

from __future__ import annotations

import sys
import tempfile
from decimal import Decimal
from pathlib import Path

from functions import pipeline


def _capture(out: list[list[str]]) -> None:
    """Record the described result of every preview and create run (`pipeline._describe`'s answer)."""
    describe = pipeline._describe

    def recording(services, sheet, result, rows):  # type: ignore[no-untyped-def]
        result, report = describe(services, sheet, result, rows)
        for d in [*result.drafts, *result.held_drafts.values()]:
            for line in d.lines:
                out.append(
                    [
                        d.client,
                        d.currency,
                        str(d.total),
                        line.description,
                        line.client_description,
                        line.description_by,
                        str(line.quantity),
                        str(line.unit_price),
                        str(line.amount),
                        str(line.raw_hours),
                        line.kind,
                        line.line_item,
                        str(line.service_date),
                        ",".join(line.entry_refs),
                        "|".join(line.detail),
                    ]
                )
        out.append(["held", *sorted(result.held)])
        return result, report

    pipeline._describe = recording  # type: ignore[assignment]


def dump(which: str) -> list[list[str]]:
    from functions.config import Settings, bootstrap
    from functions.demo import review_as_person, run_demo
    from functions.models import Period
    from functions.ports import CellBlock
    from functions.sheet.session import SheetSession

    from .pipeline_scale import ROOT, MemoryStore, Source, synthetic_entries

    out: list[list[str]] = []
    _capture(out)
    with tempfile.TemporaryDirectory() as tmp:
        if which == "demo":
            run_demo(Settings(workdir=Path(tmp)))
            return out
        period = Period.parse("2026-10")
        store = MemoryStore()
        services = bootstrap(Settings(workdir=Path(tmp)), source=Source(synthetic_entries(int(which))), sheet=store)
        seeding = SheetSession(store, ["Categories"])
        seeding.seed_config(["Categories"], ROOT / "functions" / "sample" / "config")
        seeding.commit()
        pipeline.refresh(services, period)
        clients = store.tabs["Clients"]
        rate_col = clients[0].index("Default Rate") + 1
        store.write([CellBlock("Clients", 2, rate_col, [[Decimal("120")] for _ in clients[1:]])])
        review_as_person(services, period)
        pipeline.preview(services, period)
        out += [["Preview", *map(str, r)] for r in store.tabs["Preview"]]
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or not (args[0] == "demo" or args[0].isdigit()):
        print(__doc__)
        return 2
    lines = dump(args[0])
    Path(args[1]).write_text("".join("\t".join(r) + "\n" for r in lines), encoding="utf-8")
    print(f"{len(lines)} lines written to {args[1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
