"""The cost model: the Runs tab's figures, the deploy settings and functions/prices.json, priced per service."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from functions import cost
from functions.categorize.claude_cost import PRICES as CLAUDE_PRICES
from functions.cli import main
from functions.errors import InputError
from functions.ports import CellBlock
from functions.sheet.workbook import LocalWorkbook

ROOT = Path(__file__).resolve().parents[1]
HEADER = ["Run", "Command", "Period", "Started", "Seconds", "Status", "Summary", "Errors", "AI Usage"]
# The demo's Runs tab, as `python main.py demo` leaves it (one AI-usage cell added)
DEMO_RUNS = [
    HEADER,
    ["1", "refresh", "2026-09", "2026-12-02T02:22:42+00:00", 0.36, "ok", "1744 imported: 1744 new, 0 updated; "
     "suggestions model 1139, rule 605", None, None],
    ["2", "create-invoices", "2026-09", "2026-12-02T02:22:43+00:00", 0.18, "ok", "24 created, 0 already existed",
     None, None],
    ["3", "refresh", "2026-10", "2026-12-02T02:22:44+00:00", 0.93, "ok", "1743 imported: 1743 new; suggestions "
     "memory 734, model 386, rule 623", None, None],
    ["4", "preview", "2026-10", "2026-12-02T02:22:47+00:00", 0.21, "ok", "25 invoices ready", None, None],
    ["5", "create-invoices", "2026-10", "2026-12-02T02:22:48+00:00", 0.35, "ok", "25 created, 0 already existed",
     None, None],
]  # fmt: skip


def demo_estimate(**kw):
    fig = cost.figures_from_runs(DEMO_RUNS, 3)
    return cost.estimate(
        fig,
        dict(cost.DEPLOY_DEFAULTS),
        "defaults",
        ai_model="claude-haiku-5-5",
        ai_on=True,
        accounting="quickbooks",
        **kw,
    )


def test_runs_per_month_from_the_schedule():
    assert cost.runs_per_month("0 2 * * *") == 30.44
    assert cost.runs_per_month("30 1 1 * *") == pytest.approx(1.09, abs=0.01)  # the 1st: once in 28 days, scaled
    assert cost.runs_per_month("0 2 * * 1-5") == pytest.approx(21.74, abs=0.01)
    with pytest.raises(InputError, match="SCHEDULE"):
        cost.runs_per_month("nightly")


def test_memory_units():
    assert cost.memory_gib("512Mi") == 0.5 and cost.memory_gib("1Gi") == 1 and cost.memory_gib("256M") == 0.25
    with pytest.raises(InputError, match="FUNCTION_MEMORY"):
        cost.memory_gib("lots")


def test_figures_from_the_runs_tab():
    fig = cost.figures_from_runs(DEMO_RUNS, 3)
    assert fig.months == 1 and fig.runs_read == 5  # one day of runs is priced as one month
    assert fig.runs == {"create-invoices": 2, "preview": 1, "refresh": 2}
    assert fig.seconds["refresh"] == pytest.approx(0.645, abs=0.01)
    assert fig.entries_per_refresh == 1743.5 and fig.invoices == 49 and fig.offline_suggestions == 1525


def test_ai_usage_and_a_window_of_months():
    rows = [HEADER]
    for month in range(1, 7):  # one refresh a month, January to June, each with Claude usage
        rows.append(
            [str(month), "refresh", f"2026-{month:02}", f"2026-{month:02}-15T02:00:00", 10, "ok", "100 imported",
             None, "3 requests, 3000 input + 1500 output tokens (0 cached), ~0.001050 USD"]
        )  # fmt: skip
    fig = cost.figures_from_runs(rows, 3)
    assert fig.runs_read == 3 and fig.runs == {"refresh": 1.0}  # April, May, June: 3 months, older runs exist
    assert fig.ai_input_tokens == 3000 and fig.ai_output_tokens == 1500 and fig.ai_requests == 3
    est = cost.estimate(
        fig, dict(cost.DEPLOY_DEFAULTS), "d", ai_model="claude-haiku-5-5", ai_on=True, accounting="ledger"
    )
    claude = next(line for line in est.lines if line.service == "Claude")
    assert claude.list_usd == pytest.approx((3000 * 0.10 + 1500 * 0.50) / 1e6, abs=1e-4)


def test_the_demo_agency_month_priced_per_service():
    est = demo_estimate()
    by = {line.service: line for line in est.lines}
    assert set(by) == {"Cloud Functions", "Cloud Scheduler", "Secret Manager", "Cloud Logging", "Claude"}
    assert by["Cloud Scheduler"].list_usd == 0.10 and by["Cloud Scheduler"].billed_usd == 0  # 3 free jobs
    # 3 env secrets (tracker, QBO client secret, Anthropic key) + the token secret + disabled ones in grace
    assert "4.5 active versions" in by["Secret Manager"].usage
    assert by["Secret Manager"].list_usd == pytest.approx(0.27, abs=0.01)
    assert "33 runs" in by["Cloud Functions"].usage  # 30.44 nightly refreshes + 1 preview + 2 create
    assert est.list_total < 1 and est.billed_total < 0.1
    assert any("FUNCTION_MEMORY" in v and "no memory figure" in v for v in est.settings.values())
    assert {"function memory", "min instances", "nightly schedule", "AI model"} <= set(est.settings)


def test_min_instances_and_scale_move_the_estimate():
    base = demo_estimate()
    idle = cost.estimate(
        cost.figures_from_runs(DEMO_RUNS, 3),
        {**cost.DEPLOY_DEFAULTS, "MIN_INSTANCES": "1"},
        "d",
        ai_model="claude-haiku-5-5",
        ai_on=True,
        accounting="quickbooks",
    )
    assert idle.list_total - base.list_total > 20  # one warm instance per function all month: the budget, gone
    scaled = demo_estimate(scale=10)
    claude = {line.service: line.list_usd for line in scaled.lines}["Claude"]
    assert claude == pytest.approx(10 * {line.service: line.list_usd for line in base.lines}["Claude"], rel=0.01)


def test_one_price_file_with_its_date_and_claude_prices_equal_to_the_categorizers():
    prices = cost.load_prices()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", prices["as_of"])
    for service in ("cloud_functions", "cloud_scheduler", "secret_manager", "cloud_logging", "claude"):
        assert prices[service]["source"].startswith("https://")
    table = prices["claude"]["per_million_tokens"]
    assert set(table) == set(CLAUDE_PRICES)
    for model, (inp, out, write, read) in CLAUDE_PRICES.items():
        p = table[model]
        assert [Decimal(str(p[k])) for k in ("input", "output", "cache_write", "cache_read")] == [inp, out, write, read]


def test_deploy_defaults_match_the_deploy_scripts():
    lib = (ROOT / "deploy" / "lib.sh").read_text()
    for name in ("FUNCTION_MEMORY", "FUNCTION_CPU", "MIN_INSTANCES"):
        assert f'{name}="${{{name}:-{cost.DEPLOY_DEFAULTS[name]}}}"' in lib
    env = (ROOT / "deploy" / "env.example").read_text()
    for name, value in cost.DEPLOY_DEFAULTS.items():
        assert re.search(rf"^{name}=\"?{re.escape(value)}\"?$", env, re.M), name
    functions = (ROOT / "deploy" / "functions.sh").read_text()
    assert '--min-instances "${MIN_INSTANCES}"' in functions and '--memory "${FUNCTION_MEMORY}"' in functions


def test_cost_command_reads_the_runs_tab(tmp_path, capsys):
    assert main(["setup-sheet", "--workdir", str(tmp_path)]) == 0
    book = LocalWorkbook(tmp_path / "invoicing.xlsx")
    book.write([CellBlock("Runs", 1, 1, DEMO_RUNS)])
    capsys.readouterr()
    assert main(["cost", "--workdir", str(tmp_path), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["ok"] and payload["runs_read"] == 5 and payload["prices_file"] == "functions/prices.json"
    assert [s["service"] for s in payload["services"]][:2] == ["Cloud Functions", "Cloud Scheduler"]
    assert main(["cost", "--workdir", str(tmp_path), "--months", "1"]) == 0
    text = capsys.readouterr().out
    assert "Estimated monthly cost" in text and "Settings that drive it" in text and "min instances" in text
    assert "Not included: QuickBooks" in text


def test_cost_without_a_workbook_says_what_to_run(tmp_path, capsys):
    assert main(["cost", "--workdir", str(tmp_path / "none"), "--json"]) == 1
    assert "run refresh first" in json.loads(capsys.readouterr().out)["error"].lower()


def test_cost_help(capsys):
    with pytest.raises(SystemExit) as done:
        main(["cost", "--help"])
    out = capsys.readouterr().out
    assert done.value.code == 0 and "--months" in out and "--clients" in out and "--json" in out


def test_the_runs_own_memory_and_api_call_figures_are_read():
    """The Runs tab's Peak Memory (MB) and API Calls columns, as a run writes them, reach the estimate."""
    header = [*HEADER, "Peak Memory (MB)", "API Calls"]
    rows = [header] + [
        [*row, memory, calls]
        for row, memory, calls in zip(
            DEMO_RUNS[1:],
            [180.5, 150.0, 310.2, 140.0, 160.0],
            [
                "Google Sheets 6",
                "Google Sheets 5, QuickBooks 4",
                "Google Sheets 6, Claude 2",
                "Google Sheets 5",
                "Google Sheets 5, QuickBooks 3, Secret Manager 2",
            ],
            strict=True,
        )
    ]
    fig = cost.figures_from_runs(rows, 3)
    assert fig.peak_memory_mb == 310.2
    assert fig.api_calls == {"Claude": 2, "Google Sheets": 27, "QuickBooks": 7, "Secret Manager": 2}
    est = cost.estimate(
        fig, dict(cost.DEPLOY_DEFAULTS), "defaults", ai_model="claude-haiku-5-5", ai_on=True, accounting="quickbooks"
    )
    assert "peaked at 310.2 MB" in est.settings["function memory"]
