"""Demo plant: a described site/meter tree and a seeded, realistic history generator.

``shell.demo.plant`` holds the static description (sites, meters, load profiles);
``shell.demo.history`` turns it into readings (history and the live stream alike).
Pure Python + numpy: no database, no network.
"""

from shell.demo.history import GeneratorState, MeterChunk, generate
from shell.demo.plant import METERS, PROFILES, SITES, meter_tree

__all__ = [
    "METERS",
    "PROFILES",
    "SITES",
    "GeneratorState",
    "MeterChunk",
    "generate",
    "meter_tree",
]
