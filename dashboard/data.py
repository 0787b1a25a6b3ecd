"""Pure shaping of API answers into what the pages show (no I/O, unit-tested).

Vocabulary (README "Canonical units"): a meter's ``total`` is its energy over a period in
its canonical unit; ``load_kw`` is site electricity demand = grid import + on-site
generation − export, per interval, divided by the interval length in hours. The API computes
the balance and the load (``/sites/{code}/load``, which also says which meters count); the
functions here only shape its answers.

Energy flow (the wall's Sankey): sources (top-level meters: grid, PV, gas, purchased steam
…) → distribution (the meter tree at plant level) → workshops (the sites directly below
the plant). At every distribution node the difference parent − Σ children is drawn as its
own flow to "Unmetered & losses"; nothing is scaled to make the picture balance.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from core import wall
from core.exports import safe_cell
from core.settings import get_settings
from dashboard.i18n import t


def default_tz() -> str:
    """Zone of a site the API gave none for (``ECC_TIMEZONE``); sites carry their own."""
    return get_settings().timezone


# Carriers bought or generated on site (primary for the plant). Water is not energy;
# compressed air and cooling are made on site from these, so drawing them would count twice.
PURCHASED = (
    "electricity",
    "natural_gas",
    "steam",
    "heat",
    "hot_water",
    "coal",
    "diesel",
    "gasoline",
    "lpg",
    "fuel_oil",
)
GENERATION = ("pv_generation", "wind_generation")
EXPORT = ("grid_export",)
SOURCE_TEXT = {
    "electricity": "src_grid",
    "natural_gas": "src_natural_gas",
    "steam": "src_steam",
    "heat": "src_heat",
    "hot_water": "src_heat",
    "pv_generation": "src_pv",
    "wind_generation": "src_pv",
}
PRIORITIES = ("critical", "high", "medium", "low")
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def local_name(name: str, lang: str) -> str:
    """``"Stamping feeder 冲压车间馈线"`` → the English or the Chinese half (bilingual
    names are the convention of the demo plant; other names are returned as they are)."""
    m = _CJK.search(name)
    if m is None:
        return name
    cut = name.rfind(" ", 0, m.start()) + 1  # the word holding the first CJK character
    if cut == 0:
        return name
    en, zh = name[:cut].strip(), name[cut:].strip()
    return zh if lang == "zh" else en


# -- the site tree and the meters in it --------------------------------------------------


def site_children(sites: list[dict]) -> dict[str | None, list[str]]:
    out: dict[str | None, list[str]] = defaultdict(list)
    for s in sites:
        out[s["parent"]].append(s["code"])
    return out


def subtree(sites: list[dict], root: str) -> list[str]:
    kids = site_children(sites)
    order, todo = [], [root]
    while todo:
        code = todo.pop(0)
        order.append(code)
        todo.extend(kids.get(code, []))
    return order


def default_site(sites: list[dict], meters: list[dict]) -> str | None:
    """The root site whose tree holds the most meters (the wall's site unless chosen)."""
    roots = [s["code"] for s in sites if s["parent"] is None]
    if not roots:
        return None
    count = defaultdict(int)
    for m in meters:
        count[m["site"]] += 1
    return max(roots, key=lambda r: (sum(count[c] for c in subtree(sites, r)), r))


def wall_tiles(
    screen: list[str] | None, site: list[str] | None, default: list[str] | None
) -> list[str]:
    """The KPI tiles a wall shows, in order: the screen's ``?tiles=``, else the site's own
    ``wall_tiles``, else ``ECC_WALL_TILES``, else every tile (``core.wall.TILES``)."""
    for keys in (screen, site, default):
        if keys:
            return list(keys)
    return list(wall.TILES)


@dataclass
class Scope:
    """A site, its descendants and the meters installed in them."""

    site: str
    sites: dict[str, dict]
    meters: dict[str, dict]
    tz: str = field(default_factory=default_tz)


def scope(sites: list[dict], meters: list[dict], site: str) -> Scope:
    by_code = {s["code"]: s for s in sites}
    codes = set(subtree(sites, site))
    return Scope(
        site=site,
        sites={c: by_code[c] for c in codes},
        meters={m["code"]: m for m in meters if m["site"] in codes},
        tz=by_code[site].get("timezone") or default_tz(),
    )


# -- load and energy ---------------------------------------------------------------------

BUCKET_S = {"1m": 60, "15m": 900, "1h": 3600, "1d": 86400}


def meter_totals(*answers: dict) -> dict[str, float]:
    """Per-meter totals of several ``/sites/{code}/totals`` answers over adjacent periods."""
    out: dict[str, float] = defaultdict(float)
    for a in answers:
        for m in a["meters"]:
            out[m["meter"]] += m["total"]
    return dict(out)


def load_frame(answer: dict, complete_only: bool = True) -> pd.DataFrame:
    """A ``/sites/{code}/load`` answer per bucket: ``ts`` (bucket start, UTC), ``load_kw``,
    ``gen_kw``, ``consumption_kwh`` and ``complete``. ``complete_only`` drops the buckets that
    end after the latest reading (a partial bucket would read as a fall in load)."""
    points = [p for p in answer.get("points", []) if p["complete"] or not complete_only]
    if not points:
        return pd.DataFrame(
            {
                "ts": pd.Series(dtype="datetime64[ns, UTC]"),
                "load_kw": pd.Series(dtype=float),
                "gen_kw": pd.Series(dtype=float),
                "consumption_kwh": pd.Series(dtype=float),
                "complete": pd.Series(dtype=bool),
            }
        )
    df = pd.DataFrame(points)
    per_h = 3600.0 / BUCKET_S[answer["resolution"]]
    return pd.DataFrame(
        {
            "ts": pd.to_datetime(df["ts"], utc=True, format="ISO8601"),
            "load_kw": df["load_kw"].astype(float),
            "gen_kw": df["generation"].astype(float) * per_h,
            "consumption_kwh": df["consumption"].astype(float),
            "complete": df["complete"].astype(bool),
        }
    )


def load_now(answer: dict) -> tuple[float | None, datetime | None]:
    """The API's load now (kW) and the latest reading it is measured up to;
    ``(None, None)`` without readings."""
    now = answer.get("now")
    if not now:
        return None, None
    return now["load_kw"], datetime.fromisoformat(now["ts"])


def consumption_kwh(answer: dict) -> float:
    """Site consumption over the answer's whole period (kWh, as the API totals it)."""
    return float(answer["totals"]["consumption"])


def load_interval_s(sc: Scope, answer: dict) -> int:
    """The longest reporting interval among the meters the site's load is made of."""
    codes = [c for codes in answer.get("meters", {}).values() for c in codes]
    return max([int(sc.meters[c]["interval_s"]) for c in codes if c in sc.meters] or [60])


def change_pct(now: float | None, before: float | None) -> float | None:
    if now is None or before is None or before == 0:
        return None
    return (now - before) / abs(before) * 100.0


# -- energy flow -------------------------------------------------------------------------


def _ancestors(sc: Scope, site: str) -> list[str]:
    out = []
    while site in sc.sites:
        out.append(site)
        site = sc.sites[site]["parent"]
    return out


def hub_site(sc: Scope, codes: list[str]) -> str:
    """The lowest site containing every one of these meters (the plant)."""
    chains = [list(reversed(_ancestors(sc, sc.meters[c]["site"]))) for c in codes]
    if not chains:
        return sc.site
    hub = sc.site
    for level in zip(*chains, strict=False):
        if len(set(level)) != 1:
            break
        hub = level[0]
    return hub


def workshop_of(sc: Scope, site: str, hub: str) -> str | None:
    """The site directly below the hub that contains ``site`` (None at hub level)."""
    chain = _ancestors(sc, site)
    if hub not in chain or chain[0] == hub:
        return None
    return chain[chain.index(hub) - 1]


@dataclass
class Flows:
    links: pd.DataFrame  # source, target, value, carrier, kind ("supply"|"feed"|"loss"|"export")
    labels: dict[str, str]  # node id → label
    unit: str
    columns: dict[str, int] = field(default_factory=dict)  # node id → column (0 source … 3)


def energy_flows(
    sc: Scope, totals: dict[str, float], tce_per_unit: dict[str, float] | None, lang: str
) -> Flows:
    """Links of the energy-flow Sankey over one period.

    ``tce_per_unit`` (carrier → tce per canonical unit, from the carbon service) puts every
    carrier in tce; without it only electricity is drawn, in kWh.
    """
    if tce_per_unit is None:
        factor = {c: 1.0 for c in ("electricity", *GENERATION, *EXPORT)}
        unit = "kWh"
    else:
        factor = dict(tce_per_unit)
        unit = "tce"
    energy = {
        c: m
        for c, m in sc.meters.items()
        if m["kind"] != "gauge"
        and m["carrier"] in factor
        and m["carrier"] in (*PURCHASED, *GENERATION, *EXPORT)
    }
    kids: dict[str, list[str]] = defaultdict(list)
    for c, m in sorted(energy.items()):
        p = m["parent"]
        if p in energy and energy[p]["carrier"] == m["carrier"]:
            kids[p].append(c)
    tops = sorted(
        c
        for c, m in energy.items()
        if not (m["parent"] in energy and energy[m["parent"]]["carrier"] == m["carrier"])
    )
    hub = hub_site(sc, tops)
    links: list[tuple[str, str, float, str, str]] = []
    labels: dict[str, str] = {"losses": t("losses", lang), "export": t("export", lang)}
    columns: dict[str, int] = {}

    def q(code: str) -> float:
        return max(0.0, totals.get(code, 0.0)) * factor[energy[code]["carrier"]]

    def shop(code: str) -> str | None:
        ws = workshop_of(sc, energy[code]["site"], hub)
        if ws is not None:
            labels["ws:" + ws] = local_name(sc.sites[ws]["name"], lang)
            columns["ws:" + ws] = 3
        return None if ws is None else "ws:" + ws

    def fed(code: str) -> bool:
        """A feeder: its parent meter is outside this site (a workshop's feeder seen from
        the workshop), so what it measures is this site's own supply, not the grid's."""
        parent = energy[code]["parent"]
        return parent is not None and parent not in sc.meters

    def own_use() -> str:
        """The hub site's own use: where a source without sub-meters delivers."""
        node = "ws:" + hub
        labels[node] = local_name(sc.sites[hub]["name"], lang)
        columns[node] = 3
        return node

    def distribute(
        node: str,
        inflow: float,
        children: list[str],
        carrier: str,
        depth: int,
        own: bool = False,
    ) -> None:
        """Links from ``node`` to its sub-meters (or their workshops) and the remainder: the
        unmetered share and losses; a source without sub-meters (``own``: a workshop's
        feeder, steam bought into it) is all the site's own use."""
        feed: dict[str, float] = defaultdict(float)
        for ch in children:
            ws = shop(ch)
            if ws is None:  # still distribution (plant level): its own node
                cid = "m:" + ch
                labels[cid] = local_name(energy[ch]["name"], lang)
                columns[cid] = min(depth + 1, 2)
                links.append((node, cid, q(ch), carrier, "feed"))
                distribute(cid, q(ch), kids.get(ch, []), carrier, depth + 1)
            else:
                feed[ws] += q(ch)
        for ws, v in sorted(feed.items()):
            links.append((node, ws, v, carrier, "feed"))
        rest = inflow - sum(q(ch) for ch in children)
        if rest > 1e-9 * max(1.0, inflow):
            if own and not children:
                links.append((node, own_use(), rest, carrier, "feed"))
            else:
                links.append((node, "losses", rest, carrier, "loss"))

    by_carrier: dict[str, list[str]] = defaultdict(list)
    for c in tops:
        by_carrier[energy[c]["carrier"]].append(c)
    gen, exp = (
        by_carrier.pop("pv_generation", []) + by_carrier.pop("wind_generation", []),
        by_carrier.pop("grid_export", []),
    )
    for carrier, codes in sorted(by_carrier.items()):
        src_label = t(SOURCE_TEXT.get(carrier, "src_other"), lang)
        use_bus = carrier == "electricity" and (gen or exp or len(codes) > 1)
        bus = "bus:" + carrier
        if use_bus:
            labels[bus] = t("electricity_kwh", lang)
            columns[bus] = 1
        bus_in = 0.0
        for c in codes:
            sid = "src:" + c
            labels[sid] = (
                local_name(energy[c]["name"], lang)  # a feeder is named, not "Grid"
                if fed(c)
                else src_label
                if len(codes) == 1
                else f"{src_label} · {local_name(energy[c]['name'], lang)}"
            )
            columns[sid] = 0
            ws = shop(c)
            if ws is not None:  # bought straight into a workshop (e.g. purchased steam)
                links.append((sid, ws, q(c), carrier, "supply"))
            elif use_bus:
                links.append((sid, bus, q(c), carrier, "supply"))
                bus_in += q(c)
            else:
                distribute(sid, q(c), kids.get(c, []), carrier, 0, own=True)
        if use_bus:
            for g in gen:
                sid = "src:" + g
                labels[sid] = (
                    t("src_pv", lang)
                    if len(gen) == 1
                    else f"{t('src_pv', lang)} · {local_name(energy[g]['name'], lang)}"
                )
                columns[sid] = 0
                links.append((sid, bus, q(g), energy[g]["carrier"], "supply"))
                bus_in += q(g)
            for e in exp:
                links.append((bus, "export", q(e), "grid_export", "export"))
                bus_in -= q(e)
            children = [ch for c in codes for ch in kids.get(c, [])]
            distribute(bus, bus_in, children, carrier, 1, own=True)
    columns.setdefault("losses", 3)
    columns.setdefault("export", 2)
    df = pd.DataFrame(links, columns=["source", "target", "value", "carrier", "kind"])
    df = df[df["value"] > 0].reset_index(drop=True)
    used = set(df["source"]) | set(df["target"])
    return Flows(
        links=df,
        labels={k: v for k, v in labels.items() if k in used},
        unit=unit,
        columns={k: v for k, v in columns.items() if k in used},
    )


def tce_factors(emissions: dict) -> dict[str, float]:
    """tce per canonical unit of each carrier, read off the carbon service's answer."""
    out = {}
    for row in emissions.get("by_carrier", []):
        if row.get("quantity"):
            out[row["carrier"]] = float(row["tce"]) / float(row["quantity"])
    return out


# -- forecasts and alarms (other services' answers, read defensively) -------------------

_TS_KEYS = ("ts", "time", "timestamp", "start")
_VALUE_KEYS = ("value", "yhat", "mean", "p50", "q50", "forecast", "predicted")
_LOWER_KEYS = ("lower", "yhat_lower", "lo", "p05", "q05", "p10", "q10", "lower_90")
_UPPER_KEYS = ("upper", "yhat_upper", "hi", "p95", "q95", "p90", "q90", "upper_90")


def _first(d: dict, keys: tuple[str, ...]) -> object:
    for k in keys:
        if d.get(k) is not None:
            return d[k]
    return None


def _points(answer: object) -> list[dict]:
    if isinstance(answer, list):
        if answer and isinstance(answer[0], dict) and "points" in answer[0]:
            return [p for run in answer for p in run.get("points", [])]
        return [p for p in answer if isinstance(p, dict)]
    if isinstance(answer, dict):
        for k in ("points", "forecast", "forecasts", "items", "data"):
            if isinstance(answer.get(k), list):
                return _points(answer[k])
    return []


def forecast_frame(answer: object) -> pd.DataFrame | None:
    """``ts, value, lower, upper`` from a forecasts answer; None when it holds no points."""
    rows = []
    for p in _points(answer):
        ts, v = _first(p, _TS_KEYS), _first(p, _VALUE_KEYS)
        if ts is None or v is None:
            continue
        lo, hi = _first(p, _LOWER_KEYS), _first(p, _UPPER_KEYS)
        rows.append(
            (ts, float(v), None if lo is None else float(lo), None if hi is None else float(hi))
        )
    if not rows:
        return None
    df = pd.DataFrame(rows, columns=["ts", "value", "lower", "upper"])
    df["ts"] = pd.to_datetime(df["ts"], utc=True, format="ISO8601")
    return df.sort_values("ts").reset_index(drop=True)


def alarm_rows(answer: object) -> list[dict]:
    """Alarms normalised to ``id, priority, state, acknowledged, message, subject, since``,
    most urgent first (priority, then oldest)."""
    items = answer if isinstance(answer, list) else _points(answer)
    out = []
    for a in items:
        state = str(a.get("state", "active"))
        acked = a.get("acknowledged")
        if acked is None:
            low = state.lower()
            acked = ("acknowledged" in low and "unacknowledged" not in low) or a.get(
                "acknowledged_at"
            ) is not None
        priority = str(a.get("priority", "low")).lower()
        out.append(
            {
                "id": str(a.get("id", "")),
                "priority": priority if priority in PRIORITIES else "low",
                "state": state,
                "acknowledged": bool(acked),
                "message": str(
                    a.get("message") or a.get("rule_name") or a.get("name") or a.get("rule") or ""
                ),
                "subject": str(a.get("meter") or a.get("site") or a.get("subject") or ""),
                "since": str(
                    _first(
                        a,
                        ("raised_at", "activated_at", "active_since", "since", "created_at", "ts"),
                    )
                    or ""
                ),
                "comment": str(a.get("comment") or ""),
                "value": a.get("value"),
                "limit": a.get("limit"),
                "unit": str(a.get("unit") or ""),
            }
        )
    out.sort(key=lambda r: (PRIORITIES.index(r["priority"]), r["since"]))
    return out


# -- tables for export -------------------------------------------------------------------


def series_frame(answer: dict) -> pd.DataFrame:
    """A ``/meters/{code}/series`` answer as a frame (``ts`` UTC + the point fields)."""
    df = pd.DataFrame(answer.get("points", []))
    if df.empty:
        return pd.DataFrame(
            {"ts": pd.Series(dtype="datetime64[ns, UTC]"), "value": pd.Series(dtype=float)}
        )
    df["ts"] = pd.to_datetime(df["ts"], utc=True, format="ISO8601")
    return df.dropna(axis=1, how="all")


def unit_text(meter: dict, lang: str) -> str:
    """What a meter's numbers are, in words: ``kWh — energy per bucket (chart)``, ``kW —
    power, mean per bucket``; the unit it reports in when stored in another one."""
    unit, canonical = meter["unit"], meter["canonical_unit"]
    what = t("unit_gauge" if meter["kind"] == "gauge" else "unit_energy", lang, unit=canonical)
    if unit != canonical:
        what += " · " + t("unit_reported", lang, unit=unit)
    return what


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text cell safe for spreadsheets (`core.exports.safe_cell`)."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype):
            out[col] = out[col].map(safe_cell)
    out.columns = [safe_cell(c) if isinstance(c, str) else c for c in out.columns]
    return out
