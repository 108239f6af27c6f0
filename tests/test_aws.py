"""The AWS Lambda entry (functions/aws.py) invoked with the event shapes AWS documents, on the same set-up as the
Cloud Functions' tests: the Sheets emulator through the production adapter, the local ledger, real ID tokens.

Event shapes: a Function URL request is API Gateway's payload format 2.0 (AWS Lambda developer guide, "Lambda
function URL request and response payloads"; aws-lambda-go's events/testdata/lambda-urls-request.json): the
caller's IAM identity in requestContext.authorizer.iam; an EventBridge schedule sends a "Scheduled Event" from
source "aws.events" with the rule's ARN in `resources`.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

import lambda_handler
from functions import aws
from functions.settings import SettingError
from tests.test_cloud import OPS, SCRIPT_CLIENT_ID, bearer, env  # noqa: F401  # env: the Cloud Functions' set-up

ROOT = Path(__file__).resolve().parents[1]
ROLE = "arn:aws:iam::111122223333:role/invoicing-ops"
SESSION = "arn:aws:sts::111122223333:assumed-role/invoicing-ops/ana"
RULE = "arn:aws:events:eu-west-1:111122223333:rule/invoicing-nightly"


@pytest.fixture(autouse=True)
def aws_env(monkeypatch):
    monkeypatch.setenv("INVOICING_ALLOWED_ARNS", ROLE)
    monkeypatch.setattr(aws, "_loaded_secret", False)


def url_event(path: str, body: object = None, arn: str | None = SESSION, headers: dict | None = None, **kw) -> dict:
    context: dict = {
        "accountId": "123456789012",
        "apiId": "abcdefghij",
        "domainName": "abcdefghij.lambda-url.eu-west-1.on.aws",
        "domainPrefix": "abcdefghij",
        "http": {"method": kw.pop("method", "POST"), "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9"},
        "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        "routeKey": "$default",
        "stage": "$default",
        "time": "02/Dec/2026:02:00:00 +0000",
        "timeEpoch": 1796176800000,
    }
    if arn:
        context["authorizer"] = {
            "iam": {"accessKey": "ASIA...", "accountId": "111122223333", "callerId": "AROA...:ana", "userArn": arn}
        }
    raw = "" if body is None else json.dumps(body)
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json", **(headers or {})},
        "requestContext": context,
        "body": base64.b64encode(raw.encode()).decode() if kw.get("b64") else raw,
        "isBase64Encoded": bool(kw.get("b64")),
    }


def schedule_event(rule: str = RULE) -> dict:
    return {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "111122223333",
        "time": "2026-12-02T02:00:00Z",
        "region": "eu-west-1",
        "resources": [rule],
        "detail": {},
    }


def answer(response: dict) -> tuple[int, dict]:
    return response["statusCode"], json.loads(response["body"])


def test_an_iam_signed_role_session_runs_the_jobs(env):  # noqa: F811
    status, body = answer(lambda_handler.handler(url_event("/refresh", {"period": "2026-10"})))
    assert status == 200 and body["ok"] and body["caller"] == SESSION and body["imported"] > 100
    status, body = answer(lambda_handler.handler(url_event("/preview", {"period": "2026-10"}, b64=True)))
    assert status == 200 and body["function"] == "preview"
    status, body = answer(lambda_handler.handler(url_event("/create_invoices", {"period": "2026-10", "dry_run": True})))
    assert status == 200 and body["ok"] and body["function"] == "create_invoices"


def test_a_caller_not_on_the_allowlist_gets_nothing_done(env, sheets_emulator):  # noqa: F811
    before = len(sheets_emulator.calls)
    status, body = answer(aws.handler(url_event("/refresh", {}, arn="arn:aws:iam::999999999999:user/mallory")))
    assert status == 403 and "mallory is not on INVOICING_ALLOWED_ARNS" in body["error"]["message"]
    other_account = "arn:aws:sts::999999999999:assumed-role/invoicing-ops/x"  # same role name, other account
    assert answer(aws.handler(url_event("/refresh", {}, arn=other_account)))[0] == 403
    status, body = answer(aws.handler(url_event("/refresh", {}, arn=None)))
    assert status == 401 and not body["ok"] and "SigV4" in body["error"]["message"]
    assert len(sheets_emulator.calls) == before


def test_a_google_id_token_is_verified_as_the_cloud_functions_do(env, identity):  # noqa: F811
    ok = url_event(
        "/preview", {"period": "2026-10"}, arn=None, headers={k.lower(): v for k, v in bearer(identity).items()}
    )
    status, body = answer(aws.handler(ok))
    assert status == 200 and body["caller"] == OPS
    bad = url_event("/preview", {}, arn=None, headers={"authorization": "Bearer not.a.jwt"})
    assert answer(aws.handler(bad))[0] == 401
    assert SCRIPT_CLIENT_ID  # the token's audience, as the Apps Script menu sends it


def test_the_nightly_schedule_refreshes_the_current_month(env, monkeypatch):  # noqa: F811
    monkeypatch.setenv("INVOICING_SCHEDULE_RULES", RULE)
    status, body = answer(aws.handler(schedule_event()))
    assert status == 200 and body["function"] == "refresh" and body["caller"] == f"schedule {RULE}"
    status, body = answer(aws.handler(schedule_event("arn:aws:events:eu-west-1:111122223333:rule/other")))
    assert status == 403 and not body["ok"]


def test_wrong_requests_are_sentences(env):  # noqa: F811
    assert answer(aws.handler(url_event("/nothing", {})))[0] == 404
    status, body = answer(aws.handler(url_event("/refresh", {}, method="GET")))
    assert status == 405 and "POST" in body["error"]["message"]
    bad = url_event("/refresh")
    bad["body"] = "[1, 2]"
    assert answer(aws.handler(bad))[0] == 400
    status, body = answer(aws.handler(url_event("/refresh", {"period": "Oct"})))
    assert status == 400 and body["error"]["status"] == "INVALID_ARGUMENT"


def test_secrets_come_from_secrets_manager_and_the_environment_wins(monkeypatch):
    monkeypatch.setenv("STRIPE_API_KEY", "from-the-environment")
    monkeypatch.delenv("XERO_CLIENT_SECRET", raising=False)

    class SecretsManager:  # the GetSecretValue answer as boto3 returns it (AWS Secrets Manager API reference)
        def get_secret_value(self, SecretId: str) -> dict:
            assert SecretId == "invoicing/production"
            return {
                "ARN": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:invoicing/production-AbCdEf",
                "Name": SecretId,
                "SecretString": json.dumps({"STRIPE_API_KEY": "from-the-secret", "XERO_CLIENT_SECRET": "xs"}),
                "VersionId": "v1",
            }

    cfg = aws.AwsSettings(_env_file=None, aws_secret_id="invoicing/production")
    assert aws.load_secrets(cfg, SecretsManager()) == ["XERO_CLIENT_SECRET"]
    import os

    assert os.environ["STRIPE_API_KEY"] == "from-the-environment" and os.environ["XERO_CLIENT_SECRET"] == "xs"
    monkeypatch.delenv("XERO_CLIENT_SECRET")


def test_without_a_secret_id_the_environment_is_used_and_without_boto3_it_says_so(monkeypatch):
    assert aws.load_secrets(aws.AwsSettings(_env_file=None)) == []
    monkeypatch.setitem(sys.modules, "boto3", None)  # not installed here (the Lambda runtime ships it)
    with pytest.raises(SettingError, match="boto3 is not installed"):
        aws.load_secrets(aws.AwsSettings(_env_file=None, aws_secret_id="invoicing/production"))


def test_the_sam_template_passes_cfn_lint():
    lint = Path(sys.executable).with_name("cfn-lint")
    done = subprocess.run([str(lint), str(ROOT / "deploy" / "aws" / "template.yaml")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
