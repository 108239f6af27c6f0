"""The CLI's live progress: the pipeline's Progress callback drawn as rich progress bars on stderr.

    bars = Bars(Console(stderr=True))
    pipeline.refresh(services, period, progress=bars)   # [n/5] steps, and under each the counts it reports
    bars.stop()

Only on a terminal and never under --json (functions/cli.py decides); the Cloud Functions log the same
stages instead (functions/logs.py StageLog).
"""

from __future__ import annotations

from typing import Any

from rich.console import Console


class Bars:
    """The Progress callback as rich progress bars: the job's steps (the first count it reports, `[n/5]`), and
    under it the counts a step reports while it runs (files read, API pages, invoices created), each with its
    elapsed time. A count of another total, or one that starts over, is a new bar; a step's bar is finished
    when the job moves on."""

    def __init__(self, console: Console) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bars = Progress(
            TextColumn("{task.description}"),
            BarColumn(bar_width=30),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.steps: Any = None  # (task id, total) of the job's steps
        self.step = 0  # the step the job is at
        self.inner: Any = None  # (task id, total, done) of the count running inside a step
        self.started = False

    def __call__(self, done: int, total: int, what: str) -> None:
        if not self.started:
            self.bars.start()
            self.started = True
        inner_running = self.inner is not None and self.inner[2] < self.inner[1]
        if self.steps is None:
            self.steps = (self.bars.add_task(what, total=total, completed=done), total)
            self.step = done
        elif total == self.steps[1] and not inner_running and done == self.step + 1:
            # the job's next step (a count of the same total that starts at 0, Claude's 5 requests, is not)
            self._finish_inner()
            self.step = done
            self.bars.update(self.steps[0], completed=done, description=what)
        else:
            if self.inner is None or total != self.inner[1] or done < self.inner[2]:
                self._finish_inner()
                self.inner = (self.bars.add_task(f"  {what}", total=total, completed=done), total, done)
            self.inner = (self.inner[0], total, done)
            self.bars.update(self.inner[0], completed=done, description=f"  {what}")

    def _finish_inner(self) -> None:
        if self.inner is not None:
            self.bars.update(self.inner[0], completed=self.inner[1])
            self.inner = None

    def stop(self) -> None:
        if self.started:
            self._finish_inner()
            if self.steps is not None:
                self.bars.update(self.steps[0], completed=self.steps[1])
            self.bars.stop()
            self.started = False
