"""The rule editor's weekly windows (schedule, idle periods): the rows of ticked weekdays and
from/to times read into the stored form the API takes (``[{"days", "start", "end"}]``), a
mistake named by field, window and reason in the person's language, and a stored value drawn
back into the same rows."""

from __future__ import annotations

import pytest

from dashboard import console

WEEKDAYS_8_TO_18 = {"days": [0, 1, 2, 3, 4], "start": "08:00", "end": "18:00"}


def test_rows_read_into_the_stored_form() -> None:
    rows = [
        {"days": [4, 0, 1, 2, 3], "start": "8:00", "end": "18:00"},  # ticked in any order
        {"days": [], "start": "", "end": ""},  # an empty row is skipped
        {"days": [5], "start": "22:00", "end": "06：00"},  # past midnight; a full-width colon
        {"days": [6], "start": "", "end": ""},  # no times: the whole day
    ]
    assert console.windows_value(rows, "Armed in", "en") == [
        WEEKDAYS_8_TO_18,
        {"days": [5], "start": "22:00", "end": "06:00"},
        {"days": [6], "start": "00:00", "end": "24:00"},
    ]
    assert console.windows_value([{"days": None, "start": None, "end": None}], "x", "en") is None


@pytest.mark.parametrize(
    ("row", "lang", "said"),
    [
        (
            {"days": [], "start": "08:00", "end": ""},
            "en",
            "Armed in, window 2: tick at least one weekday",
        ),
        (
            {"days": [0], "start": "25:00", "end": ""},
            "en",
            "Armed in, window 2, start: expected a time HH:MM from 00:00 to 24:00, e.g. 08:00 "
            "(got “25:00”)",
        ),
        (
            {"days": [0], "start": "08:00", "end": "6pm"},
            "zh",
            "启用时段第 2 个时段的结束时间：应为 00:00 至 24:00 之间的 HH:MM 时间，如 08:00"
            "（输入为“6pm”）",
        ),
        ({"days": [0], "start": "24:30", "end": ""}, "zh", "启用时段第 2 个时段的开始时间："),
        ({"days": [], "start": "", "end": "18:00"}, "zh", "启用时段第 2 个时段：请至少勾选一天"),
    ],
)
def test_a_mistake_names_field_window_and_reason(row: dict, lang: str, said: str) -> None:
    label = {"en": "Armed in", "zh": "启用时段"}[lang]
    first = {"days": [0], "start": "08:00", "end": "18:00"}
    with pytest.raises(ValueError) as found:
        console.windows_value([first, row], label, lang)
    assert str(found.value).startswith(said), str(found.value)


def test_the_form_controls_by_field_and_back() -> None:
    """The controls' values and ids (as Dash hands them over) give each field its windows;
    a stored schedule drawn again gives the same rows, so saving it unchanged keeps it."""
    stored = [WEEKDAYS_8_TO_18, {"start": "22:00", "end": "06:00"}]  # days left out: every day
    rows = console.window_rows(stored)
    assert rows[1] == {"days": [0, 1, 2, 3, 4, 5, 6], "start": "22:00", "end": "06:00"}
    values, parts = [], []
    for i, row in enumerate([*rows, {"days": [], "start": "", "end": ""}]):
        for part in ("days", "start", "end"):
            values.append(row[part])
            parts.append({"type": "eng-win", "scope": "rc", "name": "schedule", "row": i,
                          "part": part})  # fmt: skip
    got = console.windows_from_form(values, parts, {"schedule": "Armed in"}, "en")
    assert got == {"schedule": [WEEKDAYS_8_TO_18, {**rows[1]}]}
    spec = {"type": "threshold", "fields": []}
    common = [{"name": "schedule", "kind": "windows"}]
    body = console.rule_body(spec, {"name": "r", **got}, patch=True, common=common)
    assert body["schedule"] == got["schedule"]  # sent as it is, no JSON text in between
    emptied = console.rule_body(spec, {"schedule": None}, patch=True, common=common)
    assert emptied["schedule"] is None  # every window emptied: the schedule removed


def test_a_required_windows_field_left_empty_is_refused_in_the_persons_language() -> None:
    """An idle rule with no idle period is refused before sending, by the field's label and
    in the person's language (the API's English "expected a non-empty list" never shown),
    on a new rule and on a change alike; an optional field left empty is simply left out."""
    spec = {
        "type": "idle",
        "fields": [
            {"name": "idle_periods", "kind": "windows", "required": True},
            {"name": "holidays", "kind": "dates", "required": False},
        ],
    }
    labels = {"idle_periods": "非生产时段"}
    for patch in (False, True):
        with pytest.raises(ValueError, match="^非生产时段：必填$"):
            console.rule_body(spec, {"idle_periods": None}, patch=patch, labels=labels, lang="zh")
    body = console.rule_body(spec, {"idle_periods": [WEEKDAYS_8_TO_18], "holidays": ""})
    assert body == {"type": "idle", "idle_periods": [WEEKDAYS_8_TO_18]}
    # other required fields are left to the API, whose message names them ("give exactly one
    # of meter or site" is more than "required" could say)
    meter = {"type": "threshold", "fields": [{"name": "meter", "kind": "meter", "required": True}]}
    assert console.rule_body(meter, {"meter": None}) == {"type": "threshold"}


@pytest.mark.parametrize(("lang", "text"), [("en", "Comment: required"), ("zh", "备注：必填")])
def test_a_comment_left_empty_is_refused_by_its_label_before_anything_is_sent(
    lang: str, text: str
) -> None:
    """The alarm console's comment action with nothing written: refused by the field's label
    in the person's language (the same words as a required rule field), before the API is
    called (no client is given, so a call would fail)."""
    assert console.alarm_action(None, ["a1"], "comment", "  ", None, lang) == (False, text)
