"""Carbon assets and zero carbon: the ledger of certificates, credits and allowances, offsets
and net emissions, the ETS position, the zero-carbon scorecard, disclosure and the verifier's
package."""
