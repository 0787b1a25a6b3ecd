"""Product carbon footprints (GB/T 24067) and supply-chain carbon (design: README)."""
