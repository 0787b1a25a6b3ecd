"""Demo plant: a described site/meter tree and a seeded, realistic history generator.

``ecc.demo.plant`` holds the static description (sites, meters, load profiles);
``ecc.demo.history`` turns it into readings (bulk history or one live step).
Pure Python + numpy: no database, no network.
"""

from ecc.demo.history import GeneratorState, MeterChunk, generate, live_step
from ecc.demo.plant import METERS, PROFILES, SITES, meter_tree

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
