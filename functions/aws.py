"""AWS Lambda entry: the same jobs as the Cloud Functions (refresh, preview, create_invoices with reissue), from
an API Gateway HTTP API / Function URL request (payload format 2.0) or an EventBridge schedule.

    POST /refresh | /preview | /create_invoices      (Function URL with AuthType AWS_IAM, or a bearer token)
    {"period": "2026-10", "dry_run": false, "create_missing": false, "reissue": "Acme Retail"}
    -> {"statusCode": 200, "body": "{\"ok\": true, \"function\": \"create_invoices\", \"caller\": ..., ...}"}

    EventBridge "Scheduled Event" (source aws.events)  -> the nightly refresh of the current month

Callers are authenticated before anything runs, one of two ways:
  - IAM: the Function URL's AuthType is AWS_IAM, so AWS verified the SigV4 signature, and the caller's ARN
    (`requestContext.authorizer.iam.userArn`) must be on INVOICING_ALLOWED_ARNS (a role ARN also admits
    its sessions, `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`);
  - a Google-signed ID token, verified exactly as the Cloud Functions verify it (functions/auth.py,
    INVOICING_ALLOWED_CALLERS and INVOICING_AUDIENCES), for callers outside AWS (the Apps Script menu).
An EventBridge event reaches the function only through its resource policy (the template grants the one
rule); its rule ARN must still be on INVOICING_SCHEDULE_RULES when that is set.

Secrets come from the environment, or from one AWS Secrets Manager secret (INVOICING_AWS_SECRET_ID, a JSON
object of setting names and values, e.g. {"STRIPE_API_KEY": "rk_live_..."}) read once per cold start with
boto3, which the Lambda Python runtime ships (it is not in requirements.txt, and imported only then). A
value already in the environment wins.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import time
import uuid
from typing import Any

from pydantic_settings import SettingsConfigDict

from .settings import Section, SettingError

log = logging.getLogger("invoicing.aws")
JOBS = {
    "refresh": "refresh",
    "preview": "preview",
    "create_invoices": "create_invoices",
    "create-invoices": "create_invoices",
}
_loaded_secret = False


class AwsSettings(Section):
    """INVOICING_* for the Lambda entry (docs/aws.md). Lists are comma or space separated."""

    model_config = SettingsConfigDict(env_prefix="INVOICING_")

    allowed_arns: str = ""  # IAM users or roles that may call the Function URL
    schedule_rules: str = ""  # EventBridge rule ARNs allowed to start the nightly refresh (blank: any)
    aws_secret_id: str = ""  # a Secrets Manager secret holding the other secrets as JSON

    @staticmethod
    def split(text: str) -> list[str]:
        return [part for part in text.replace(",", " ").split() if part]


def load_secrets(cfg: AwsSettings, client: Any = None) -> list[str]:
    """Put the Secrets Manager secret's values into the environment (those not set already); says which."""
    global _loaded_secret
    if not cfg.aws_secret_id or _loaded_secret:
        return []
    if client is None:
        try:
            import boto3  # type: ignore[import-not-found]  # the Lambda runtime ships it; not installed here
        except ImportError:
            raise SettingError(
                "INVOICING_AWS_SECRET_ID is set, but boto3 is not installed (the Lambda runtime has it; "
                "locally, set the secrets in the environment instead)."
            ) from None
        client = boto3.client("secretsmanager")
    answer = client.get_secret_value(SecretId=cfg.aws_secret_id)
    try:
        values = json.loads(answer["SecretString"])
        assert isinstance(values, dict)
    except (KeyError, ValueError, AssertionError):
        raise SettingError(
            f"The secret {cfg.aws_secret_id} is not a JSON object of setting names and values."
        ) from None
    added = []
    for name, value in values.items():
        if name.upper() == name and name not in os.environ:
            os.environ[name] = str(value)
            added.append(name)
    _loaded_secret = True
    return sorted(added)


def _response(status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json", **(headers or {})},
        "body": json.dumps(payload, default=str),
        "isBase64Encoded": False,
    }


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return _response(status, {"ok": False, "error": {"status": code, "message": message}}, headers)


def _arn_allowed(arn: str, allowed: list[str]) -> bool:
    """An exact ARN, or a role whose session this is (`assumed-role/ROLE/...` for `role/ROLE`)."""
    if arn in allowed:
        return True
    parts = arn.split(":")
    if len(parts) == 6 and parts[2] == "sts" and parts[5].startswith("assumed-role/"):
        role = parts[5].split("/")[1]
        return any(
            a.startswith("arn:aws:iam::") and a.split(":")[4] == parts[4] and a.endswith(f":role/{role}")
            for a in allowed
        )
    return False


def caller_of(event: dict[str, Any], cfg: AwsSettings) -> str:
    """Who sent the HTTP request, or raise Unauthenticated / Forbidden (nothing has run)."""
    from .auth import Forbidden, Unauthenticated

    iam = ((event.get("requestContext") or {}).get("authorizer") or {}).get("iam") or {}
    arn = str(iam.get("userArn") or "")
    if arn:
        if _arn_allowed(arn, cfg.split(cfg.allowed_arns)):
            return arn
        raise Forbidden(f"{arn} is not on INVOICING_ALLOWED_ARNS, so it may not run this job.")
    headers = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
    if not headers.get("authorization"):
        raise Unauthenticated(
            "The request is not signed: call the Function URL with SigV4 (AuthType AWS_IAM) or send "
            "`Authorization: Bearer <Google ID token>`."
        )
    from .cloud import verifier
    from .settings import CloudSettings

    return verifier(CloudSettings()).verify(headers["authorization"])


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """The Lambda handler (lambda_handler.handler)."""
    from . import logs

    logs.configure_cloud()
    run_id = str(getattr(context, "aws_request_id", "") or uuid.uuid4().hex[:16])
    with logs.run_context(run_id=run_id):
        if event.get("source") == "aws.events" or event.get("detail-type") == "Scheduled Event":
            return _scheduled(event)
        return _http(event)


def _scheduled(event: dict[str, Any]) -> dict[str, Any]:
    try:
        cfg = AwsSettings()
        rules = cfg.split(cfg.schedule_rules)
        if rules and not set(event.get("resources") or []) & set(rules):
            log.warning("scheduled event from %s refused: not on INVOICING_SCHEDULE_RULES", event.get("resources"))
            return _error(403, "PERMISSION_DENIED", "This schedule is not on INVOICING_SCHEDULE_RULES.")
        load_secrets(cfg)
    except SettingError as exc:
        return _error(500, "FAILED_PRECONDITION", str(exc))
    rule = ",".join(event.get("resources") or []) or "eventbridge"
    return _job("refresh", {"period": "current"}, f"schedule {rule}")


def _http(event: dict[str, Any]) -> dict[str, Any]:
    from .auth import Forbidden, Unauthenticated

    http = (event.get("requestContext") or {}).get("http") or {}
    method = str(http.get("method") or event.get("httpMethod") or "")
    path = str(event.get("rawPath") or http.get("path") or "/").rstrip("/")
    job = JOBS.get(path.rsplit("/", 1)[-1])
    if job is None:
        return _error(
            404, "NOT_FOUND", f"There is no job at {path or '/'}; use /refresh, /preview or /create_invoices."
        )
    if method != "POST":
        return _error(405, "METHOD_NOT_ALLOWED", f"Call {job} with POST and a JSON body.", {"allow": "POST"})
    try:
        cfg = AwsSettings()
        load_secrets(cfg)
        caller = caller_of(event, cfg)
    except SettingError as exc:
        return _error(500, "FAILED_PRECONDITION", str(exc))
    except Unauthenticated as exc:
        log.warning("%s refused: %s", job, exc)
        return _error(401, "UNAUTHENTICATED", str(exc))
    except Forbidden as exc:
        log.warning("%s refused: %s", job, exc)
        return _error(403, "PERMISSION_DENIED", str(exc))
    raw = event.get("body") or ""
    if event.get("isBase64Encoded") and raw:
        raw = base64.b64decode(raw).decode("utf-8", "replace")
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return _error(400, "INVALID_ARGUMENT", 'The request body must be a JSON object, e.g. {"period": "2026-10"}.')
    return _job(job, body, caller)


_app: Any = None


def _flask_app() -> Any:
    global _app
    if _app is None:
        import flask

        _app = flask.Flask("invoicing-lambda")
    return _app


def _job(job: str, body: dict[str, Any], caller: str) -> dict[str, Any]:
    """Run one job exactly as the Cloud Functions do (functions/cloud.py), answered as Lambda expects."""
    from . import cloud, logs

    runners = {"refresh": cloud._run_refresh, "preview": cloud._run_preview, "create_invoices": cloud._run_create}
    try:
        cfg = cloud.CloudSettings()
    except SettingError as exc:
        return _error(500, "FAILED_PRECONDITION", str(exc))
    logs.add_context(job=job, caller=caller)
    started = time.perf_counter()
    stages = logs.StageLog(job, log, has_steps=job != "create_invoices")
    with _flask_app().app_context():  # cloud's error answers are flask responses
        answer = cloud._run(job, runners[job], cfg, body, caller, stages)
    stages.finish()
    seconds = round(time.perf_counter() - started, 2)
    if not isinstance(answer, tuple):  # the error answer, as the Cloud Functions give it
        headers = {k.lower(): v for k, v in answer.headers.items() if k.lower() in ("retry-after",)}
        log.warning("%s for %s ended with %s after %.2f s", job, caller, answer.status_code, seconds)
        return _response(answer.status_code, json.loads(answer.get_data(as_text=True)), headers)
    period, summary = answer
    log.info("%s %s for %s done in %.2f s", job, period, caller, seconds)
    return _response(200, {"ok": True, "function": job, "caller": caller, **summary.as_json()})
