"""`python -m tests.jobs.flask_at MOMENT [--flaky] ARGS...`: `flask --app referral_hub ARGS` in a process
whose clock starts at MOMENT (ISO 8601) and runs on from there; `--flaky` registers the failing job."""

import sys
from datetime import datetime

import time_machine


def main(argv: list[str]) -> None:
    moment, args = datetime.fromisoformat(argv[0]), argv[1:]
    with time_machine.travel(moment, tick=True):
        if args[:1] == ["--flaky"]:
            from referral_hub.jobs.schedule import JOBS
            from tests.jobs.conftest import failing_job

            JOBS["flaky"] = failing_job()
            args = args[1:]
        from flask.cli import main as flask

        sys.argv = ["flask", "--app", "referral_hub", *args]
        flask()


if __name__ == "__main__":
    main(sys.argv[1:])
