"""What the pipeline costs to run a month, from the Runs tab's own figures and the list prices in prices.json.

The Runs tab has, per run: the command, when it started, how many seconds it took, its summary (entries
imported, invoices created, suggestions by source) and the AI usage (requests, tokens, dollars). What it does
not have comes from the deploy settings (deploy/env, else deploy/env.example, else the defaults of
deploy/lib.sh), and the output says so: function memory and CPU, min instances, the nightly schedule.

    >>> runs_per_month("0 2 * * *")
    30.44
    >>> round(runs_per_month("0 */6 * * 1-5"), 1)
    87.0
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from .errors import InputError

PRICES_FILE = Path(__file__).with_name("prices.json")
DEPLOY_DIR = Path(__file__).resolve().parents[1] / "deploy"
DAYS_PER_MONTH = 30.44
SECONDS_PER_MONTH = DAYS_PER_MONTH * 86400

# What deploy/functions.sh deploys when deploy/env does not say otherwise (a test keeps them equal).
DEPLOY_DEFAULTS = {"FUNCTION_MEMORY": "512Mi", "FUNCTION_CPU": "1", "MIN_INSTANCES": "0", "SCHEDULE": "0 2 * * *"}
FUNCTIONS = 3  # refresh, preview, create_invoices
TOKEN_GRACE_DAYS = 7  # qbo_tokens.DESTROY_AFTER: disabled token versions stay (and are billed) this long

# Assumptions, printed with the estimate: figures the Runs tab cannot hold.
COLD_START_SECONDS = 4.0  # billed instance start-up; with min instances 0 every nightly run starts cold
LOG_BYTES_PER_RUN = 20_000  # request log + the function's own lines, generous
# Claude tokens per entry sent to it, measured on the demo's October (docs/ai-categorization.md):
# 49,124 input and 30,306 output tokens for 1,743 entries. Used only when the Runs tab has no AI usage.
CLAUDE_INPUT_PER_ENTRY = 49_124 / 1_743
CLAUDE_OUTPUT_PER_ENTRY = 30_306 / 1_743


def load_prices(path: Path = PRICES_FILE) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


# -- settings -----------------------------------------------------------------------------------------------


def deploy_settings(deploy_dir: Path = DEPLOY_DIR) -> tuple[dict[str, str], str]:
    """The deploy settings the cost depends on, and where they came from."""
    values = dict(DEPLOY_DEFAULTS)
    for name in ("env", "env.example"):
        path = deploy_dir / name
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                m = re.match(r"\s*([A-Z_]+)=(.*)$", line)
                if m and m.group(1) in (*DEPLOY_DEFAULTS, "AI_ENABLED", "ACCOUNTING", "TIME_SOURCE"):
                    values[m.group(1)] = m.group(2).strip().strip('"').strip("'")
            return values, f"deploy/{name}"
    return values, "the defaults of deploy/lib.sh"


def memory_gib(text: str) -> float:
    """`512Mi`, `1Gi`, `256M`, `2G` as GiB (Cloud Functions treats M and G as binary units)."""
    m = re.fullmatch(r"\s*([0-9.]+)\s*([MG])i?B?\s*", text, re.IGNORECASE)
    if not m:
        raise InputError(f'FUNCTION_MEMORY is "{text}"; write it as 512Mi or 1Gi.')
    value = float(m.group(1))
    return value / 1024 if m.group(2).upper() == "M" else value


def _cron_field(text: str, low: int, high: int) -> set[int]:
    values: set[int] = set()
    for part in text.split(","):
        base, _, step = part.partition("/")
        if base == "*":
            start, end = low, high
        elif "-" in base:
            start, end = (int(x) for x in base.split("-", 1))
        else:
            start = end = int(base)
            if step:
                end = high
        values.update(range(start, end + 1, int(step) if step else 1))
    return values


def runs_per_month(schedule: str) -> float:
    """How often a five-field cron schedule fires in an average month (counted over four weeks)."""
    fields = schedule.split()
    if len(fields) != 5:
        raise InputError(f'SCHEDULE is "{schedule}"; write it as cron, five fields ("0 2 * * *").')
    try:
        minutes, hours = _cron_field(fields[0], 0, 59), _cron_field(fields[1], 0, 23)
        days, months = _cron_field(fields[2], 1, 31), _cron_field(fields[3], 1, 12)
        weekdays = {d % 7 for d in _cron_field(fields[4], 0, 7)}
    except ValueError:
        raise InputError(
            f'SCHEDULE is "{schedule}"; only numbers, *, lists, ranges and steps are understood.'
        ) from None
    dom_any, dow_any = fields[2] == "*", fields[4] == "*"
    start = datetime(2026, 2, 2)  # a Monday; 28 days from it cover each weekday four times
    fired_days = 0
    for i in range(28):
        d = start + timedelta(days=i)
        dom_ok, dow_ok = d.day in days, (d.isoweekday() % 7) in weekdays
        day_ok = dom_ok and dow_ok if dom_any or dow_any else dom_ok or dow_ok  # cron: either, when both are set
        fired_days += day_ok and d.month in months
    return round(len(minutes) * len(hours) * fired_days * DAYS_PER_MONTH / 28, 2)


# -- the Runs tab's figures --------------------------------------------------------------------------------


@dataclass
class Figures:
    """What the Runs tab says about a month (averages over the window read)."""

    months: float  # how many months the runs read cover (at least one)
    runs_read: int
    first: str = ""
    last: str = ""
    runs: dict[str, float] = field(default_factory=dict)  # per month, by command
    seconds: dict[str, float] = field(default_factory=dict)  # mean seconds per run, by command
    entries_per_refresh: float = 0.0  # entries imported, mean over refreshes
    invoices: float = 0.0  # invoices created per month
    offline_suggestions: float = 0.0  # per month: entries the offline model placed (Claude's, with AI on)
    ai_requests: float = 0.0  # per month
    ai_input_tokens: float = 0.0
    ai_output_tokens: float = 0.0
    ai_cached_tokens: float = 0.0
    ai_dollars: float = 0.0  # per month, the runs' own estimate
    peak_memory_mb: float = 0.0  # the highest Peak Memory (MB) of the runs read; 0 when the tab has none
    api_calls: dict[str, float] = field(default_factory=dict)  # per month, by service (the API Calls column)


_AI = re.compile(r"(\d+) requests?, (\d+) input \+ (\d+) output tokens \((\d+) cached\)(?:, ~([0-9.]+))?")


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    try:
        return datetime.fromisoformat(str(value)).replace(tzinfo=None)
    except ValueError:
        return None


def figures_from_runs(rows: Sequence[Sequence[Any]], months: int) -> Figures:
    """Average the Runs tab (header row first) over the last `months` months before its newest run."""
    if not rows:
        raise InputError("The sheet has no Runs tab yet: run refresh first.")
    header = [str(h or "").strip().lower() for h in rows[0]]

    def col(name: str) -> int:
        try:
            return header.index(name)
        except ValueError:
            raise InputError(f"The Runs tab has no {name.title()} column; run setup-sheet to upgrade it.") from None

    c_cmd, c_started, c_seconds = col("command"), col("started"), col("seconds")
    c_summary = col("summary")  # failed runs cost too: every status is counted
    c_ai = header.index("ai usage") if "ai usage" in header else None
    c_memory = header.index("peak memory (mb)") if "peak memory (mb)" in header else None
    c_calls = header.index("api calls") if "api calls" in header else None
    dated = [(when, row) for row in rows[1:] if (when := _when(row[c_started] if len(row) > c_started else None))]
    if not dated:
        raise InputError("The Runs tab has no runs yet: run refresh first (`python main.py refresh --csv FILE`).")
    newest = max(when for when, _ in dated)
    since = newest - timedelta(days=DAYS_PER_MONTH * months)
    window = sorted((w, r) for w, r in dated if w > since)
    # the window is covered in full when the tab holds older runs; else from its first run to its newest
    oldest = min(when for when, _ in dated)
    span_days = (newest - oldest).total_seconds() / 86400
    covered = min(float(months), max(1.0, span_days / DAYS_PER_MONTH))
    fig = Figures(months=round(covered, 2), runs_read=len(window), first=str(window[0][0]), last=str(newest))
    totals: dict[str, float] = {}
    refreshes = entries = 0
    for _, row in window:

        def cell(i: int | None, row: Sequence[Any] = row) -> Any:
            return row[i] if i is not None and i < len(row) else None

        command = str(cell(c_cmd) or "?")
        fig.runs[command] = fig.runs.get(command, 0) + 1
        try:
            totals[command] = totals.get(command, 0.0) + float(cell(c_seconds) or 0)
        except ValueError:
            pass
        summary = str(cell(c_summary) or "")
        if command == "refresh":
            refreshes += 1
            m = re.match(r"(\d+) imported", summary)
            entries += int(m.group(1)) if m else 0
            m = re.search(r"suggestions [^;]*?\bmodel (\d+)", summary)
            fig.offline_suggestions += int(m.group(1)) if m else 0
        if command == "create-invoices":
            m = re.match(r"(\d+) created", summary)
            fig.invoices += int(m.group(1)) if m else 0
        try:
            fig.peak_memory_mb = max(fig.peak_memory_mb, float(cell(c_memory) or 0))
        except ValueError:
            pass
        for service, n in re.findall(r"([A-Za-z][A-Za-z ]*?) (\d+)(?:,|$)", str(cell(c_calls) or "")):
            fig.api_calls[service.strip()] = fig.api_calls.get(service.strip(), 0) + int(n)
        m = _AI.search(str(cell(c_ai) or ""))
        if m:
            fig.ai_requests += int(m.group(1))
            fig.ai_input_tokens += int(m.group(2))
            fig.ai_output_tokens += int(m.group(3))
            fig.ai_cached_tokens += int(m.group(4))
            fig.ai_dollars += float(m.group(5) or 0)
    fig.seconds = {cmd: round(totals.get(cmd, 0.0) / n, 2) for cmd, n in fig.runs.items()}
    fig.entries_per_refresh = round(entries / refreshes, 1) if refreshes else 0.0
    per_month = 1 / covered
    fig.runs = {cmd: round(n * per_month, 2) for cmd, n in sorted(fig.runs.items())}
    for name in (
        "invoices",
        "offline_suggestions",
        "ai_requests",
        "ai_input_tokens",
        "ai_output_tokens",
        "ai_cached_tokens",
    ):
        setattr(fig, name, round(getattr(fig, name) * per_month, 2))
    fig.ai_dollars = round(fig.ai_dollars * per_month, 6)
    fig.api_calls = {k: round(n * per_month, 1) for k, n in sorted(fig.api_calls.items())}
    return fig


# -- the estimate ------------------------------------------------------------------------------------------


@dataclass
class Line:
    service: str
    usage: str
    list_usd: float  # at list price, no free tier
    billed_usd: float  # after the free tier, if this project has the billing account's free tier to itself


@dataclass
class Estimate:
    lines: list[Line]
    settings: dict[str, str]  # what drives the cost, with where each came from
    assumptions: list[str]
    figures: Figures
    scale: float
    prices_as_of: str

    @property
    def list_total(self) -> float:
        return round(sum(line.list_usd for line in self.lines), 2)

    @property
    def billed_total(self) -> float:
        return round(sum(line.billed_usd for line in self.lines), 2)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            "months_read": self.figures.months,
            "runs_read": self.figures.runs_read,
            "scale": self.scale,
            "prices_as_of": self.prices_as_of,
            "prices_file": "functions/prices.json",
            "services": [asdict(line) for line in self.lines],
            "total_list_usd": self.list_total,
            "total_after_free_tier_usd": self.billed_total,
            "settings": self.settings,
            "assumptions": self.assumptions,
            "figures": asdict(self.figures),
        }


def _after_free(amount: float, free: float) -> float:
    return max(0.0, amount - free)


def estimate(
    fig: Figures,
    deploy: dict[str, str],
    deploy_source: str,
    *,
    ai_model: str,
    ai_on: bool,
    accounting: str,
    scale: float = 1.0,
    prices: dict[str, Any] | None = None,
) -> Estimate:
    """Monthly cost per service. `scale` multiplies the work per run (e.g. 250 clients / 25 in the tab)."""
    prices = prices or load_prices()
    gib = memory_gib(deploy["FUNCTION_MEMORY"])
    cpu = float(deploy["FUNCTION_CPU"])
    min_instances = int(deploy["MIN_INSTANCES"])
    scheduled = runs_per_month(deploy["SCHEDULE"])
    runs = dict(fig.runs)
    runs["refresh"] = max(runs.get("refresh", 0.0), scheduled)  # the nightly job runs whatever the tab shows
    assumptions = [
        f"every run starts an instance: {COLD_START_SECONDS:g} billed start-up seconds each "
        f"(min instances {min_instances})",
        f"{LOG_BYTES_PER_RUN // 1000} KB of logs per run",
        "refresh runs at least as often as the schedule: "
        f"{runs['refresh']:g} a month ({fig.runs.get('refresh', 0):g} in the Runs tab, {scheduled:g} scheduled)",
    ]
    assumptions.append(
        "run seconds as the Runs tab measured them; runs on this machine against a workbook are faster than "
        "deployed ones against the Sheets and tracker APIs (docs/cost.md shows the margin)"
    )
    if scale != 1:
        assumptions.append(f"work per run (seconds, entries, tokens) scaled ×{scale:g} from the Runs tab")

    lines: list[Line] = []
    # Cloud Functions: billed seconds = run seconds (scaled) + start-up, per run
    cf = prices["cloud_functions"]
    billed_seconds = sum(
        n * (fig.seconds.get(cmd, fig.seconds.get("refresh", 1.0)) * scale + COLD_START_SECONDS)
        for cmd, n in runs.items()
    )
    requests = sum(runs.values())
    vcpu_s, gib_s = billed_seconds * cpu, billed_seconds * gib
    idle_s = min_instances * FUNCTIONS * SECONDS_PER_MONTH
    idle = idle_s * (cpu * cf["idle_min_instance_vcpu_second"] + gib * cf["idle_min_instance_gib_second"])
    list_cf = vcpu_s * cf["vcpu_second"] + gib_s * cf["gib_second"] + requests / 1e6 * cf["per_million_requests"]
    billed_cf = (
        _after_free(vcpu_s, cf["free"]["vcpu_seconds"]) * cf["vcpu_second"]
        + _after_free(gib_s, cf["free"]["gib_seconds"]) * cf["gib_second"]
        + _after_free(requests, cf["free"]["requests"]) / 1e6 * cf["per_million_requests"]
    )
    usage = f"{requests:.0f} runs, {billed_seconds:,.0f} s × {cpu:g} vCPU × {gib:g} GiB"
    if min_instances:
        usage += f"; {min_instances} idle instance(s) × {FUNCTIONS} functions all month"
    lines.append(Line("Cloud Functions", usage, round(list_cf + idle, 4), round(billed_cf + idle, 4)))

    # Cloud Scheduler: one job
    cs = prices["cloud_scheduler"]
    lines.append(
        Line("Cloud Scheduler", "1 job", cs["per_job_month"], _after_free(1, cs["free"]["jobs"]) * cs["per_job_month"])
    )

    # Secret Manager: one ENABLED version per secret, plus disabled token versions inside the grace period
    sm = prices["secret_manager"]
    env_secrets = 1 + (1 if accounting == "quickbooks" else 0) + (1 if ai_on else 0)  # tracker, QBO secret, key
    # only create-invoices calls QuickBooks (refresh and preview do not)
    qbo_runs = runs.get("create-invoices", 0.0) if accounting == "quickbooks" else 0.0
    token_saves = qbo_runs  # an access token lives an hour: at most one refresh per QuickBooks run
    in_grace = min(token_saves, token_saves * TOKEN_GRACE_DAYS / DAYS_PER_MONTH)
    versions = env_secrets + (1 if accounting == "quickbooks" else 0) + in_grace
    accesses = requests * env_secrets + qbo_runs + token_saves  # start-up reads; token load; read-back
    list_sm = versions * sm["per_active_version_month"] + accesses / 1e4 * sm["per_10k_access_operations"]
    billed_sm = (
        _after_free(versions, sm["free"]["active_versions"]) * sm["per_active_version_month"]
        + _after_free(accesses, sm["free"]["access_operations"]) / 1e4 * sm["per_10k_access_operations"]
    )
    lines.append(
        Line(
            "Secret Manager",
            f"{versions:.1f} active versions, {accesses:.0f} access operations",
            round(list_sm, 4),
            round(billed_sm, 4),
        )
    )

    # Cloud Logging
    cl = prices["cloud_logging"]
    gib_logs = requests * LOG_BYTES_PER_RUN / 2**30
    lines.append(
        Line(
            "Cloud Logging",
            f"{gib_logs * 1024:.1f} MiB ingested",
            round(gib_logs * cl["per_gib_ingested"], 4),
            round(_after_free(gib_logs, cl["free"]["gib_per_project"]) * cl["per_gib_ingested"], 4),
        )
    )

    # Claude
    claude_prices = prices["claude"]["per_million_tokens"]
    model_prices = next(
        (p for name, p in claude_prices.items() if ai_model == name or ai_model.startswith(name + "-")), None
    )
    if not ai_on:
        lines.append(Line("Claude", f"AI off (AI_ENABLED=false or no key); model {ai_model}", 0.0, 0.0))
    elif model_prices is None:
        lines.append(Line("Claude", f"{ai_model}: no list price in functions/prices.json, not priced", 0.0, 0.0))
    else:
        if fig.ai_requests:
            inp, out, cached = (fig.ai_input_tokens * scale, fig.ai_output_tokens * scale, fig.ai_cached_tokens * scale)
            basis = "the Runs tab's AI usage"
        else:
            entries = fig.offline_suggestions * scale
            inp, out, cached = entries * CLAUDE_INPUT_PER_ENTRY, entries * CLAUDE_OUTPUT_PER_ENTRY, 0.0
            basis = f"{entries:,.0f} entries the offline model placed, at the demo's measured tokens per entry"
            assumptions.append(
                f"Claude: no AI usage in the Runs tab, so {basis} "
                f"({CLAUDE_INPUT_PER_ENTRY:.1f} input + {CLAUDE_OUTPUT_PER_ENTRY:.1f} output tokens)"
            )
        usd = (inp * model_prices["input"] + out * model_prices["output"] + cached * model_prices["cache_read"]) / 1e6
        lines.append(
            Line("Claude", f"{ai_model}: {inp:,.0f} input + {out:,.0f} output tokens", round(usd, 4), round(usd, 4))
        )

    settings = {
        "function memory": f"{deploy['FUNCTION_MEMORY']} (FUNCTION_MEMORY, {deploy_source}; "
        + (
            f"the runs read peaked at {fig.peak_memory_mb:g} MB)"
            if fig.peak_memory_mb
            else "the Runs tab has no memory figure yet)"
        ),
        "function CPU": f"{deploy['FUNCTION_CPU']} vCPU (FUNCTION_CPU, {deploy_source})",
        "min instances": f"{min_instances} (MIN_INSTANCES, {deploy_source})",
        "nightly schedule": f'"{deploy["SCHEDULE"]}" = {scheduled:g} runs a month (SCHEDULE, {deploy_source}); one job',
        "AI model": f"{ai_model} (AI_MODEL); AI {'on' if ai_on else 'off'} (AI_ENABLED, {deploy_source}; "
        "Claude runs only with the ANTHROPIC_API_KEY secret)",
        "accounting": f"{accounting} (ACCOUNTING): QuickBooks adds the token secret's versions",
    }
    return Estimate(lines, settings, assumptions, fig, scale, prices["as_of"])
