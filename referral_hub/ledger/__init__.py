"""The reciprocity ledger: credits that reward giving before asking."""
