"""Entry points: the command line (`python main.py --help`) and the Google Cloud Functions.

The Cloud Functions (`refresh`, `preview`, `create_invoices`) are HTTP functions for functions-framework;
deploy them with `--entry-point refresh` etc. (see deploy/ and docs/google.md). Both the CLI and the
functions are thin calls into functions.pipeline.

Each side imports only its own code, because a Cloud Function's cold start is the time to import it: the
functions are looked up on first use (module `__getattr__`), so the CLI never loads flask or
functions-framework, and the functions never load the CLI's terminal output (rich).
"""

from __future__ import annotations

import sys
from typing import Any

CLOUD_FUNCTIONS = ("refresh", "preview", "create_invoices")


def __getattr__(name: str) -> Any:
    if name in CLOUD_FUNCTIONS:
        from functions import cloud

        return getattr(cloud, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *CLOUD_FUNCTIONS])


if __name__ == "__main__":
    from functions.cli import main

    sys.exit(main())
