"""Chapters: the forums members belong to, membership, invitations and the member directory."""
