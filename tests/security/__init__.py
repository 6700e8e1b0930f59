"""Security suites that run in the quick test run: the access-control matrix of every route."""
