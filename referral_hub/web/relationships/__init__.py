"""The web side of relationships: its blueprint, forms and pages."""
