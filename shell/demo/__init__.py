"""Demo plant: a described site/meter tree and a seeded, realistic history generator.

``shell.demo.plant`` holds the static description (sites, meters, load profiles);
``shell.demo.history`` turns it into readings (bulk history or one live step).
Pure Python + numpy: no database, no network.
"""

from shell.demo.history import GeneratorState, MeterChunk, generate, live_step
from shell.demo.plant import METERS, PROFILES, SITES, meter_tree

__all__ = [
    "METERS",
    "PROFILES",
    "SITES",
    "GeneratorState",
    "MeterChunk",
    "generate",
    "live_step",
    "meter_tree",
]
