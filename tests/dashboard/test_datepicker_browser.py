"""The dashboard's date pickers in Chromium, in English and 中文: the calendar opened on the
manager's day, the products' range and the console's history range. In 中文 the calendar
reads 2026年 12月 with the week's days 一 二 三 … from Monday; in English "December" with
Mo Tu We …; the input shows YYYY-MM-DD in either. Screenshots at 1920×1080 go to
``ECC_SHOTS`` when it is set."""

from __future__ import annotations

import pytest

from tests.support.browser import NEEDS_CHROMIUM, Page

pytestmark = NEEDS_CHROMIUM

T = 60_000  # ms: a loaded two-core box

EN_MONTHS = [
    "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December",
]  # fmt: skip

# (page, what shows it has loaded, the picker's input to click)
PICKERS = [
    ("manager", "/manager?site={site}", "#mgr-kpi-table", "#mgr-date"),
    ("products", "/products", "#prod-range", "#prod-range"),
]

# The caption as a person reads it, left to right: each control's text in the order drawn,
# the year input's value with what CSS writes after it (年 in 中文).
CAPTION = """root => {
  const bar = root.querySelector('.dash-datepicker-controls');
  const parts = [...bar.children]
    .filter(e => !e.matches('button'))
    .map(e => {
      const input = e.querySelector('input[type=number]');
      if (!input) return [e, e.innerText.trim()];
      const after = getComputedStyle(e, '::after').content;
      const suffix = after && after !== 'none' ? after.replace(/^"|"$/g, '') : '';
      return [e, input.value + suffix];
    });
  parts.sort((a, b) => a[0].getBoundingClientRect().left - b[0].getBoundingClientRect().left);
  return parts.map(p => p[1]).join(' ');
}"""
WEEKDAYS = """root => [...root.querySelector('table.dash-datepicker-calendar')
  .querySelectorAll('thead tr:last-child th')].map(th => th.innerText.trim())"""  # 1st month


def _open(p: Page, base: str, path: str, ready: str, picker: str) -> tuple[str, list[str], str]:
    """Open the picker's calendar: its caption, its weekday header and the input's text."""
    p.page.goto(base + path)
    p.page.wait_for_selector(ready, timeout=T)
    p.page.click(picker)
    root = p.page.locator(picker).locator(
        "xpath=ancestor::div[contains(concat(' ', @class, ' '), ' dash-datepicker ')][1]"
    )
    root.locator(".dash-datepicker-calendar").first.wait_for(timeout=T)
    p.page.wait_for_timeout(300)
    caption = root.evaluate(CAPTION)
    days = root.evaluate(WEEKDAYS)
    return caption, days, p.page.input_value(picker)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize(("name", "path", "ready", "picker"), PICKERS)
def test_date_picker_calendar_reads_in_the_ui_language(
    browser,  # noqa: ANN001
    stack: dict,
    lang: str,
    name: str,
    path: str,
    ready: str,
    picker: str,
) -> None:
    base = stack["dash"].url
    # the browser's own language is English: the calendar follows the dashboard's switch
    p = Page(
        browser,
        width=1920,
        height=1080,
        lang=lang,
        base=base,
        session=stack["session"],
        locale="en-US",
    )
    try:
        caption, days, shown = _open(p, base, path.format(site=stack["site"]), ready, picker)
        p.shoot(f"datepicker-{name}-{lang}.png")
        assert len(shown) == 10 and shown[4] == "-" and shown[7] == "-", shown  # YYYY-MM-DD
        if lang == "zh":
            assert "年" in caption and "月" in caption, caption
            assert caption.index("年") < caption.index("月"), caption  # 2026年 12月
            assert days == ["一", "二", "三", "四", "五", "六", "日"], days
        else:
            assert any(m in caption for m in EN_MONTHS), caption
            assert days[0] == "Mo" and len(days) == 7, days
        assert p.errors == []
    finally:
        p.close()
