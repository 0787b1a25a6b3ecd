"""What the forecast page shows, fetched through the API client (in parallel) and shaped as
plain data: the forecast with its band, the model in force with its backtest scores, past
forecasts against the actuals and the tracked error per day (``/forecasts``,
``/forecasts/past``, ``/forecasts/accuracy``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from dashboard.client import ApiClient, ApiError, NotAvailable, Unreachable
from dashboard.data import local_name
from dashboard.i18n import DASH, TEXT, fmt_num, fmt_pct, t

HORIZONS = {"24h": 24, "7d": 168}  # the page's two leads: day ahead, seven days
PAST_DAYS = {"24h": 7, "7d": 14}  # days of past forecasts drawn against the actuals
TRACK_DAYS = 30  # days of tracked error
BASELINE = "naive_weekly"


@dataclass
class ForecastView:
    reachable: bool = True
    subject: dict = field(default_factory=dict)  # {"site": …} or {"meter": …}
    tz: str = "UTC"
    forecast: dict | None = None
    accuracy: dict | None = None
    past: dict | None = None
    notes: dict[str, str] = field(default_factory=dict)  # per part: why it is missing


def model_label(name: str | None, lang: str) -> str:
    """A model's name for people (``naive_weekly`` → "Seasonal naive, weekly")."""
    if not name:
        return DASH
    key = f"fc_m_{name}"
    return t(key, lang) if key in TEXT else name


def subject_of(site: str | None, meter: str | None) -> dict:
    if meter:
        return {"meter": meter}
    return {"site": site} if site else {}


def meter_options(meters: list[dict], site: str | None, lang: str) -> list[dict]:
    """The site's meters that are forecast (energy meters and kW gauges)."""
    return [
        {"label": f"{m['code']} · {local_name(m['name'], lang)}", "value": m["code"]}
        for m in meters
        if m["site"] == site and (m["kind"] != "gauge" or m.get("canonical_unit") == "kW")
    ]


def _tz(api: ApiClient, site: str | None, meter: str | None) -> str:
    sites = {s["code"]: s for s in api.sites()}
    if meter:
        found = next((m for m in api.meters() if m["code"] == meter), None)
        site = found["site"] if found else site
    return sites.get(site or "", {}).get("timezone") or "UTC"


def forecast_view(
    api: ApiClient, site: str | None, meter: str | None, horizon: str, lang: str
) -> ForecastView:
    """Everything the page draws for one subject and lead; a part the API cannot answer
    (no forecast yet, nothing tracked yet) carries its note instead."""
    horizon = horizon if horizon in HORIZONS else "24h"
    subject = subject_of(site, meter)
    if not subject:
        return ForecastView()
    try:
        tz = _tz(api, site, meter)
    except Unreachable:
        return ForecastView(reachable=False, subject=subject)
    except ApiError as exc:
        return ForecastView(subject=subject, notes={"forecast": exc.detail})
    futures = {
        "forecast": api.submit(api.forecast, subject, horizon),
        "accuracy": api.submit(api.forecast_accuracy, subject, TRACK_DAYS),
        "past": api.submit(api.past_forecasts, subject, horizon, PAST_DAYS[horizon]),
    }
    view = ForecastView(subject=subject, tz=tz)
    for name, future in futures.items():
        try:
            setattr(view, name, future.result())
        except Unreachable:
            return ForecastView(reachable=False, subject=subject)
        except NotAvailable:
            view.notes[name] = t("not_available", lang)
        except ApiError as exc:
            view.notes[name] = exc.detail
    return view


def in_force(accuracy: dict | None, horizon: str) -> dict | None:
    if not accuracy:
        return None
    return accuracy.get("in_force", {}).get(f"{HORIZONS[horizon]}h")


def backtest_rows(accuracy: dict | None, horizon: str, lang: str) -> list[dict]:
    """The candidates of the nightly selection in force, best MASE first: MASE, WAPE, MAE
    (kW), 90 % coverage, which one was selected and which ones the drift rule left out."""
    run = in_force(accuracy, horizon)
    if not run or not run.get("backtest"):
        return []
    bt = run["backtest"]
    demoted = set(bt.get("demoted", []))
    unit = accuracy.get("unit", "") if accuracy else ""
    rows = []
    for name, s in (bt.get("candidates") or {}).items():
        error = s.get("error")
        rows.append(
            {
                "model": name,
                "label": model_label(name, lang),
                "selected": name == run["model"],
                "mase": DASH if error else fmt_num(s.get("mase"), "", 3),
                "wape": DASH if error else fmt_pct(s.get("wape")),
                "mae": DASH if error else fmt_num(s.get("mae"), unit),
                "coverage": DASH if error else fmt_pct(s.get("coverage_90")),
                "note": error or "",
                "sort": s.get("mase") if isinstance(s.get("mase"), float | int) else 1e9,
            }
        )
    for name in sorted(demoted - {r["model"] for r in rows}):
        rows.append(
            {
                "model": name,
                "label": model_label(name, lang),
                "selected": False,
                "mase": DASH,
                "wape": DASH,
                "mae": DASH,
                "coverage": DASH,
                "note": t("fc_demoted", lang),
                "sort": 2e9,
            }
        )
    return sorted(rows, key=lambda r: r["sort"])


def tracked_rows(accuracy: dict | None, horizon: str, lang: str) -> list[dict]:
    """Each model's tracked error pooled over the days shown, for the chosen lead."""
    if not accuracy:
        return []
    unit = accuracy.get("unit", "")
    lead = HORIZONS[horizon]
    drift = accuracy.get("drift", {}).get("models", {})
    rows = []
    for m in accuracy.get("models", []):
        if m["horizon_h"] != lead:
            continue
        verdict = drift.get(m["model"], {}) if lead == 24 else {}
        rows.append(
            {
                "model": m["model"],
                "label": model_label(m["model"], lang),
                "days": f"{m['days']:,}",
                "mae": fmt_num(m["mae"], unit),
                "naive_mae": fmt_num(m["naive_mae"], unit),
                "ratio": fmt_num(m["ratio"], "", 2),
                "wape": fmt_pct(m["wape"]),
                "coverage": fmt_pct(m["coverage_90"]),
                "demoted": bool(verdict.get("demoted")),
            }
        )
    return rows


def drift_rule_text(accuracy: dict | None, lang: str) -> str:
    if not accuracy or "drift" not in accuracy:
        return ""
    rule = accuracy["drift"]["rule"]
    return t(
        "fc_rule",
        lang,
        days=rule["days"],
        min_days=rule["min_days"],
        margin=f"{rule['margin'] * 100:.0f}",
        baseline=model_label(accuracy["drift"].get("baseline", BASELINE), lang),
    )
