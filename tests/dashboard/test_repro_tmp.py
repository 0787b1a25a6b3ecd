from tests.dashboard.test_browser import (  # noqa: F401
    API, Page, browser, page, playwright, stack, _raise_alarm,
)
import time


def test_repro(page, stack):  # noqa: F811
    _raise_alarm(stack, "repro alarm")
    base = stack["dash"].url
    page.page.goto(f"{base}/engineer")
    page.page.wait_for_selector("#eng-alarm-table label:has-text('repro alarm')", timeout=30000)
    page.page.click("#eng-alarm-state label:has-text('Unacknowledged')")
    time.sleep(3)
    page.page.click("#eng-alarm-state label:has-text('All')")
    time.sleep(3)
    print("ERRORS", page.errors)
    print(page.page.inner_html("#eng-alarm-state")[:1500])
