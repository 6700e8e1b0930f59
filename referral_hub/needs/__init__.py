"""Needs: what members ask their chapter for, the board that lists them, and their expiry."""
