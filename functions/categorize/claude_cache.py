"""The Claude stage's answer cache: in memory for the process and, with `AI_CACHE_PATH`, in a JSON file, so a
re-run of the same month sends nothing.

Answers are keyed by hashes only (of the model and Categories tab, and of the normalized description), so
the file holds no note text. A cache that cannot be read or written is logged and ignored, never fatal.

    >>> cache = AnswerCache(None)
    >>> cache.put("sig", "wip", {"category": "Development"})
    >>> cache.get("sig", "wip"), cache.get("other", "wip")
    ({'category': 'Development'}, None)
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from ..ports import CategorizeContext

log = logging.getLogger(__name__)

_CACHE_VERSION = 1


def signature(model: str, ctx: CategorizeContext) -> str:
    """What an answer depends on besides the description: the model and the categories with their meaning."""
    cats = "|".join(f"{c.name}={c.meaning}" for c in ctx.categories)
    return hashlib.sha256(f"{model}\n{cats}".encode()).hexdigest()[:16]


class AnswerCache:
    """Answers by (signature, item key); the file at `path` is read on first use and written by `save()`."""

    def __init__(self, path: Path | None):
        self.path = path
        self._memo: dict[str, dict[str, Any]] = {}
        self._disk_loaded = False
        self._lock = threading.Lock()

    @staticmethod
    def _key(signature: str, key: str) -> str:
        # Hashes only: the cache file holds no note text.
        return hashlib.sha256(f"{signature}\n{key}".encode()).hexdigest()[:32]

    def get(self, signature: str, key: str) -> dict[str, Any] | None:
        self._load()
        return self._memo.get(self._key(signature, key))

    def put(self, signature: str, key: str, value: dict[str, Any]) -> None:
        with self._lock:
            self._memo[self._key(signature, key)] = value

    def _load(self) -> None:
        path = self.path
        if self._disk_loaded or path is None:
            return
        self._disk_loaded = True
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            if data.get("version") == _CACHE_VERSION and isinstance(data.get("answers"), dict):
                for k, v in data["answers"].items():
                    self._memo.setdefault(k, v)
        except FileNotFoundError:
            return
        except (OSError, ValueError, AttributeError):
            log.warning("The AI answer cache at %s could not be read; starting a new one.", path)

    def save(self) -> None:
        if self.path is None:
            return
        path = Path(self.path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".ai-cache-", suffix=".json")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"version": _CACHE_VERSION, "answers": self._memo}, fh, ensure_ascii=False)
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("The AI answer cache at %s could not be written (%s).", path, type(exc).__name__)
