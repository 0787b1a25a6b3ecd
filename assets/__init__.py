"""Carbon assets: the ledger, offsets, ETS position, the zero-carbon scorecard and disclosure."""
