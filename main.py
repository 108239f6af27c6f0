"""Entry points: the command line (`python main.py --help`) and the Google Cloud Functions.

The Cloud Functions (`refresh`, `preview`, `create_invoices`) are HTTP functions for functions-framework;
deploy them with `--entry-point refresh` etc. (see deploy/ and docs/google.md). Both the CLI and the
functions are thin calls into functions.pipeline.
"""

from __future__ import annotations

import sys

from functions.cli import main
from functions.cloud import create_invoices, preview, refresh  # noqa: F401  (the Cloud Functions)

if __name__ == "__main__":
    sys.exit(main())
