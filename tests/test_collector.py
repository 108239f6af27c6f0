"""The garbage collector during a run: paused and frozen while a session holds its records, and as it was once
the job ends, whether the session committed or raised."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from functions import collector, pipeline
from functions.config import Settings, bootstrap
from functions.errors import InvoicingError
from functions.models import Period
from tests.fakes import MemorySheet


def test_a_job_that_raises_leaves_the_collector_as_it_was(tmp_path: Path):
    before = gc.get_threshold()
    sheet = MemorySheet()  # no Categories: refresh stops after its session opened and read the tabs
    services = bootstrap(Settings(workdir=tmp_path), sheet=sheet)
    with pytest.raises(InvoicingError):
        pipeline.refresh(services, Period.parse("2026-10"))
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0 and gc.isenabled()


def test_a_paused_step_that_raises_turns_the_collector_back_on():
    @collector.collector_paused
    def step() -> None:
        assert not gc.isenabled()
        raise ValueError("stop")

    with pytest.raises(ValueError):
        step()
    assert gc.isenabled()


def test_inside_a_run_what_a_step_keeps_is_frozen_until_the_job_ends():
    before = gc.get_threshold()
    kept: list[object] = []
    with collector.job():
        collector.roomy()
        assert collector.in_run() and gc.get_threshold() == collector.RUN_THRESHOLD
        with collector.paused():
            kept.extend(object() for _ in range(1000))
        assert gc.get_freeze_count() >= 1000
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == before
