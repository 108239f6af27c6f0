"""The dependency rule, checked from the source: entry points -> pipeline -> ports <- adapters; the billing core
sees records only (models, money, errors); no adapter reaches into another stage's code; only main.py chooses
between the command line and the Cloud Functions.

Imports are read with `ast` (nothing is imported to check), so a new module is held to the rule the day it is
added.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "functions"

# What each part of the package may import from the rest of it (beyond itself and the standard library).
SHARED = {"models", "money", "errors", "values", "collector"}  # collector: the run's garbage-collector policy
ALLOWED = {
    "billing": {"models", "money", "errors"},
    "categorize": SHARED | {"ports", "transport", "settings"},
    "sources": SHARED | {"ports", "transport", "settings"},
    # the client-facing line descriptions: reads billing results, reuses the Claude stage's parts
    "describe": SHARED | {"ports", "transport", "settings", "categorize", "billing"},
    "accounting": SHARED | {"ports", "transport", "settings", "auth"},
    "sheet": SHARED | {"ports", "transport", "settings", "auth", "billing", "summaries"},
    "transport": {"errors"},
    "settings": {"errors", "accounting"},
    "models": {"money"},
    "values": {"money"},
}


def internal_imports(path: Path) -> set[str]:
    """The first-level parts of `functions` a module imports (`..billing.engine` -> `billing`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    rel = path.relative_to(PACKAGE).with_suffix("").parts
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:  # from .x / from ..x / from . import x
            base = list(rel[: len(rel) - node.level])
            if node.module:
                targets = [base + node.module.split(".")]
            else:
                targets = [base + [alias.name] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("functions."):
            targets = [str(node.module).split(".")[1:]]
        elif isinstance(node, ast.Import):
            targets = [a.name.split(".")[1:] for a in node.names if a.name.startswith("functions.")]
        else:
            continue
        out.update(t[0] for t in targets if t)
    return out


def part_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize(
    "path", [p for p in MODULES if part_of(p) in ALLOWED], ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_each_part_imports_only_what_the_rule_allows(path: Path) -> None:
    part = part_of(path)
    extra = internal_imports(path) - ALLOWED[part] - {part}
    assert not extra, f"functions/{path.relative_to(PACKAGE)} ({part}) imports {sorted(extra)}"


def test_no_module_imports_an_entry_point() -> None:
    """cli and cloud are entry points: main.py picks one; nothing in the package depends on either (the AWS
    Lambda entry, aws.py, is one too: it runs the jobs through cloud's runner, as the Cloud Functions do)."""
    offenders = [
        str(p.relative_to(PACKAGE))
        for p in MODULES
        if p.stem not in ("cli", "cloud", "aws") and internal_imports(p) & {"cli", "cloud", "aws"}
    ]
    assert offenders == []


def test_the_checker_reads_relative_and_absolute_imports(tmp_path: Path) -> None:
    """The rule cannot pass by reading nothing: the parser finds each form of import."""
    module = PACKAGE / "billing" / "engine.py"
    assert {"models", "money"} <= internal_imports(module)
    assert "engine" not in internal_imports(module)  # `from .client import` stays inside billing
    assert internal_imports(PACKAGE / "pipeline.py") >= {"billing", "sheet", "config", "summaries"}
