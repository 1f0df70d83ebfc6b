"""Watch a folder tree (watch.py) and record each settled file in the ledger before enqueueing it (intake.py)."""
