"""The API's page (/api/v1/docs) in a real Chromium under the site's Content-Security-
Policy: Swagger UI loads from the site's own static files (no CDN), renders every
operation of the document, and shows an operation's error responses with their examples."""

import json
import urllib.request

import pytest

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


def test_the_api_page_shows_the_document_with_examples(page, live_server_url):
    with urllib.request.urlopen(f"{live_server_url}/api/v1/openapi.json") as response:
        document = json.load(response)
    operations = sum(len(item) for item in document["paths"].values())
    outside = []
    page.on(
        "request",
        lambda request: not request.url.startswith(live_server_url) and outside.append(request.url),
    )

    page.goto("/api/v1/docs")
    page.locator(".opblock").first.wait_for(timeout=30_000)
    assert page.locator(".opblock").count() == operations
    assert page.locator(".opblock-tag").filter(has_text="messaging").count() == 1

    comments = page.locator("#operations-posts-posts_api_comment_create")
    comments.locator(".opblock-summary").click()
    responses = comments.locator(".responses-table")
    responses.wait_for()
    for status in ("201", "400", "401", "403", "404", "413", "415", "429", "503"):
        assert responses.locator(f"tr.response[data-code='{status}']").count() == 1, status
    assert "rate_limited" in responses.inner_text()  # the 429's example body
    # request bodies show readable examples, not strings made up from the text pattern
    body = comments.locator(".opblock-section-request-body")
    body.wait_for()
    assert "See you there!" in body.inner_text()
    register = page.locator("#operations-auth-accounts_api_register")
    register.locator(".opblock-summary").click()
    example = register.locator(".opblock-section-request-body")
    example.wait_for()
    assert '"username": "alice"' in example.inner_text()
    assert '"password": "a long walk by the lake"' in example.inner_text()
    assert outside == []
    assert page.console_errors == []  # a CSP violation is a console error
    page.screenshot(path="var/screenshots/api-docs.png")
