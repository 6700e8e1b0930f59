"""Jobs: the periodic work of the installation (expiry, the digest, ...), run once per period by any
number of workers, each run recorded in `job_runs`; `status(now)` is what operators and metrics read."""

from .health import JobStatus, status

__all__ = ["JobStatus", "status"]
