"""The architecture, checked: no package cycles, and a domain core that reads no Flask request.

`lint-imports` (contracts in pyproject.toml, run by .ci/run) checks the domain order and that the
core imports no web layer, command line or forms; these tests check what import-linter cannot.
"""

import ast
import graphlib
import itertools
from pathlib import Path

import grimp
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "referral_hub"
CORE = (
    "accounts",
    "chapters",
    "ledger",
    "mail",
    "needs",
    "introductions",
    "relationships",
    "reports",
    "jobs",
)
# What only a request has: a core service gets typed values from the web layer instead.
REQUEST_BOUND = {"request", "session", "g", "url_for", "flash", "redirect", "abort", "make_response"}


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("referral_hub")


def test_no_two_sibling_packages_import_each_other_in_a_cycle(graph):
    for package in ("referral_hub", "referral_hub.web", "referral_hub.cli"):
        siblings = sorted(graph.find_children(package))
        depends_on = {name: set() for name in siblings}
        for importer, imported in itertools.permutations(siblings, 2):
            if graph.chain_exists(importer=importer, imported=imported, as_packages=True):
                depends_on[importer].add(imported)
        # Raises CycleError, naming the cycle, when there is one.
        graphlib.TopologicalSorter(depends_on).prepare()


@pytest.mark.parametrize("domain", CORE)
def test_the_domain_core_reads_no_request(domain):
    for module in sorted((PACKAGE / domain).rglob("*.py")):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "flask":
                names = {alias.name for alias in node.names} & REQUEST_BOUND
                assert not names, f"{module.relative_to(PACKAGE)} imports {names} from flask"


def test_views_take_rate_limits_through_web_limits():
    """The limiter checks no request by itself: a `limiter.limit` decorator anywhere but in
    web/limits.py would count nothing (the API's blueprint limits are checked by the blueprint)."""
    allowed = {PACKAGE / "web" / "limits.py", PACKAGE / "web" / "reports" / "views.py"}
    for module in sorted(PACKAGE.rglob("*.py")):
        if module not in allowed:
            assert "limiter.limit(" not in module.read_text(), (
                f"{module.relative_to(PACKAGE)}: use web.limits.limit"
            )
