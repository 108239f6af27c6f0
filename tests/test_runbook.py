"""docs/RUNBOOK.md and the messages that point at it.

Every `docs/RUNBOOK.md#anchor` written in functions/ must have its section, and every error the product
raises that asks a person to act (a credential to renew, an invoice in the way, a run to repeat) must
carry such a pointer: read from the source, so a new message without one fails here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUNBOOK = ROOT / "docs" / "RUNBOOK.md"
POINTER = re.compile(r"docs/RUNBOOK\.md#([a-z0-9-]+)")
ACTIONABLE = {"AuthError", "ConflictError", "LockedError", "PartialCreateError", "ConcurrentChange"}


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors() -> set[str]:
    return {slug(m.group(1)) for m in re.finditer(r"^#{1,6} (.+)$", RUNBOOK.read_text(), re.MULTILINE)}


def sources() -> list[Path]:
    return sorted((ROOT / "functions").rglob("*.py"))


def test_every_pointer_in_the_code_has_its_section() -> None:
    have = anchors()
    used = {(p.relative_to(ROOT).as_posix(), a) for p in sources() for a in POINTER.findall(p.read_text())}
    assert len({a for _, a in used}) >= 15
    missing = sorted(f"{path}: #{a}" for path, a in used if a not in have)
    assert not missing, "sections missing in docs/RUNBOOK.md:\n" + "\n".join(missing)


def test_the_runbook_links_inside_itself_resolve() -> None:
    have = anchors()
    links = re.findall(r"\]\(#([a-z0-9-]+)\)", RUNBOOK.read_text())
    assert links and not [a for a in links if a not in have]


def _strings(node: ast.AST, constants: dict[str, str]) -> str:
    """The text a raise or an error-table row can produce: its string parts and the module constants it uses."""
    parts: list[str] = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            parts.append(sub.value)
        elif isinstance(sub, ast.Name) and sub.id in constants:
            parts.append(constants[sub.id])
        elif isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.func.attr in constants:
            parts.append(constants[sub.func.attr])  # self._conflict_message()
    return " ".join(parts)


def _constants(trees: dict[Path, ast.Module]) -> dict[str, str]:
    """Module-level string constants and one-return message methods, across the package (RECONNECT, ...)."""
    out: dict[str, str] = {}
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                text = _strings(node.value, {})
                if text:
                    out[node.targets[0].id] = text
            elif isinstance(node, ast.FunctionDef) and node.name.endswith("_message"):
                out[node.name] = _strings(node, {})
    return out


def actionable_messages() -> list[tuple[str, str]]:
    """(file:line, text) of each raise of an actionable class and each error-table row that builds one."""
    trees = {p: ast.parse(p.read_text()) for p in sources()}
    constants = _constants(trees)
    found: list[tuple[str, str]] = []
    for path, tree in trees.items():
        where = path.relative_to(ROOT).as_posix()
        for node in ast.walk(tree):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                func = node.exc.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if name in ACTIONABLE:
                    found.append((f"{where}:{node.lineno}", _strings(node.exc, constants)))
            elif isinstance(node, ast.Tuple) and len(node.elts) == 2 and isinstance(node.elts[0], ast.Name):
                if node.elts[0].id in ACTIONABLE:
                    found.append((f"{where}:{node.lineno}", _strings(node.elts[1], constants)))
    return found


# Caller authentication (functions/auth.py) answers a request that is not allowed: 401/403 to a caller
# who is not an operator, nothing for the on-call person to do; the sign-in answers of `connect quickbooks`
# that only ask to paste the whole address are read by the person at the prompt.
EXEMPT = {
    "functions/auth.py": "",
    "functions/accounting/qbo_connect.py": "paste the whole address",
    "functions/accounting/xero_connect.py": "paste the whole address",  # a prompt answered at once, like QuickBooks'
}


def test_every_actionable_error_points_at_the_runbook() -> None:
    messages = actionable_messages()
    assert len(messages) >= 20, messages
    without = [
        f"{where}: {text[:90]}"
        for where, text in messages
        if not POINTER.search(text) and EXEMPT.get(where.split(":")[0], "\0") not in text
    ]
    assert not without, "errors that ask to act without a runbook pointer:\n" + "\n".join(without)


def test_the_messages_a_person_sees_carry_the_pointer() -> None:
    """The texts themselves, as the code builds them (a table of the messages changed for the runbook)."""
    from functions.accounting import qbo_client
    from functions.accounting.qbo_tokens import RECONNECT
    from functions.capacity import TooBigForFunction, check
    from functions.cloud import instance_lock
    from functions.errors import InputError, InputErrors, Location, LockedError
    from functions.sheet import gsheets_http
    from functions.sheet.gsheets_write import capacity_note, over_limit

    with pytest.raises(LockedError) as locked:
        with instance_lock("runbook-test"), instance_lock("runbook-test"):
            pass
    with pytest.raises(TooBigForFunction) as too_big:
        check(100_000, "512Mi", "refresh")
    table = {
        "quickbooks-token-expired-or-revoked": [RECONNECT, str(qbo_client.ERRORS.error(401, what="creating"))],
        "quota-exhausted-or-429": [
            str(qbo_client.ERRORS.error("gave up", what="creating", last="HTTP 429", attempts=5)),
            str(gsheets_http.ERRORS.error("gave up", what="the write", last="429", attempts=6)),
        ],
        "share-and-set-up-the-sheet": [str(gsheets_http.ERRORS.error(403, what="reading"))],
        "a-sheet-near-its-cell-limit": [over_limit(10_000_001), capacity_note(9_600_000)],
        "a-bad-cell-in-a-tab": [str(InputErrors([InputError('"12,5O" is not an amount', Location("Rates", "C7"))]))],
        "another-run-is-running": [str(locked.value)],
        "month-too-big-for-the-function": [str(too_big.value)],
    }
    for anchor, texts in table.items():
        assert anchor in anchors()
        for text in texts:
            assert f"docs/RUNBOOK.md#{anchor}" in text, text
