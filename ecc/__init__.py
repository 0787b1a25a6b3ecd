"""Core of the energy-carbon management center: settings, database, CLI."""

__version__ = "0.1.0"
