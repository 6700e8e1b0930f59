"""Introductions: double-opt-in introductions, their email links, answers and outcomes."""
