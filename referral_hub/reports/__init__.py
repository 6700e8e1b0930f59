"""Organizer reports: the JSON API, its tokens, and the figures and charts of the chapter dashboard."""
