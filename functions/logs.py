"""Logging for every run: JSON lines Cloud Logging understands on Cloud Functions, readable lines in the CLI.

The code logs with the stdlib (`logging.getLogger(__name__)`); this module only says where the lines go:

    configure_cloud()            # Cloud Functions: one JSON object a line on stderr (structured logging)
    configure_cli("WARNING")     # the CLI: `12:04:31 WARNING invoicing.cloud: ...` on stderr, never on stdout

Each JSON line carries the fields Cloud Logging maps onto the log entry (`severity`, `message`, `time`,
`logging.googleapis.com/trace` and `spanId` when the request had a trace header; see
cloud.google.com/logging/docs/structured-logging), the run's context (`run_id`, `job`, `caller`, set with
`run_context(...)`) and the record's own figures (`log.info("...", extra=fields(entries=12, seconds=0.4))`).

No secret reaches a line: every handler has a `Redact` filter that masks the values of the secret settings in
the environment, values registered with `secret(...)` (tokens read from Secret Manager), and anything shaped
like a bearer token, a JWT, an Anthropic key or an OAuth token parameter. It is the safety net; the code
itself logs counts and names, never a token, a prompt or an entry's notes.

`StageLog` is the Progress callback of a Cloud Function: each stage of a job logged as it starts and ends,
with its counts and seconds (the CLI draws the same stages as progress bars).
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Protocol, TextIO

FIELDS = "invoicing_fields"  # the LogRecord attribute `fields()` sets
TRACE = "logging.googleapis.com/trace"
SPAN = "logging.googleapis.com/spanId"
SAMPLED = "logging.googleapis.com/trace_sampled"

# Cloud Logging's LogSeverity names for the stdlib levels
SEVERITY = {logging.DEBUG: "DEBUG", logging.INFO: "INFO", logging.WARNING: "WARNING", logging.ERROR: "ERROR"}

_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("invoicing_log_context", default=None)


def fields(**values: Any) -> dict[str, Any]:
    """`extra=` for a log call: figures that become fields of its JSON line (counts, seconds, the client)."""
    return {FIELDS: values}


@contextmanager
def run_context(**values: Any) -> Iterator[dict[str, Any]]:
    """Fields every line logged inside carries (run_id, job, caller, trace); nested contexts add to it."""
    merged = {**(_context.get() or {}), **{k: v for k, v in values.items() if v not in (None, "")}}
    token = _context.set(merged)
    try:
        yield merged
    finally:
        _context.reset(token)


def add_context(**values: Any) -> None:
    """Add fields to the current run context (the pipeline's run id, once it is known)."""
    current = _context.get()
    if current is not None:
        current.update({k: v for k, v in values.items() if v not in (None, "")})


# ------------------------------------------------------------------ trace headers


_CLOUD_TRACE = re.compile(r"^([0-9a-fA-F]{32})(?:/(\d+))?(?:;o=([01]))?")
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


class Headers(Protocol):
    def get(self, key: str, /) -> str | None: ...


def trace_fields(headers: Headers | Mapping[str, str], project: str) -> dict[str, Any]:
    """The trace fields of a request's log lines, from `traceparent` (W3C) or `X-Cloud-Trace-Context`
    (`TRACE_ID/SPAN_ID;o=1`); {} without a header or a project (Cloud Logging needs `projects/P/traces/T`)."""
    if not project:
        return {}
    found = _TRACEPARENT.match((headers.get("traceparent") or "").strip().lower())
    if found and set(found.group(1)) != {"0"}:
        return {
            TRACE: f"projects/{project}/traces/{found.group(1)}",
            SPAN: found.group(2),
            SAMPLED: bool(int(found.group(3), 16) & 1),
        }
    found = _CLOUD_TRACE.match((headers.get("X-Cloud-Trace-Context") or "").strip())
    if not found:
        return {}
    out: dict[str, Any] = {TRACE: f"projects/{project}/traces/{found.group(1).lower()}"}
    if found.group(2):
        out[SPAN] = f"{int(found.group(2)):016x}"  # the header's span id is decimal; LogEntry's is 16 hex digits
    if found.group(3):
        out[SAMPLED] = found.group(3) == "1"
    return out


def project_id() -> str:
    """The Google Cloud project, for trace names: GOOGLE_CLOUD_PROJECT (deploy/functions.sh sets it) or GCP_PROJECT."""
    return os.environ.get("GOOGLE_CLOUD_PROJECT") or os.environ.get("GCP_PROJECT") or ""


# ------------------------------------------------------------------ redaction


_SECRET_NAME = re.compile(r"(TOKEN|SECRET|API_KEY|PASSWORD|PRIVATE_KEY|CREDENTIAL)", re.I)
_TOKENISH = r"(?=[A-Za-z0-9._~+/=-]*[0-9._~+/=-])[A-Za-z0-9._~+/=-]{8,}"  # has a digit or a symbol: not a word
_SHAPES = [
    re.compile(r"(?i)\b(bearer|basic)\s+" + _TOKENISH),
    re.compile(r"\beyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]*"),  # a JWT (ID and access tokens)
    re.compile(r"\bsk-ant-[A-Za-z0-9_-]{6,}"),
    # a token parameter in a body, a query or JSON: `refresh_token=...`, `"client_secret": "..."`
    re.compile(
        r"(?i)((?:access|refresh|id)_token|client_secret|api[_-]?key|password)([\"']?\s*[=:]\s*[\"']?)"
        r"([A-Za-z0-9._~+/=-]{6,})"
    ),
]
_registered: set[str] = set()
_registered_lock = threading.Lock()
MASK = "[redacted]"


def secret(value: str | None) -> None:
    """Never log this value (a token read at run time, e.g. QuickBooks' from Secret Manager)."""
    if value and len(value.strip()) >= 6:
        with _registered_lock:
            _registered.add(value.strip())


def _known_secrets() -> list[str]:
    env = [v.strip() for k, v in os.environ.items() if _SECRET_NAME.search(k) and v and len(v.strip()) >= 6]
    with _registered_lock:
        known = set(env) | _registered
    return sorted(known, key=len, reverse=True)  # the longest first, so a value containing another goes whole


def redact(text: str) -> str:
    """`text` with every known secret value and every token-shaped string masked."""
    for value in _known_secrets():
        if value in text:
            text = text.replace(value, MASK)
    for shape in _SHAPES:
        if shape.groups == 3:
            text = shape.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
        else:
            text = shape.sub(lambda m: m.group(0).split()[0] + " " + MASK if " " in m.group(0) else MASK, text)
    return text


class Redact(logging.Filter):
    """Masks secrets in a record's message, its exception text and its fields (see `redact`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what there is, never lose the line
            message = f"{record.msg} {record.args}"
        record.msg, record.args = redact(message), None
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        values = getattr(record, FIELDS, None)
        if isinstance(values, dict):
            setattr(record, FIELDS, {k: redact(v) if isinstance(v, str) else v for k, v in values.items()})
        return True


# ------------------------------------------------------------------ formats


class JsonFormatter(logging.Formatter):
    """One JSON object a line, with Cloud Logging's special fields (see the module docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_text:
            message += "\n" + record.exc_text
        entry: dict[str, Any] = {
            "severity": SEVERITY.get(record.levelno, "CRITICAL" if record.levelno > logging.ERROR else "DEFAULT"),
            "message": message,
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "logger": record.name,
            "logging.googleapis.com/sourceLocation": {
                "file": record.pathname,
                "line": str(record.lineno),
                "function": record.funcName,
            },
        }
        entry.update(_context.get() or {})
        values = getattr(record, FIELDS, None)
        if isinstance(values, dict):
            entry.update(values)
        return json.dumps(entry, default=str, ensure_ascii=False)


class ReadableFormatter(logging.Formatter):
    """`12:04:31 INFO invoicing.cloud: refresh started (run 20261101-020000)` for people at a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        values = getattr(record, FIELDS, None)
        if isinstance(values, dict) and values:
            line += " (" + ", ".join(f"{k} {v}" for k, v in values.items()) + ")"
        return line


_HANDLER_NAME = "invoicing"


class _Handler(logging.Handler):
    """Writes each formatted line with `write` (the CLI's stderr console, so lines land above its progress
    bars), or to whatever sys.stderr is at the time (so a replaced stderr, as under test capture, is used)."""

    def __init__(self, write: Callable[[str], None] | None = None, stream: TextIO | None = None):
        super().__init__()
        self.write, self.stream = write, stream

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            if self.write is not None:
                self.write(line)
            else:
                stream = self.stream or sys.stderr
                stream.write(line + "\n")
                stream.flush()
        except Exception:
            self.handleError(record)


def _install(
    formatter: logging.Formatter,
    level: str,
    stream: TextIO | None,
    write: Callable[[str], None] | None = None,
    others: int = logging.WARNING,
) -> logging.Handler:
    """One handler on the root logger (replacing ours from before), with redaction: every library's lines go
    through it, so none of them can print a token either."""
    handler = _Handler(write, stream)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)
    handler.addFilter(Redact())
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for chatty in ("urllib3", "google", "httpx", "httpcore", "httpx2", "httpcore2", "anthropic", "werkzeug"):
        logging.getLogger(chatty).setLevel(max(logging.getLevelName(level), others))
    return handler


def _level(default: str) -> str:
    level = (os.environ.get("LOG_LEVEL") or default).upper()
    return level if level in ("DEBUG", "INFO", "WARNING", "ERROR") else default


def configure_cloud(stream: TextIO | None = None) -> logging.Handler:
    """Cloud Functions: JSON lines on stderr at LOG_LEVEL (default INFO)."""
    return _install(JsonFormatter(), _level("INFO"), stream)


def configure_cli(
    default_level: str = "WARNING", stream: TextIO | None = None, write: Callable[[str], None] | None = None
) -> logging.Handler:
    """The CLI: readable lines on stderr at LOG_LEVEL (default WARNING; LOG_LEVEL=INFO shows every stage),
    or JSON lines with LOG_FORMAT=json. Libraries' lines only from ERROR up, unless LOG_LEVEL=DEBUG."""
    formatter = JsonFormatter() if os.environ.get("LOG_FORMAT", "").lower() == "json" else ReadableFormatter()
    level = _level(default_level)
    # the libraries' own warnings (google-auth's "no metadata server") would repeat what the error says in a
    # sentence; LOG_LEVEL=DEBUG shows them
    others = logging.DEBUG if level == "DEBUG" else logging.ERROR
    return _install(formatter, level, stream, write, others)


# ------------------------------------------------------------------ stages


class StageLog:
    """A Progress callback that logs each stage of a job: the first count it reports is the job's steps
    (`[n/5]`), unless `has_steps` is False (create-invoices only counts its invoices); a step is logged as it
    starts and, when the next one starts, as it ended with its seconds.
    Counts inside a step (files, pages, Claude's requests, invoices) are logged as they complete, at most
    about ten lines a count."""

    def __init__(
        self, job: str, logger: logging.Logger | None = None, clock: Any = time.perf_counter, has_steps: bool = True
    ):
        self.job, self.log, self.clock = job, logger or logging.getLogger("invoicing.stages"), clock
        self.steps: int | None = None if has_steps else -1  # -1: a job whose counts are all inside one stage
        self.current: tuple[int, str, float] | None = None  # (step, what, started)
        self.inner_logged: dict[str, int] = {}
        self.started = clock()

    def __call__(self, done: int, total: int, what: str) -> None:
        now = self.clock()
        if self.steps is None:
            self.steps = total
        current = self.current[0] if self.current else 0
        if total == self.steps and done == current + 1:
            self._end(now)
            self.current = (done, what, now)
            self.log.info(
                "%s: step %d/%d started: %s",
                self.job,
                done,
                total,
                what,
                extra=fields(stage=what, step=done, steps=total),
            )
            return
        every = max(1, total // 10)
        if done == total or done % every == 0:
            self.log.info(
                "%s: %s (%d/%d)",
                self.job,
                what,
                done,
                total,
                extra=fields(stage=self.current[1] if self.current else "", count=done, total=total),
            )

    def _end(self, now: float) -> None:
        if self.current is not None:
            step, what, started = self.current
            self.log.info(
                "%s: step %d/%d ended after %.2f s: %s",
                self.job,
                step,
                self.steps,
                now - started,
                what,
                extra=fields(stage=what, step=step, steps=self.steps, seconds=round(now - started, 2)),
            )

    def finish(self) -> None:
        """The last step's end (called when the job returns)."""
        self._end(self.clock())
        self.current = None
