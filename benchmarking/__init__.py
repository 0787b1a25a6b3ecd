"""Benchmarking (能效对标): the benchmark library, processes and their ratings, internal
ranking, the equipment register and the site energy balance."""
