"""Payment terms: `Net 30` or `Due on receipt` -> days until the invoice is due.

>>> parse_terms("net 45")
('Net 45', 45)
>>> due_date(date(2026, 11, 1), 15)
datetime.date(2026, 11, 16)
"""

from __future__ import annotations

import re
from datetime import date, timedelta

DEFAULT_TERMS = ("Net 30", 30)
_NET = re.compile(r"^net\s*(\d{1,3})$", re.IGNORECASE)


def parse_terms(text: str) -> tuple[str, int]:
    """(label, days). Blank means Net 30. Raises ValueError with a sentence for anything else."""
    s = " ".join(text.split())
    if not s:
        return DEFAULT_TERMS
    if s.casefold() in ("due on receipt", "on receipt", "receipt", "net 0", "net0"):
        return ("Due on receipt", 0)
    m = _NET.match(s)
    if m and 0 <= int(m.group(1)) <= 180:
        days = int(m.group(1))
        return (f"Net {days}", days) if days else ("Due on receipt", 0)
    raise ValueError(f'"{text}" is not a payment term (write Net 15, Net 30, Net 45, Net 60 or Due on receipt)')


def due_date(issue_date: date, days: int) -> date:
    return issue_date + timedelta(days=days)
