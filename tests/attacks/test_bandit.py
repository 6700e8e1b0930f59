"""bandit finds no medium or high severity issue in the application code; each silenced one says why."""

import json
import re
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
PACKAGE = PROJECT / "referral_hub"
BANDIT = Path(sys.executable).parent / "bandit"
# An accepted false positive names the test it silences and the reason: `# nosec B608: <why>`.
REASONED_NOSEC = re.compile(r"#\s*nosec\s+B\d{3}(,\s*B\d{3})*:\s*\S")


def test_bandit_finds_no_medium_or_high_severity_issue():
    run = subprocess.run(
        [BANDIT, "--recursive", str(PACKAGE), "--severity-level", "medium", "--format", "json", "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(run.stdout)
    assert report["errors"] == [], report["errors"]
    findings = [
        f"{Path(r['filename']).relative_to(PROJECT)}:{r['line_number']} {r['test_id']} "
        f"{r['issue_severity']}: {r['issue_text']}"
        for r in report["results"]
    ]
    assert findings == [], "\n".join(findings)
    assert run.returncode == 0, run.stderr
    scanned = {Path(name) for name in report["metrics"] if name != "_totals"}
    assert scanned == set(PACKAGE.rglob("*.py")), "bandit did not read every module"


def test_every_silenced_bandit_finding_names_its_test_and_reason():
    unexplained = [
        f"{path.relative_to(PROJECT)}:{number}: {line.strip()}"
        for path in PACKAGE.rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "nosec" in line and not REASONED_NOSEC.search(line)
    ]
    assert unexplained == [], "\n".join(unexplained)
