"""The web side of needs: its blueprint, forms and pages."""
