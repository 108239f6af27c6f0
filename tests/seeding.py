"""Fill a sheet's Categories tab before a first refresh, as a new agency does with
`python main.py setup-sheet --categories ...` (a refresh into an empty Categories tab stops)."""

from __future__ import annotations

from pathlib import Path

from functions.config import Services
from functions.ports import SheetStore
from functions.sheet.session import SheetSession

SAMPLE_CONFIG = Path(__file__).resolve().parents[1] / "functions" / "sample" / "config"


def seed_categories(store: SheetStore, config_dir: Path = SAMPLE_CONFIG) -> SheetStore:
    """The demo agency's categories (or `config_dir`'s Categories.csv) in an empty Categories tab."""
    store.ensure_layout()
    sheet = SheetSession(store, ["Categories"])
    sheet.seed_config(["Categories"], config_dir)
    sheet.commit()
    return store


def with_categories(services: Services) -> Services:
    """`services` whose sheet has the demo agency's categories (seeded when its Categories tab is empty)."""
    seed_categories(services.sheet)
    return services
