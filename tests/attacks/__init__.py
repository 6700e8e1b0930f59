"""Attack suites: SQL injection, schema fuzzing and static analysis against the app as deployed."""
