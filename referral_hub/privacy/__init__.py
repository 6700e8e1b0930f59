"""A member's own data: the export of everything the product holds about them, and the account's erasure."""
