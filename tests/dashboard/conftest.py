"""The browser modules' fixtures (the stack, Chromium, a signed-in page) from tests/support."""

from tests.support.browser import browser, page, stack  # noqa: F401  (fixtures)
