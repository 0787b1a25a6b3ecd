"""Top floor, the application shell.

The `ecc` CLI, the scheduler job list, demo, benchmarks and CSV import.
"""
