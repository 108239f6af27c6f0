"""Tax codes: which code each line carries for the accounting system.

A tax-exempt client's lines are all `NON` (QuickBooks' non-taxable code). Otherwise a line takes its line
item's code (a Rules rollup, fixed fee, milestone or expense row's Tax Code), else the client's Tax Code.
The engine does not compute tax: the accounting system does, from these codes.
"""

from __future__ import annotations

EXEMPT_CODE = "NON"


def line_tax_code(*, exempt: bool, line_code: str, client_code: str) -> str:
    if exempt:
        return EXEMPT_CODE
    return line_code or client_code
