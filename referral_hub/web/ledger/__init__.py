"""The web side of ledger: its blueprint, forms and pages."""
