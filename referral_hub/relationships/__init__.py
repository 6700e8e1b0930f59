"""Relationships: who knows whom and how well, keep-in-touch nudges, connectors, and matching needs."""
