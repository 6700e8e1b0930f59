"""Accounts: members' sign-up, email verification, log-in, passwords and profiles."""
