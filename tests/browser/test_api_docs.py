"""The browsable API docs render in Chromium from the app's own files (no CDN is reachable here)."""

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_api_docs_render_the_contract_offline(desktop: Page):
    failed: list[str] = []
    desktop.on("requestfailed", lambda request: failed.append(request.url))
    desktop.goto("/schema")
    expect(desktop.get_by_text("AMI For Ever").first).to_be_visible()
    expect(desktop.locator(".opblock-summary-path", has_text="/api/v1/quotes").first).to_be_visible()
    assert failed == []
