"""Importing zone ledgers from Excel/CSV: upload, map columns, dry run, commit, revert (blueprint ``imports``)."""
