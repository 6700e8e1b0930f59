"""The web side of accounts: its blueprint, forms and pages."""
