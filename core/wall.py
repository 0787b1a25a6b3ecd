"""The wall screen's KPI tiles: the keys a site's ``wall_tiles``, ``?tiles=`` and
``ECC_WALL_TILES`` may name (the API checks a site's list against them; the dashboard draws
them). The order here is the order of the default setting."""

from __future__ import annotations

TILES: tuple[str, ...] = (
    "load_now",
    "energy_today",
    "cost_today",
    "budget_month",
    "co2_today",
    "carbon_intensity",
    "renewable_share",
    "green_share",
    "net_emissions_year",
    "devices_offline",
    "collection_rate",
)
MAX_TILES = 12


def check_tiles(keys: list[str]) -> str | None:
    """Why a list of tile keys is not a wall's list (``None``: it is)."""
    if len(keys) > MAX_TILES:
        return f"at most {MAX_TILES} tiles"
    unknown = [k for k in keys if k not in TILES]
    if unknown:
        return f"unknown tile {unknown[0]!r}; known: {', '.join(TILES)}"
    if len(set(keys)) != len(keys):
        return "a tile is named twice"
    return None
