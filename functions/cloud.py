"""The HTTP Cloud Functions (functions-framework): `refresh`, `preview` and `create_invoices`.

Each is a thin call into functions.pipeline, the same one the CLI uses. JSON in, JSON out:

    POST /   Authorization: Bearer <Google ID token>
    {"period": "2026-10" | "current" | "previous", "dry_run": false, "create_missing": false}
    {"period": "2026-10", "reissue": "Acme Retail", "dry_run": true}   # create_invoices: correct one invoice
    -> 200 {"ok": true, "function": "create_invoices", "caller": "ops@agency.example", ...the pipeline summary}
    -> 4xx/5xx {"ok": false, "error": {"status": "LOCKED", "message": "Another create-invoices run ..."}}

The period defaults to the previous month, as in the CLI ("current" is what the nightly refresh sends).

Callers are authenticated before anything runs: a Google-signed ID token (signature, audience, expiry,
issuer) whose verified email is on INVOICING_ALLOWED_CALLERS (functions/auth.py); anything else gets 401
or 403 and nothing is done.

No two runs that write overlap, here or anywhere else on the same store: each takes the store's one lock
(functions/locks.py: a lease written into the Google Sheet and read back, or the file lock of a local
workbook), the same one the CLI takes, so a nightly refresh and a create_invoices from the menu, or a
function and a person's CLI run, cannot lose each other's work. An in-process lock in front of it answers
a second request to the same instance at once. A busy store answers 409 "wait for it to finish".

Run one locally: `functions-framework --source main.py --target refresh --port 8080`.
"""

from __future__ import annotations

import glob
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import flask
import functions_framework

from . import logs
from .auth import GOOGLE_CERTS_URL, CallerVerifier, Forbidden, Unauthenticated
from .errors import AuthError, ConfigError, InputError, InputErrors, LockedError, Terminal, Transient
from .models import Period
from .settings import CloudSettings, GoogleSheetsSettings, SettingError, Settings

log = logging.getLogger("invoicing.cloud")


def verifier(cfg: CloudSettings) -> CallerVerifier:
    return CallerVerifier.from_lists(
        cfg.split(cfg.audiences), cfg.split(cfg.allowed_callers), certs_url=cfg.id_token_certs_url or GOOGLE_CERTS_URL
    )


# ------------------------------------------------------------------ the lock


_locks: dict[str, threading.Lock] = {}
_holders: dict[str, tuple[str, float]] = {}
_locks_guard = threading.Lock()


@contextmanager
def both(first: AbstractContextManager[Any], second: AbstractContextManager[Any]) -> Iterator[None]:
    with first, second:
        yield


@contextmanager
def instance_lock(name: str, holder: str = "") -> Iterator[None]:
    """Non-blocking: a second run while one holds `name` raises LockedError (HTTP 409) at once."""
    with _locks_guard:
        lock = _locks.setdefault(name, threading.Lock())
    if not lock.acquire(blocking=False):
        who, since = _holders.get(name, ("", time.monotonic()))
        by = f" ({who})" if who else ""
        raise LockedError(
            f"Another run{by} started {time.monotonic() - since:.0f} s ago and is still "
            f"running; wait for it to finish, then try again (docs/RUNBOOK.md#another-run-is-running)."
        )
    _holders[name] = (holder, time.monotonic())
    try:
        yield
    finally:
        _holders.pop(name, None)
        lock.release()


# ------------------------------------------------------------------ requests and answers


def _answer(status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> flask.Response:
    response = flask.jsonify(payload)
    response.status_code = status
    for k, v in (headers or {}).items():
        response.headers[k] = v
    return response


def _error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, details: list[str] | None = None
) -> flask.Response:
    error: dict[str, Any] = {"status": code, "message": message}
    if details:
        error["details"] = details
    return _answer(status, {"ok": False, "error": error}, headers)


class BadRequest(InputError):
    """The request itself is wrong (its JSON), as opposed to something in the sheet (HTTP 400)."""


def _period(body: dict[str, Any], now: datetime) -> Period:
    raw = body.get("period")
    if raw in (None, "", "previous"):
        return Period.of(now.date()).previous()
    if raw == "current":
        return Period.of(now.date())
    if not isinstance(raw, str):
        raise BadRequest(f"period must be text like 2026-10, not {raw!r}")
    try:
        return Period.parse(raw)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise BadRequest(f"{name} must be true or false, not {value!r}")
    return value


_sheets: dict[str, Any] = {}


def _google_sheet(gs: GoogleSheetsSettings) -> Any:
    """One adapter per spreadsheet and instance: its credentials keep their access token between requests."""
    from .sheet.gsheets import GoogleSheet

    key = gs.model_dump_json()
    with _locks_guard:
        if key not in _sheets:
            _sheets[key] = GoogleSheet.from_settings(gs)
        return _sheets[key]


def _services(cfg: CloudSettings, command: str, caller: str) -> Any:
    from .config import bootstrap, build_source, csv_source
    from .locks import store_lock

    settings = Settings()
    overrides: dict[str, Any] = {}
    if settings.sheet == "google":
        overrides["sheet"] = _google_sheet(settings.google)
    if command == "refresh" and cfg.source_csv:
        paths = sorted({p for pattern in cfg.split(cfg.source_csv) for p in glob.glob(pattern)})
        if not paths:
            raise ConfigError(f"INVOICING_SOURCE_CSV matches no file ({cfg.source_csv}).")
        overrides["source"] = csv_source([Path(p) for p in paths])
    elif command == "refresh":
        overrides["source"] = build_source(
            settings
        )  # TIME_SOURCE=harvest|toggl|jira|asana, or several; None re-syncs the sheet
    services = bootstrap(settings, job=command, **overrides)
    store = store_lock(services.sheet, settings.workdir, holder=caller)
    # every writing job of this instance queues on one name, then on the store's lock shared with the CLI
    services.lock = lambda name: both(instance_lock("sheet", f"{name} for {caller}"), store(name))
    return services


Runner = Callable[[Any, Period, dict[str, Any], logs.StageLog], Any]


def _run_refresh(services: Any, period: Period, body: dict[str, Any], stages: logs.StageLog) -> Any:
    from . import pipeline

    # {"full": true} pulls the month in full from the API sources (refresh --full); a scheduled job may send it
    return pipeline.refresh(services, period, full=body.get("full") is True, progress=stages)


def _run_preview(services: Any, period: Period, body: dict[str, Any], stages: logs.StageLog) -> Any:
    from . import pipeline

    return pipeline.preview(services, period, progress=stages)


def _run_create(services: Any, period: Period, body: dict[str, Any], stages: logs.StageLog) -> Any:
    from . import pipeline

    if body.get("reissue") is not None:  # {"reissue": "Acme Retail"}: correct that client's invoice (reissue.py)
        from .reissue import reissue

        client = body["reissue"]
        if not isinstance(client, str) or not client.strip():
            raise BadRequest(f"reissue must name a client as the Clients tab does, not {client!r}")
        return reissue(services, client.strip(), period, dry_run=_flag(body, "dry_run"))
    return pipeline.create_invoices(
        services,
        period,
        dry_run=_flag(body, "dry_run"),
        create_missing=_flag(body, "create_missing"),
        progress=stages,
    )


def _run_fields(summary: Any) -> dict[str, Any]:
    """The figures of a finished run for its last log line: counts, seconds, the Runs tab's run id."""
    data = summary.as_json()
    out: dict[str, Any] = {"runs_tab_id": data.get("run_id", ""), "seconds": data.get("seconds")}
    for key in ("imported", "new", "updated", "unchanged", "gone", "created", "existing", "dry_run"):
        if key in data:
            out[key] = data[key]
    if isinstance(data.get("invoices"), list):
        out["invoices"] = len(data["invoices"])
        out["clients"] = sorted({str(i.get("client", "")) for i in data["invoices"]})
    if isinstance(data.get("warnings"), list):
        out["warnings"] = len(data["warnings"])
    if isinstance(data.get("held"), dict):
        out["held"] = len(data["held"])
    return out


def handle(command: str, run: Runner, request: flask.Request) -> flask.Response:
    """Authenticate, parse, run one pipeline command, and answer in JSON; never leaks a secret or a trace.

    Every line it logs is a JSON line for Cloud Logging (functions/logs.py) with the run's id, the job, the
    caller and the request's trace; each stage of the job is logged as it starts and ends."""
    logs.configure_cloud()
    run_id = request.headers.get("Function-Execution-Id") or uuid.uuid4().hex[:16]
    with logs.run_context(run_id=run_id, job=command, **logs.trace_fields(request.headers, logs.project_id())):
        return _handle(command, run, request)


def _handle(command: str, run: Runner, request: flask.Request) -> flask.Response:
    if request.method != "POST":
        return _error(405, "METHOD_NOT_ALLOWED", f"Call {command} with POST and a JSON body.", {"Allow": "POST"})
    try:
        cfg = CloudSettings()
    except SettingError as exc:
        log.error("%s: configuration: %s", command, exc)
        return _error(500, "FAILED_PRECONDITION", str(exc))
    try:
        caller = verifier(cfg).verify(request.headers.get("Authorization"))
    except Unauthenticated as exc:
        log.warning("%s refused: %s", command, exc, extra=logs.fields(status=401))
        return _error(401, "UNAUTHENTICATED", str(exc), {"WWW-Authenticate": 'Bearer realm="invoicing"'})
    except Forbidden as exc:
        log.warning("%s refused: %s", command, exc, extra=logs.fields(status=403))
        return _error(403, "PERMISSION_DENIED", str(exc))
    logs.add_context(caller=caller)
    body = request.get_json(silent=True) if request.data else {}
    if not isinstance(body, dict):
        return _error(400, "INVALID_ARGUMENT", 'The request body must be a JSON object, e.g. {"period": "2026-10"}.')
    started = time.perf_counter()
    stages = logs.StageLog(command, log, has_steps=command != "create_invoices")
    answer = _run(command, run, cfg, body, caller, stages)
    stages.finish()
    seconds = round(time.perf_counter() - started, 2)
    if isinstance(answer, flask.Response):
        log.warning(
            "%s for %s ended with %s after %.2f s",
            command,
            caller,
            answer.status_code,
            seconds,
            extra=logs.fields(status=answer.status_code, seconds=seconds),
        )
        return answer
    period, summary = answer
    payload = {"ok": True, "function": command, "caller": caller, **summary.as_json()}
    log.info(
        "%s %s for %s done in %.2f s",
        command,
        period,
        caller,
        seconds,
        extra=logs.fields(period=str(period), status=200, **{**_run_fields(summary), "seconds": seconds}),
    )
    return _answer(200, payload)


def _run(
    command: str, run: Runner, cfg: CloudSettings, body: dict[str, Any], caller: str, stages: logs.StageLog
) -> flask.Response | tuple[Period, Any]:
    """The pipeline command, or the error answer it ended with."""
    try:
        services = _services(cfg, command, caller)
        period = _period(body, services.clock())
        logs.add_context(period=str(period))
        from .capacity import precheck

        precheck(services.sheet, command)  # with FUNCTION_MEMORY set: too big a month stops here, before any write
        log.info("%s %s for %s started", command, period, caller)
        return period, run(services, period, body, stages)
    except InputErrors as exc:
        return _error(422, "INVALID_INPUT", str(exc).split("\n")[0], details=[str(e) for e in exc.errors])
    except BadRequest as exc:
        return _error(400, "INVALID_ARGUMENT", str(exc))
    except InputError as exc:
        return _error(422, "INVALID_INPUT", str(exc))
    except LockedError as exc:
        return _error(409, "LOCKED", str(exc), {"Retry-After": "60"})
    except Transient as exc:
        log.warning("%s for %s failed, retry may help: %s", command, caller, exc)
        return _error(503, "UNAVAILABLE", str(exc), {"Retry-After": "60"})
    except (ConfigError, AuthError) as exc:
        # the deployment's own settings (a mistyped SHEET=gogle is a SettingError, one sentence) or access
        # (the sheet not shared, QuickBooks disconnected): not the caller's
        log.error("%s for %s: configuration: %s", command, caller, exc)
        return _error(500, "FAILED_PRECONDITION", str(exc))
    except Terminal as exc:
        return _error(422, "FAILED_PRECONDITION", str(exc))
    except Exception as exc:
        log.exception("%s for %s failed unexpectedly", command, caller)
        return _error(
            500,
            "INTERNAL",
            f"{command} failed unexpectedly ({type(exc).__name__}); nothing after the "
            f"failure was written. The function's log has the details.",
        )


@functions_framework.http
def refresh(request: flask.Request) -> flask.Response:
    """Pull time entries, suggest categories and merge them into the Time tab."""
    return handle("refresh", _run_refresh, request)


@functions_framework.http
def preview(request: flask.Request) -> flask.Response:
    """Compute every invoice of the period into the Preview tab."""
    return handle("preview", _run_preview, request)


@functions_framework.http
def create_invoices(request: flask.Request) -> flask.Response:
    """Create the period's invoices exactly once and write their numbers back."""
    return handle("create_invoices", _run_create, request)
