"""Fixtures for the browser journeys: one Chromium per run, a `journey` per test at each viewport."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.browser.journey import CHROMIUM_ARGS, VIEWPORTS, Journey
from tests.journeys.conftest import live_app, smtp_inbox  # noqa: F401 - fixtures, shared with tests/journeys

HERE = Path(__file__).parent
AXE_VERSION = "4.10.2"
# Installed once from the npm registry into a cache folder that outlives the run (CI sets AXE_CACHE).
AXE_CACHE = Path(
    os.environ.get("AXE_CACHE", Path.home() / ".cache" / "referral-hub" / f"axe-core-{AXE_VERSION}")
)


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


@pytest.fixture(scope="session")
def axe() -> Path:
    """axe-core's script, to inject into every page of the journeys."""
    script = AXE_CACHE / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        AXE_CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                shutil.which("npm") or "npm",
                "install",
                "--no-audit",
                "--no-fund",
                "--silent",
                "--prefix",
                str(AXE_CACHE),
                f"axe-core@{AXE_VERSION}",
            ],
            check=True,
            timeout=300,
        )
    return script


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request) -> str:
    return request.param


@pytest.fixture
def journey(request, chromium, live_app, smtp_inbox, viewport, axe):  # noqa: F811 - the fixtures imported above
    walk = Journey(chromium, live_app, smtp_inbox, viewport, axe)
    yield walk
    screenshot = (
        request.config.rootpath / "test-artifacts" / "browser" / f"{request.node.originalname}-{viewport}.png"
    )
    walk.finish(screenshot)
