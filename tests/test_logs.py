"""functions/logs.py: JSON lines with Cloud Logging's special fields, trace headers, redaction, stage logs."""

from __future__ import annotations

import io
import json
import logging
import re
from pathlib import Path

import pytest

from functions import logs

PROJECT = "acme-invoicing"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.fixture
def captured(monkeypatch):
    """The root logger configured as on Cloud Functions, writing into a buffer; restored afterwards."""
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    buffer = io.StringIO()
    logs.configure_cloud(stream=buffer)
    yield buffer
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
    root.setLevel(level)


def lines(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_a_line_has_cloud_loggings_fields_the_run_context_and_its_figures(captured):
    log = logging.getLogger("functions.pipeline")
    with logs.run_context(run_id="r-1", job="refresh", caller="ops@agency.example"):
        logs.add_context(client="Acme Corp")
        log.warning("refresh took %s s", 2.5, extra=logs.fields(entries=12, seconds=2.5))
    log.info("outside")
    first, second = lines(captured)
    assert first["severity"] == "WARNING" and first["message"] == "refresh took 2.5 s"
    assert first["run_id"] == "r-1" and first["job"] == "refresh" and first["client"] == "Acme Corp"
    assert first["caller"] == "ops@agency.example" and first["entries"] == 12 and first["seconds"] == 2.5
    assert first["time"].endswith("+00:00") and first["logging.googleapis.com/sourceLocation"]["line"]
    assert second["severity"] == "INFO" and "run_id" not in second  # the context ended with its block


@pytest.mark.parametrize(
    "headers, expected",
    [
        (
            {"X-Cloud-Trace-Context": f"{TRACE_ID}/1;o=1"},
            {
                logs.TRACE: f"projects/{PROJECT}/traces/{TRACE_ID}",
                logs.SPAN: "0000000000000001",
                logs.SAMPLED: True,
            },
        ),
        ({"X-Cloud-Trace-Context": TRACE_ID}, {logs.TRACE: f"projects/{PROJECT}/traces/{TRACE_ID}"}),
        (
            {"traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"},
            {logs.TRACE: f"projects/{PROJECT}/traces/{TRACE_ID}", logs.SPAN: "00f067aa0ba902b7", logs.SAMPLED: True},
        ),
        ({"traceparent": "00-00000000000000000000000000000000-00f067aa0ba902b7-01"}, {}),  # invalid all-zero id
        ({"X-Cloud-Trace-Context": "not-a-trace"}, {}),
        ({}, {}),
    ],
)
def test_trace_headers_become_the_trace_fields(headers, expected):
    assert logs.trace_fields(headers, PROJECT) == expected


def test_without_a_project_there_is_no_trace_field():
    assert logs.trace_fields({"X-Cloud-Trace-Context": f"{TRACE_ID}/1;o=1"}, "") == {}


def test_secrets_are_masked_in_messages_exceptions_and_fields(captured, monkeypatch):
    monkeypatch.setenv("HARVEST_TOKEN", "hv-secret-123456")
    logs.secret("RT1-registered-refresh-token")
    log = logging.getLogger("functions.anything")
    log.info("calling with token hv-secret-123456 and RT1-registered-refresh-token")
    log.info("header Authorization: Bearer abc.def-ghi_jkl and key sk-ant-api03-abcdefgh")
    log.info("body refresh_token=QWERTYUIOP123&client_secret=zxcvbnm987", extra=logs.fields(note="hv-secret-123456"))
    try:
        raise RuntimeError("failed with eyJhbGciOi.eyJzdWIiOiIx.c2lnbmF0dXJl")
    except RuntimeError:
        log.exception("boom")
    text = captured.getvalue()
    for secret in (
        "hv-secret-123456",
        "RT1-registered-refresh-token",
        "abc.def-ghi_jkl",
        "sk-ant-api03-abcdefgh",
        "QWERTYUIOP123",
        "zxcvbnm987",
        "eyJzdWIiOiIx",
    ):
        assert secret not in text, secret
    assert text.count(logs.MASK) >= 7
    assert "Bearer [redacted]" in text and "refresh_token=[redacted]" in text
    assert "RuntimeError" in text  # the exception is still there, without its token


def test_words_that_only_sound_like_tokens_stay_as_they_are():
    for text in (
        "Basic authentication failed",
        "Bearer realm missing",
        "the refresh_token expired on 2026-11-01; reconnect QuickBooks",
        "client_secret is not set",
    ):
        assert logs.redact(text) == text
    assert logs.redact('{"refresh_token": "RT1-abcdef123"}') == '{"refresh_token": "[redacted]"}'


def test_the_cli_writes_readable_lines_to_stderr_only(tmp_path, capsys, monkeypatch):
    from functions.cli import main

    sample = Path(__file__).resolve().parents[1] / "functions" / "sample"
    export, categories = sample / "exports" / "october_toggl.csv", sample / "config" / "Categories.csv"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LOG_LEVEL", "INFO")
    monkeypatch.setenv("AI_ENABLED", "false")
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    try:
        assert main(["setup-sheet", "--json", "--categories", str(categories), "--workdir", str(tmp_path / "w")]) == 0
        capsys.readouterr()
        code = main(["refresh", "--json", "--csv", str(export), "--workdir", str(tmp_path / "w")])
    finally:
        for h in list(root.handlers):
            if h not in before:
                root.removeHandler(h)
        root.setLevel(level)
    captured = capsys.readouterr()
    assert code == 0 and json.loads(captured.out)["ok"] is True  # stdout is the JSON alone
    done = r"^\d\d:\d\d:\d\d INFO invoicing\.cli: refresh done in \d+\.\d\d s"
    assert re.search(done, captured.err, re.M), captured.err


def test_stage_log_says_each_step_started_and_ended_with_seconds_and_counts(captured):
    ticks = iter([0.0, 0.0, 1.5, 1.6, 1.7, 4.0, 9.25])
    stages = logs.StageLog("refresh", logging.getLogger("invoicing.stages"), clock=lambda: next(ticks))
    stages(1, 3, "reading the sheet")  # 0.0
    stages(2, 3, "suggesting categories")  # 1.5
    stages(0, 2, "Claude: 2 requests")  # 1.6 (a count inside the step)
    stages(2, 2, "Claude: 2 of 2 answered")  # 1.7
    stages(3, 3, "writing")  # 4.0
    stages.finish()  # 9.25
    got = [(line["message"], line.get("seconds")) for line in lines(captured)]
    assert got == [
        ("refresh: step 1/3 started: reading the sheet", None),
        ("refresh: step 1/3 ended after 1.50 s: reading the sheet", 1.5),
        ("refresh: step 2/3 started: suggesting categories", None),
        ("refresh: Claude: 2 requests (0/2)", None),
        ("refresh: Claude: 2 of 2 answered (2/2)", None),
        ("refresh: step 2/3 ended after 2.50 s: suggesting categories", 2.5),
        ("refresh: step 3/3 started: writing", None),
        ("refresh: step 3/3 ended after 5.25 s: writing", 5.25),
    ]
