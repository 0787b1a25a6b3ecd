"""What the zero-carbon page shows, fetched through the API client and shaped as plain data:
the scorecard rows with traffic lights, the net-emissions waterfall steps, the ledger table."""

from __future__ import annotations

from dataclasses import dataclass, field

from dashboard.client import ApiClient
from dashboard.i18n import DASH, fmt_num, t

STATUS_KEY = {
    "met": "zc_met",
    "not met": "zc_not_met",
    "not measured": "zc_not_measured",
    "no threshold": "zc_no_threshold",
}
SYMBOL = {"<=": "≤", ">=": "≥"}
LIGHT = {"met": "good", "not met": "bad", "not measured": "muted", "no threshold": "muted"}


@dataclass
class ZeroCarbonSnapshot:
    rows: list[dict] = field(default_factory=list)
    steps: list[tuple[str, float, str]] = field(default_factory=list)
    ledger: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _value(v: float | None, unit: str) -> str:
    if v is None:
        return DASH
    if unit == "%":
        return fmt_num(v, "%", 1)
    if unit == "tCO2/tce":
        return fmt_num(v, "tCO₂/tce", 3)
    if unit == "of 12":
        return fmt_num(v, "/ 12", 0)
    return fmt_num(v, unit)


def scorecard_rows(card: dict, lang: str) -> list[dict]:
    """One row per indicator: name in the page's language, value and threshold with units,
    translated status and its traffic-light class, the threshold's source and verification."""
    rows = []
    for i in card["indicators"]:
        th = i["threshold"]
        rows.append(
            {
                "code": i["code"],
                "indicator": i["name_zh"] if lang == "zh" else i["name"],
                "value": _value(i["value"], i["unit"]),
                "threshold": DASH
                if th is None
                else f"{SYMBOL[th['comparison']]} {_value(th['value'], i['unit'])}",
                "status": t(STATUS_KEY.get(i["status"], "zc_not_measured"), lang),
                "light": LIGHT.get(i["status"], "muted"),
                "source": DASH if th is None else f"{th['source']} — {th['verification']}",
            }
        )
    return rows


def waterfall_steps(off: dict, lang: str) -> list[tuple[str, float, str]]:
    """Gross → − own reductions → residual → − offsets → net, in tCO₂ (kind: total|delta)."""
    f = {k: float(off[k]) for k in ("gross_tco2", "reductions_tco2", "residual_tco2")}
    return [
        (t("zc_gross", lang), f["gross_tco2"], "total"),
        (t("zc_reductions", lang), -f["reductions_tco2"], "delta"),
        (t("zc_residual", lang), f["residual_tco2"], "total"),
        (t("zc_offsets", lang), -float(off["offsets_tco2"]), "delta"),
        (t("zc_net_short", lang), float(off["net_tco2"]), "total"),
    ]


def ledger_rows(assets: list[dict]) -> list[dict]:
    return [
        {
            "kind": a["kind"],
            "serial": a["serial"] or (a["serial_from"] and f"{a['serial_from']}–{a['serial_to']}"),
            "quantity": fmt_num(float(a["quantity"]), a["unit"]),
            "available": fmt_num(float(a["available"]), a["unit"]),
            "vintage": a["vintage"],
            "status": a["status"],
        }
        for a in assets
    ]


def snapshot(api: ApiClient, site: str, year: int, lang: str) -> ZeroCarbonSnapshot:
    """Scorecard, offsets and ledger fetched in parallel."""
    card = api.submit(api.scorecard, site, year)
    off = api.submit(api.offsets, site, year)
    assets = api.submit(api.carbon_assets, site)
    o = off.result()
    return ZeroCarbonSnapshot(
        rows=scorecard_rows(card.result(), lang),
        steps=waterfall_steps(o, lang),
        ledger=ledger_rows(assets.result()),
        warnings=[w["message"] for w in o["warnings"]],
    )
