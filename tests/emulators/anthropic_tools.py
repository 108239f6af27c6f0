"""Client tools for the Anthropic emulator: request checks and a forced tool call's answer.

Shaped after the Messages API tool-use reference (platform.claude.com agents-and-tools/tool-use): a tool is
`{name, description, input_schema}` with a name of 1 to 64 letters, digits, `_` or `-`; `tool_choice`
`{"type": "tool", "name": ...}` forces that tool, which must be among `tools`, and cannot be combined with
extended thinking; a `strict` tool's schema must close every object (`additionalProperties: false`). The
answer is one `tool_use` content block (`id` "toolu_...", `name`, `input`) and `stop_reason: "tool_use"`.

The one tool answered here is the line-description tool (`write_line_descriptions`): it reads the JSON list
in `<lines>...</lines>` of the user message and writes `Line item (distinguish): notes — N tasks`, with the
count word in the line's language. Faults: `refusal`, `no_tool` (a text answer instead of the call),
`missing_id`, `append:TEXT` (TEXT added to the first description, to test what the caller rejects).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from typing import Any

_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_TASKS = {"de": ("Aufgabe", "Aufgaben"), "fr": ("tâche", "tâches"), "es": ("tarea", "tareas")}


def validate_tools(body: dict[str, Any], open_object: Callable[[Any, str], str]) -> str:
    """The 400 message for a request whose tools or tool_choice the API refuses, or ""."""
    tools = body.get("tools")
    choice = body.get("tool_choice")
    if tools is None:
        return "tool_choice: may only be specified while providing tools" if choice else ""
    if not isinstance(tools, list):
        return "tools: Input should be a valid list"
    names = []
    for i, t in enumerate(tools):
        if not isinstance(t, dict) or not _NAME.match(str(t.get("name", ""))):
            return f"tools.{i}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'"
        if not isinstance(t.get("input_schema"), dict) or t["input_schema"].get("type") != "object":
            return f"tools.{i}.custom.input_schema: Input should be an object schema"
        if t.get("strict"):
            where = open_object(t["input_schema"], f"tools.{i}.custom.input_schema")
            if where:
                return f"{where}: For 'object' type, 'additionalProperties' must be explicitly set to false"
        names.append(t["name"])
    if len(set(names)) != len(names):
        return "tools: Tool names must be unique."
    if isinstance(choice, dict) and choice.get("type") == "tool":
        if choice.get("name") not in names:
            return f"tool_choice.name: Tool '{choice.get('name')}' not found in tools"
        thinking = body.get("thinking") or {}
        if isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive"):
            return "Thinking may not be enabled when tool_choice forces tool use."
    return ""


def forced_tool(body: dict[str, Any]) -> str:
    """The name of the tool `tool_choice` forces, or ""."""
    choice = body.get("tool_choice")
    return str(choice.get("name")) if isinstance(choice, dict) and choice.get("type") == "tool" else ""


def _tidy(notes: list[str]) -> str:
    seen: dict[str, str] = {}
    for n in notes:
        text = re.sub(r"\s+", " ", str(n)).strip(" .;,")
        text = re.sub(r"\bwip\b", "work in progress", text, flags=re.IGNORECASE)
        text = re.sub(r"\bpr\b", "pull request", text, flags=re.IGNORECASE)
        if text:
            seen.setdefault(text.casefold(), text)
    parts = list(seen.values())[:3]
    return ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1] if parts else "work"


def describe_lines(user_text: str) -> list[dict[str, str]]:
    m = re.search(r"<lines>(.*?)</lines>", user_text, re.DOTALL)
    try:
        lines = json.loads(m.group(1)) if m else []
    except json.JSONDecodeError:
        lines = []
    out = []
    for line in lines if isinstance(lines, list) else []:
        head = str(line.get("line_item") or line.get("project") or "Work")
        if line.get("project_label"):
            head = f"{line['project_label']} · {head}"
        if line.get("distinguish"):
            head += f" ({line['distinguish']})"
        n = int(line.get("entries") or 0)
        one, many = _TASKS.get(str(line.get("language") or "en")[:2].casefold(), ("task", "tasks"))
        keys = line.get("jira_keys") or []
        text = f"{head}: {_tidy(list(line.get('notes') or line.get('tasks') or []))}"
        if keys:
            text += f" ({', '.join(keys[:4])})"
        out.append({"id": str(line.get("id")), "description": f"{text} — {n} {one if n == 1 else many}"})
    return out


def tool_answer(body: dict[str, Any], user_text: str, fault: str | None) -> tuple[list[dict[str, Any]], str, str]:
    """(content blocks, stop_reason, the text counted as output) for a forced call of the description tool."""
    lines = describe_lines(user_text)
    if fault == "refusal":
        text = "I can't help with describing this content."
        return [{"type": "text", "text": text}], "refusal", text
    if fault == "no_tool":
        text = "Here are the descriptions: " + "; ".join(x["description"] for x in lines)
        return [{"type": "text", "text": text}], "end_turn", text
    if fault == "missing_id" and lines:
        lines.pop(0)
    if fault and fault.startswith("append:") and lines:
        lines[0]["description"] += " " + fault.split(":", 1)[1]
    payload = {"lines": lines}
    block = {"type": "tool_use", "id": "toolu_" + uuid.uuid4().hex[:24], "name": forced_tool(body), "input": payload}
    return [block], "tool_use", json.dumps(payload)
