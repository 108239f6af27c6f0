"""One error hierarchy for the whole pipeline.

Errors carry where they happened (a `Location`: tab and cell, or file and line) and read like sentences.
Marker classes say whether retrying can help: `Transient` (a 429, a 5xx, a timeout) or `Terminal`
(a 400, a validation fault, bad input). Retry decisions follow the type, never the message.

    >>> str(InputError("is not an amount: \\"12,5O\\"", Location(tab="Rates", cell="C7")))
    'Rates!C7: is not an amount: "12,5O"'
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """Where a problem is: a sheet cell (`Rates!C7`), a file line (`export.csv:12 (column Hours)`), or an entry."""

    tab: str | None = None
    cell: str | None = None
    file: str | None = None
    line: int | None = None
    column: str | None = None
    entry: str | None = None

    def __str__(self) -> str:
        if self.tab:
            return f"{self.tab}!{self.cell}" if self.cell else self.tab
        if self.file:
            text = self.file
            if self.line is not None:
                text += f":{self.line}"
            if self.column:
                text += f" (column {self.column})"
            return text
        return self.entry or "(unknown place)"


class InvoicingError(Exception):
    """Base of every error the pipeline raises on purpose."""


class Transient(InvoicingError):
    """Retrying later may succeed (rate limit, server error, timeout)."""


class Terminal(InvoicingError):
    """Retrying will not help: the input or the request must change."""


class InputError(Terminal):
    """One problem in something a person or a source gave us, with its location."""

    def __init__(self, message: str, location: Location | None = None):
        self.message = message
        self.location = location
        super().__init__(f"{location}: {message}" if location else message)


class InputErrors(Terminal):
    """Several input problems, reported at once; the run changed nothing."""

    def __init__(self, errors: list[InputError], what: str = "input"):
        self.errors = list(errors)
        lines = "\n".join(f"  - {e}" for e in self.errors[:50])
        more = f"\n  ... and {len(self.errors) - 50} more" if len(self.errors) > 50 else ""
        noun = "problem" if len(self.errors) == 1 else "problems"
        super().__init__(
            f"Found {len(self.errors)} {noun} in the {what}; nothing was changed "
            f"(docs/RUNBOOK.md#a-bad-cell-in-a-tab).\n"
            f"{lines}{more}"
        )


class ConfigError(Terminal):
    """Settings are missing or wrong (an env var, a path, a credential)."""


class AuthError(Terminal):
    """Credentials are missing, expired or revoked; the message says how to reconnect."""


class ConflictError(Terminal):
    """What exists in the accounting system disagrees with what we would create."""


class PartialCreateError(Terminal):
    """Some invoices were created and some were refused. `created` (CreatedInvoice records) lists the ones
    that exist, so the pipeline writes them back before reporting; a re-run returns them as "existing"."""

    def __init__(self, message: str, created: list):  # list[CreatedInvoice]; errors stays import-free
        super().__init__(message)
        self.created = created


class LockedError(Transient):
    """Another run holds the lock; try again when it is done."""


class InvariantError(InvoicingError):
    """A guarantee of the pipeline would have been broken (a bug, not bad input); the run wrote nothing."""
