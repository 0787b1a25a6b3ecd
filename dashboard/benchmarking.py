"""What the benchmarking page shows, fetched through the API client and shaped as plain data:
process ratings with traffic lights and level sources, the balance table and its Sankey
links, the recommendations list."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from dashboard.client import ApiClient
from dashboard.i18n import DASH, TEXT, fmt_num, fmt_pct, t

LIGHT_CLASS = {"green": "good", "amber": "warn", "red": "bad", "grey": "muted"}


@dataclass
class BenchmarkingSnapshot:
    ratings: list[dict] = field(default_factory=list)
    balance: list[tuple[str, str]] = field(default_factory=list)
    sankey: dict = field(default_factory=dict)
    recs: list[dict] = field(default_factory=list)


def _levels(lv: dict) -> str:
    return " / ".join(
        DASH if lv.get(k) is None else f"{lv[k]:g}" for k in ("level_1", "level_2", "level_3")
    )


def rating_rows(bench: dict, lang: str) -> list[dict]:
    rows = []
    for p in bench["processes"]:
        src = p["source"] or DASH
        if p.get("single_source"):
            src = f"⚠ {t('bm_single_source', lang)} · {src}"
        lv = p["levels"]
        rows.append(
            {
                "code": p["process"],
                "process": f"{p['process']} · {p['product']}",
                "output": fmt_num(p["output"], p["unit"]),
                "unit_consumption": fmt_num(p["unit_consumption_kgce"], p["unit_consumption_unit"]),
                "levels": f"{_levels(lv)} ({p.get('standard') or DASH})",
                "benchmark": f"{DASH if lv.get('benchmark') is None else lv['benchmark']:} / "
                f"{DASH if lv.get('baseline') is None else lv['baseline']}",
                "rating": t(f"bm_{p['rating']}", lang),
                "light": LIGHT_CLASS.get(p["light"], "muted"),
                "rank": DASH if not p.get("rank") else f"{p['rank']['position']}/{p['rank']['of']}",
                "source": f"{src} — {p['verification'] or DASH}",
            }
        )
    return rows


def balance_rows(b: dict, lang: str) -> list[tuple[str, str]]:
    u = b["unit"]
    i = b["inputs"]
    return [
        (t("bm_purchased", lang), fmt_num(i["purchased"], u)),
        (t("bm_generated", lang), fmt_num(i["generated"], u)),
        (t("bm_stored", lang), fmt_num(i["stored"], u)),
        (t("bm_export", lang), fmt_num(-i["export"], u)),
        (t("bm_consumption", lang), fmt_num(b["consumption"], u)),
        (t("bm_end_uses", lang), fmt_num(b["end_use_total"], u)),
        (t("bm_metered_losses", lang), fmt_num(b["metered_losses"], u)),
        (t("bm_unmetered", lang), fmt_num(b["unmetered_remainder"], u)),
        (t("bm_metered_share", lang), fmt_pct(b["metered_share"])),
        (t("bm_closes", lang), "✓" if b["closes"] else "✗"),
    ]


def sankey_links(b: dict, lang: str) -> dict:
    """Inputs → site → end uses by workshop, metered losses, unmetered remainder."""
    site = b["site"]
    labels = [t("bm_purchased", lang), t("bm_generated", lang), site]
    src, dst, val = [0, 1], [2, 2], [b["inputs"]["purchased"], b["inputs"]["generated"]]
    for name, v in (
        *b["end_uses_by_site"].items(),
        (t("bm_metered_losses", lang), b["metered_losses"]),
        (t("bm_unmetered", lang), b["unmetered_remainder"]),
        (t("bm_export", lang), b["inputs"]["export"]),
    ):
        if v and v > 0:
            labels.append(name)
            src.append(2)
            dst.append(len(labels) - 1)
            val.append(v)
    return {"labels": labels, "source": src, "target": dst, "value": val, "unit": b["unit"]}


def _t_or(key: str, fallback: str, lang: str) -> str:
    return t(key, lang) if key in TEXT else fallback


def rec_rows(recs: list[dict], lang: str) -> list[dict]:
    return [
        {
            "id": r["id"],
            "kind": _t_or(f"bm_kind_{r['kind']}", r["kind"], lang),
            "title": r["title_zh"] if lang == "zh" else r["title"],
            "kwh": fmt_num(r["savings_kwh_per_year"], "kWh"),
            "cny": fmt_num(float(r["savings_cny_per_year"]), "CNY"),
            "tco2": fmt_num(r["savings_tco2_per_year"], "tCO₂"),
            "confidence": _t_or(f"bm_conf_{r['confidence']}", r["confidence"], lang),
            "status": _t_or(f"bm_status_{r['status']}", r["status"], lang)
            + (f" ({r['reason']})" if r.get("reason") else ""),
        }
        for r in recs
    ]


def snapshot(
    api: ApiClient, site: str, start: datetime, end: datetime, carrier: str, lang: str
) -> BenchmarkingSnapshot:
    bench = api.submit(api.benchmarking, site, start, end)
    bal = api.submit(api.balance, site, start, end, carrier)
    recs = api.submit(api.recommendations, site)
    b = bal.result()
    return BenchmarkingSnapshot(
        ratings=rating_rows(bench.result(), lang),
        balance=balance_rows(b, lang),
        sankey=sankey_links(b, lang),
        recs=rec_rows(recs.result(), lang),
    )


def evidence_series(api: ApiClient, site: str, rec: dict) -> tuple[list, list[float], float | None]:
    """The window of a recommendation's evidence as (timestamps, kW, reference kW): the
    site's load for site-wide kinds, the equipment meter otherwise (hourly)."""
    ev = rec["evidence"]
    window = ev.get("window")
    if not window:
        return [], [], None
    start = datetime.fromisoformat(window["start"])
    end = datetime.fromisoformat(window["end"])
    ref = ev.get("base_kw") or ev.get("max_15min_kw") or ev.get("off_production_kw")
    meters = ev.get("meters") or []
    if rec["kind"] in ("base_load", "contracted_demand", "power_factor") or not meters:
        pts = api.load(site, start, end, "1h")["points"]
        return [p["ts"] for p in pts], [p["load_kw"] for p in pts], ref
    pts = api.series(meters[0], start, end, "1h")["points"]
    return [p["ts"] for p in pts], [float(p["value"] or 0.0) for p in pts], ref
