"""The web side of reports: the JSON API, its documentation, and the API tokens page."""
