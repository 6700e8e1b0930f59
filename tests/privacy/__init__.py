"""Tests of referral_hub.privacy: the export and the erasure of an account."""
