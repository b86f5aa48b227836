"""Two people chat in real Chromium against a live uvicorn server: each sees the other's
typing indicator and messages live, the "Seen" receipt, and text stays text."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from playwright.sync_api import expect

from accounts.models import Follow
from messaging import services
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


def off_the_browser_loop(call):
    """Run call in another thread: Playwright's loop runs in this one, and the services'
    publishes (async_to_sync) refuse to run beside it."""

    def run():
        try:
            return call()
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


def signed_in_page(browser, base_url, user):
    """A browser context carrying user's session cookie, and a page in it."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(base_url=base_url, viewport={"width": 390, "height": 844})
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": base_url,
            }
        ]
    )
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    return context, page


@pytest.fixture
def chat(browser, live_server_url):
    dana = UserFactory(username="dana", display_name="Dana")
    eli = UserFactory(username="eli", display_name="Eli")
    Follow.objects.create(follower=dana, following=eli)
    Follow.objects.create(follower=eli, following=dana)
    conversation = off_the_browser_loop(
        lambda: services.conversation_start(creator=dana, usernames=["eli"])[0]
    )
    contexts = []
    pages = []
    for person in (dana, eli):
        context, page = signed_in_page(browser, live_server_url, person)
        contexts.append(context)
        pages.append(page)
    yield conversation, pages
    for context in contexts:
        context.close()


def test_two_people_chat_live(chat):
    conversation, (dana, eli) = chat
    for page in (dana, eli):
        page.goto(f"/direct/{conversation.pk}/")
        expect(page.locator("[data-connection-state]")).to_have_text("connected")

    # Dana types: Eli sees it; she sends: Eli sees the message, she sees it sent
    dana.locator("textarea").fill("Hi Eli <b>not bold</b>")
    expect(eli.locator("[data-typing]")).to_have_text("Dana is typing…")
    dana.locator("textarea").press("Enter")
    expect(eli.locator(".msg .msg-text").last).to_have_text("Hi Eli <b>not bold</b>")
    expect(eli.locator(".msg b")).to_have_count(0)  # text, never markup
    expect(eli.locator("[data-typing]")).to_be_hidden()  # the message ends the typing
    expect(dana.locator(".msg.mine [data-status]").last).to_have_text("Sent")
    expect(dana.locator("[data-seen]")).to_have_text("Seen")  # Eli's page is open

    # and the other way round
    eli.locator("textarea").fill("Hello Dana")
    expect(dana.locator("[data-typing]")).to_have_text("Eli is typing…")
    eli.get_by_role("button", name="Send").click()
    expect(dana.locator(".msg .msg-text").last).to_have_text("Hello Dana")
    expect(eli.locator("textarea")).to_have_value("")

    # a typing indicator with no message after it goes away after 5 s
    dana.wait_for_timeout(600)  # the server passes one typing event per half second
    dana.locator("textarea").fill("Let me think")
    expect(eli.locator("[data-typing]")).to_have_text("Dana is typing…")
    expect(eli.locator("[data-typing]")).to_be_hidden(timeout=7000)

    # both see the whole conversation, in order, once
    for page in (dana, eli):
        expect(page.locator(".msg .msg-text")).to_have_text(
            ["Hi Eli <b>not bold</b>", "Hello Dana"]
        )
        assert page.console_errors == []


def test_reactions_and_the_inbox_update_live(chat):
    conversation, (dana, eli) = chat
    eli.goto("/direct/")
    expect(eli.locator("[data-connection-state]")).to_have_text("connected")
    dana.goto(f"/direct/{conversation.pk}/")
    expect(dana.locator("[data-connection-state]")).to_have_text("connected")

    dana.locator("textarea").fill("Are you there?")
    dana.locator("textarea").press("Enter")
    item = eli.locator(f'[data-conversation-id="{conversation.pk}"]')
    expect(item.locator("[data-last]")).to_have_text("Are you there?")
    expect(item.locator("[data-unread]")).to_contain_text("1")

    item.locator("a").click()
    expect(eli.locator(".msg .msg-text")).to_have_text(["Are you there?"])
    eli.locator(".react-picker summary").last.click()
    eli.get_by_role("button", name="🔥").click()
    expect(dana.locator(".msg [data-reactions] button")).to_have_text(["🔥 1"])
    expect(eli.locator(".msg [data-reactions] button")).to_have_attribute("aria-pressed", "true")
    assert dana.console_errors == [] and eli.console_errors == []
