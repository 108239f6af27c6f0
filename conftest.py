"""pytest plugins shared by the suite: the Google emulator fixtures (Sheets API, ID-token certificates)."""

pytest_plugins = ["tests.emulators.google_fixtures"]
