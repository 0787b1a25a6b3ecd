"""What the engineer's alarm console does, as plain functions over the API client: the alarm
list of a filter, an alarm's detail with its history, the history over a time range, rule
bodies built from the rule-type catalog the API serves, save / enable / disable / delete a
rule, try a rule on history, and the alarm-system KPIs. Texts in the person's language."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dashboard import data
from dashboard.client import ApiClient, ApiError, NotAvailable, Rejected, Unreachable
from dashboard.i18n import DASH, TEXT, fmt_num, fmt_time, t

FILTERS = ("active", "unacknowledged", "shelved", "out_of_service", "all", "history")
TRY_DAYS = 7
TRY_LISTED = 5  # activation times spelled out
HISTORY_SHOWN = 200  # newest events of a range drawn in the history table
HEADER_COMMON = ("name", "priority", "message")  # the editor's first row


def word(prefix: str, value: str | None, lang: str) -> str:
    """A translated API word (state, priority, action, condition); the raw word if unknown."""
    if value is None:
        return DASH
    key = f"{prefix}_{value}"
    return t(key, lang) if key in TEXT else value


def refusal(exc: ApiError, lang: str) -> str:
    """What to show when the API refuses or is away."""
    if isinstance(exc, Unreachable):
        return t("reconnecting", lang)
    if isinstance(exc, NotAvailable):
        return t("not_available", lang)
    return t("forbidden", lang) if exc.status == 403 else exc.detail


def when(iso: object, tz: str) -> str:
    if not iso:
        return DASH
    try:
        return fmt_time(datetime.fromisoformat(str(iso)), tz, True)
    except ValueError:
        return str(iso)


def time_left(until: object, now: datetime, lang: str) -> str:
    """``2 h 05 min`` until a shelving expires."""
    try:
        end = datetime.fromisoformat(str(until))
    except ValueError:
        return DASH
    s = max(0, int((end - now).total_seconds()))
    h, m = divmod((s + 59) // 60, 60)
    return f"{h} h {m:02d} min" if h else f"{m} min"


def value_text(a: dict) -> str:
    """``5,286 kW / 4,000 kW`` (value / limit), units always."""
    vu, lu = a.get("value_unit") or "", a.get("unit") or ""
    out = "" if a.get("value") is None else fmt_num(a["value"], vu)
    if a.get("limit") is not None:
        out += f" / {fmt_num(a['limit'], lu)}"
    return out


# -- alarms ------------------------------------------------------------------------------


@dataclass
class AlarmList:
    reachable: bool = True
    available: bool = False
    rows: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    more_events: bool = False  # the range has more than the events listed
    actions: tuple[str, ...] = ()
    error: str = ""


ALARM_ACTIONS = ("ack", "shelve", "unshelve", "comment", "out-of-service", "return-to-service")


def alarm_list(
    api: ApiClient, flt: str, start: datetime | None = None, end: datetime | None = None
) -> AlarmList:
    """The alarms of a filter (``history``: the newest :data:`HISTORY_SHOWN` events of every
    alarm in (start, end]; ``more_events`` when the range has more)."""
    try:
        out = AlarmList(available=api.has("/alarms"))
        if not out.available:
            return out
        out.actions = tuple(a for a in ALARM_ACTIONS if api.has(f"/alarms/{{}}/{a}", "post"))
        if flt == "history":
            if start is not None and end is not None:
                found = api.alarm_events(start, end, limit=HISTORY_SHOWN + 1)
                out.events = found[:HISTORY_SHOWN]
                out.more_events = len(found) > HISTORY_SHOWN
            return out
        raw = api.alarms(flt if flt in FILTERS else "active")
        by_id = {str(a["id"]): a for a in raw} if isinstance(raw, list) else {}
        out.rows = [{**by_id.get(r["id"], {}), **r} for r in data.alarm_rows(raw)]
        return out
    except Unreachable:
        return AlarmList(reachable=False)
    except (NotAvailable, Rejected) as exc:
        return AlarmList(error=exc.detail)


def history_note(found: AlarmList, lang: str) -> str:
    """What the history says above its table: nothing, none in the range, or that only the
    newest are shown."""
    if found.error:
        return found.error
    if not found.events:
        return t("no_events", lang)
    if found.more_events:
        return t("hist_capped", lang, shown=HISTORY_SHOWN)
    return ""


def alarm_action(
    api: ApiClient, ids: list[str], action: str, comment: str, shelve_minutes: int | None, lang: str
) -> tuple[bool, str]:
    """Apply ``action`` to each selected alarm as the signed-in person; ``(ok, text)``."""
    if not ids:
        return False, t("select_alarm", lang)
    if action == "comment" and not comment.strip():
        return False, t("field_required", lang, field=t("comment", lang))
    shelve_s = (shelve_minutes or 60) * 60.0 if action == "shelve" else None
    try:
        for alarm_id in ids:
            api.alarm_action(alarm_id, action, comment or None, shelve_s)
    except ApiError as exc:
        return False, refusal(exc, lang)
    return True, t("done", lang)


def alarm_detail(api: ApiClient, alarm_id: str) -> tuple[dict, list[dict]] | None:
    try:
        return api.alarm(alarm_id), api.alarm_history(alarm_id)
    except ApiError:
        return None


# -- rules -------------------------------------------------------------------------------


def rule_catalog(api: ApiClient) -> dict | None:
    """The rule-type catalog from the API (None where the API has none)."""
    try:
        if not api.has("/alarm-rules/types"):
            return None
        return api.rule_types()
    except ApiError:
        return None


def type_spec(catalog: dict, rtype: str | None) -> dict | None:
    return next((s for s in catalog.get("types", []) if s["type"] == rtype), None)


def field_unit(f: dict, meter_unit: str | None, rule_unit: str | None, lang: str) -> str:
    """The unit a field is entered in: fixed, or the meter's (the rule's ``unit`` when set)."""
    unit = f.get("unit")
    if unit in ("meter", "target"):
        return rule_unit or meter_unit or t("unit_of_meter", lang)
    return unit or ""


def _parse(f: dict, value: Any) -> Any:
    kind = f["kind"]
    if kind == "dates":
        return [d.strip() for d in str(value).replace("，", ",").split(",") if d.strip()]
    if kind in ("integer", "rule") and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


WEEKDAYS = range(7)  # Monday = 0, as the API stores them
_HHMM = re.compile(r"(\d{1,2})[:：](\d{2})")  # a full-width colon, as a Chinese IME types it


def window_rows(stored: object) -> list[dict]:
    """A stored windows value (``[{"days", "start", "end"}]``, None) as the editor's rows, with
    the API's defaults written out (every day, 00:00)."""
    if not isinstance(stored, list):
        return []
    return [
        {
            "days": sorted(w.get("days", list(WEEKDAYS))),
            "start": w.get("start", "00:00"),
            "end": w.get("end", "00:00"),
        }
        for w in stored
        if isinstance(w, dict)
    ]


def _hhmm(text: str) -> str | None:
    """``08:00`` from ``8:00`` or ``08：00``; None when it is not a time of day."""
    found = _HHMM.fullmatch(text)
    hh, mm = (int(found[1]), int(found[2])) if found else (-1, -1)
    if not (0 <= hh <= 24 and 0 <= mm < 60) or (hh == 24 and mm):
        return None
    return f"{hh:02d}:{mm:02d}"


def windows_value(rows: Sequence[dict], label: str, lang: str) -> list[dict] | None:
    """The stored form of a windows field from its editor rows (``days`` ticked, ``start`` and
    ``end`` typed HH:MM): a row left empty is skipped, an empty start is 00:00 and an empty
    end 24:00 (the whole day); no row used: None. Raises ValueError naming the field, the
    window and what is wrong, in the person's language."""
    out = []
    for n, row in enumerate(rows, 1):
        days = sorted({int(d) for d in row.get("days") or []})
        start, end = (str(row.get(k) or "").strip() for k in ("start", "end"))
        if not (days or start or end):
            continue
        if not days:
            raise ValueError(t("win_wrong", lang, field=label, n=n, why=t("win_no_days", lang)))
        window = {"days": days}
        for part, text, empty in (("start", start, "00:00"), ("end", end, "24:00")):
            hhmm = _hhmm(text or empty)
            if hhmm is None:
                what = {"field": label, "n": n, "part": t(f"win_{part}", lang)}
                why = t("win_bad_time", lang, got=text)
                raise ValueError(t("win_wrong_part", lang, **what, why=why))
            window[part] = hhmm
        out.append(window)
    return out or None


def windows_from_form(
    values: Sequence[Any], parts: Sequence[dict], labels: dict[str, str], lang: str
) -> dict[str, list[dict] | None]:
    """Every windows field of the editor (``parts``: the ids ``{name, row, part}`` of its
    controls, ``values`` theirs) in its stored form, by field name."""
    rows: dict[str, dict[int, dict]] = {}
    for value, part in zip(values, parts, strict=True):
        rows.setdefault(part["name"], {}).setdefault(int(part["row"]), {})[part["part"]] = value
    return {
        name: windows_value([r[i] for i in sorted(r)], labels.get(name, name), lang)
        for name, r in rows.items()
    }


def extra_common(catalog: dict) -> list[dict]:
    """The catalog's common fields the editor shows below the type's fields (schedule, parent
    rule, webhook …): all but the first row's and ``enabled`` (the rules table's button)."""
    skip = {*HEADER_COMMON, "enabled"}
    return [f for f in catalog.get("common", []) if f["name"] not in skip]


def rule_body(
    spec: dict,
    values: dict[str, Any],
    *,
    patch: bool = False,
    common: Sequence[dict] = (),
    labels: Mapping[str, str] | None = None,
    lang: str = "en",
) -> dict:
    """The API body of a rule from the editor's values (only the fields of its type, plus the
    common ones: ``common`` are those of :func:`extra_common`). A new rule leaves out what is
    empty (the API's defaults); a change sends ``null`` for an emptied limit or optional
    common field (removes it). Raises ValueError naming a malformed field, or a required
    windows field left empty (by its label in ``labels``, in the person's language: the
    API's own message would speak of the list the editor's rows stand for); other fields'
    mistakes are left to the API, whose message names them."""
    body: dict[str, Any] = {}
    if not patch:
        body["type"] = spec["type"]
    for f in spec["fields"]:
        name = f["name"]
        if patch and name in ("meter", "site"):
            continue  # cannot change: a new rule instead
        v = values.get(name)
        if v is None or v == "" or v == []:
            if f.get("required") and f["kind"] == "windows":  # the API would speak of a list
                raise ValueError(t("field_required", lang, field=(labels or {}).get(name, name)))
            if patch and name in ("high", "high_high", "low", "low_low"):
                body[name] = None
            continue
        body[name] = _parse(f, v)
    for name in HEADER_COMMON:
        v = values.get(name)
        if v not in (None, "") or (name == "message" and patch):
            body[name] = v or ""
    for f in common:
        v = values.get(f["name"])
        if v is None or v == "" or v == []:
            if patch:
                body[f["name"]] = None
            continue
        body[f["name"]] = _parse(f, v)
    return body


def save_rule(api: ApiClient, rule_id: int | None, body: dict, lang: str) -> tuple[bool, str]:
    """Create (``rule_id`` None) or change a rule; ``(ok, text)`` with the API's message."""
    try:
        if rule_id is None:
            api.create_rule(body)
            return True, t("rule_created", lang)
        api.update_rule(rule_id, body)
        return True, t("rule_saved", lang)
    except ApiError as exc:
        return False, refusal(exc, lang)


def set_enabled(api: ApiClient, rule: dict, enabled: bool, lang: str) -> tuple[bool, str]:
    try:
        api.update_rule(rule["id"], {"enabled": enabled})
    except ApiError as exc:
        return False, refusal(exc, lang)
    key = "rule_now_enabled" if enabled else "rule_now_disabled"
    return True, t(key, lang, name=rule["name"])


def delete_rule(api: ApiClient, rule: dict, lang: str) -> tuple[bool, str]:
    try:
        api.delete_rule(rule["id"])
    except ApiError as exc:
        return False, refusal(exc, lang)
    return True, t("rule_deleted", lang, name=rule["name"])


def try_text(result: dict, tz: str, lang: str) -> str:
    """ "would have raised N alarms in the last 7 days, at …" """
    n = result["alarms"]
    out = t("try_result", lang, n=n)
    times = [when(at, tz) for at in result["raised_at"][:TRY_LISTED]]
    if times:
        out += ", " + t("try_at", lang, times=", ".join(times))
        if n > len(times):
            out += " " + t("try_more", lang, n=n - len(times))
    return f"{out} {t('try_readings', lang, n=result['window']['readings'])}"


def try_rule(api: ApiClient, body: dict, tz: str, lang: str) -> tuple[bool, str, dict | None]:
    try:
        result = api.try_rule(body, TRY_DAYS)
    except ApiError as exc:
        return False, refusal(exc, lang), None
    return True, try_text(result, tz, lang), result


def rules(api: ApiClient) -> list[dict] | None:
    try:
        return api.alarm_rules() if api.has("/alarm-rules") else None
    except ApiError:
        return None


def limits_text(rule: dict, spec: dict | None, meter_unit: str | None, lang: str) -> str:
    parts = []
    for name in ("high_high", "high", "low", "low_low"):
        v = rule.get(name)
        if v is None:
            continue
        f = next((f for f in (spec or {}).get("fields", []) if f["name"] == name), {"unit": None})
        unit = field_unit(f, meter_unit, rule.get("unit"), lang) if f.get("unit") else ""
        unit = "" if unit == t("unit_of_meter", lang) else unit
        parts.append(f"{word('cond', name, lang)} {fmt_num(v, unit)}")
    if rule.get("type") == "stale":
        parts.append(f"{rule.get('intervals', 3):g} × {t('interval', lang)}")
    return " · ".join(parts) or DASH


# -- KPIs --------------------------------------------------------------------------------


def alarm_kpis(
    api: ApiClient, start: datetime, end: datetime, operators: int, site: str | None = None
) -> tuple[dict | None, str]:
    """The KPIs of ``site`` (None: every site the signed-in person sees), or the API's
    message (a site they may not see: 404 naming ``site``)."""
    try:
        return api.alarm_metrics(start, end, operators, site or None), ""
    except ApiError as exc:
        return None, exc.detail
