"""Helpers shared by the test packages (never collected as tests)."""
