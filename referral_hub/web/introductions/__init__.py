"""The web side of introductions: its blueprint, forms and pages."""
