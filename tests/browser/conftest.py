"""Fixtures for the browser journeys: one Chromium per run, a `journey` per test at each viewport."""

from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.browser.journey import CHROMIUM_ARGS, VIEWPORTS, Journey
from tests.journeys.conftest import live_app, smtp_inbox  # noqa: F401 - fixtures, shared with tests/journeys

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items):
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.slow)
            item.add_marker(pytest.mark.live)


@pytest.fixture(scope="session")
def playwright():
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="session")
def chromium(playwright):
    browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request) -> str:
    return request.param


@pytest.fixture
def journey(request, chromium, live_app, smtp_inbox, viewport):  # noqa: F811 - the fixtures imported above
    walk = Journey(chromium, live_app, smtp_inbox, viewport)
    yield walk
    screenshot = (
        request.config.rootpath / "test-artifacts" / "browser" / f"{request.node.originalname}-{viewport}.png"
    )
    walk.finish(screenshot)
