"""The web side of chapters: its blueprint, forms and pages."""
