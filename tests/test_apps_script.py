"""The sheet's Invoicing menu (Apps Script) is tested with node's test runner, Apps Script globals stubbed.

This runs those tests as part of the suite, so the README's one test command covers them too.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

MENU = Path(__file__).resolve().parents[1] / "sheet_templates" / "apps_script"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed (the menu's tests need Node 18+)")
def test_menu_tests_pass_under_node():
    result = subprocess.run(["node", "--test", "test/"], cwd=MENU, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# fail 0" in result.stdout and "# pass 0" not in result.stdout


def test_manifest_has_the_scopes_the_menu_needs():
    import json

    manifest = json.loads((MENU / "appsscript.json").read_text())
    scopes = set(manifest["oauthScopes"])
    assert {
        "openid",
        "https://www.googleapis.com/auth/userinfo.email",
        "https://www.googleapis.com/auth/script.external_request",
    } <= scopes
