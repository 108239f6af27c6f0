"""pytest plugins shared by the suite: the Google emulator fixtures (Sheets API, ID-token certificates), and
hypothesis's profiles: on CI (`CI` set) every property test draws the same examples each run, so a red run
is reproducible and never a draw of luck; elsewhere each run explores new examples."""

import os

from hypothesis import settings

pytest_plugins = ["tests.emulators.google_fixtures", "tests.faults.report"]  # report: the fault matrix tried

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
