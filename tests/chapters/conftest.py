"""Fixtures for chapter tests: the races share the accounts tests' real-commit fixture."""

from tests.accounts.conftest import committed  # noqa: F401 - a fixture, found by name
