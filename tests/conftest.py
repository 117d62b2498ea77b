"""Fixtures shared by the project's own tests (keep area-specific fixtures in their modules)."""

pytest_plugins = ["pytester"]
