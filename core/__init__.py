"""Ground floor: settings, database, units and domain errors. Imports nothing of the house."""

__version__ = "0.1.0"
