"""Tests of the web app (a package, so its conftest does not shadow tests/conftest.py)."""
