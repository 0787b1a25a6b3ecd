"""Carbon assets and zero carbon: the ledger, offsets, the ETS position, the scorecard."""
