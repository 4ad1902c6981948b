"""The chat page (GET /), end to end in a real headless Chromium against a running server.

Chromium is Debian's (`/usr/bin/chromium`, or CHROMIUM_PATH) driven by Python Playwright; nothing is
downloaded. Without them the browser tests are skipped with the reason, or fail when
REQUIRE_BROWSER=1. Screenshots go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import dataclasses
import time

import pytest

from movies_assistant import TMDB_ATTRIBUTION
from movies_assistant.app import create_app

from .accessibility import serious_violations
from .conftest import ARTIFACTS, serving
from .test_grounding import Scripted
from .test_streaming import GatedProvider

def test_page_is_served_with_attribution_and_no_build_step(client):
    r = client.get("/")
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert TMDB_ATTRIBUTION in html
    assert '<script src="/chat/static/chat.js"></script>' in html and "/chat/static/chat.css" in html
    js = client.get("/chat/static/chat.js")
    assert js.status_code == 200 and "javascript" in js.mimetype
    source = js.get_data(as_text=True)
    assert "innerHTML" not in source and "insertAdjacentHTML" not in source  # model output is text,
    assert source.count("parseFromString(") == 1 and "parseFromString(answer.answer_html" in source  # or sanitised
    assert "getReader()" in source and "/question/stream" in source and "/feedback" in source
    assert client.get("/chat/static/chat.css").status_code == 200


# -- the browser ---------------------------------------------------------------------------------
@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 1300})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def ask(page, question: str):
    """Type a question, send it, and wait for its answer to finish; the answer's element."""
    count = page.locator("article.message.assistant").count()
    page.fill("#question", question)
    page.click("#send")
    answer = page.locator("article.message.assistant").nth(count)
    answer.locator("xpath=self::*[contains(@class, 'done')]").wait_for(timeout=20_000)
    return answer


def test_ask_follow_up_and_feedback_in_the_browser(page, server, app):
    log = app.extensions["movies_assistant"].log
    page.goto(server + "/")
    assert page.title() == "Movies Assistant"
    assert page.inner_text("footer.attribution") == TMDB_ATTRIBUTION

    first = ask(page, "Who starred in Alien?")
    assert first.locator(".text").inner_text().startswith("Alien (1979) stars Sigourney Weaver")
    cards = first.locator("[data-testid=sources] > .source-card")  # the films the answer names; the others fold away
    assert cards.count() == 1
    alien = cards.first.inner_text()
    assert "Alien" in alien and "(1979)" in alien and "Science Fiction" in alien and "★ 7.9/10" in alien
    assert first.locator("details.more summary").inner_text() == "Other retrieved films (9)"

    second = ask(page, "What else has she been in?")
    text = second.locator(".text").inner_text()
    assert text.startswith("Sigourney Weaver has") and "Avatar (2009)" in text
    assert second.locator("[data-testid=sources] > .source-card").count() == 6
    # the composer's "- " lines are a list, each film a link to its card under this answer
    assert second.locator(".text ul > li").count() == 6 and "- " not in text
    avatar = second.locator(".text li a.film-link", has_text="Avatar (2009)")
    card_id = avatar.get_attribute("href").removeprefix("#")
    assert card_id == f"film-{second.get_attribute('data-answer-id')}-19995"
    avatar.click()
    assert page.evaluate("location.hash") == "#" + card_id
    assert second.locator(f"[id='{card_id}']").inner_text().startswith("Avatar (2009)")
    assert second.locator(".source-card:target").count() == 1
    conversation_id = first.get_attribute("data-answer-id") and log.answer_details(
        second.get_attribute("data-answer-id"))["conversation_id"]
    assert log.answer_details(first.get_attribute("data-answer-id"))["conversation_id"] == conversation_id
    assert page.inner_text("#conversation") == "conversation " + conversation_id[:8]

    second.locator("button.vote[data-value='1']").click()
    second.locator(".feedback-status", has_text="recorded").wait_for(timeout=10_000)
    assert second.locator(".feedback-status").inner_text() == "Thanks, feedback +1 recorded."
    assert log.feedback_for(conversation_id) == [1]

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat-page.png"), full_page=True)


def test_the_answer_streams_into_the_page(page, server, app):
    provider = GatedProvider(["Star Wars (1977) ", "was directed ", "by George Lucas."])
    app.extensions["movies_assistant"].provider = provider
    page.goto(server + "/")
    page.fill("#question", "Who directed Star Wars?")
    page.click("#send")
    answer = page.locator("article.message.assistant").first
    # the first chunk is on the page, with the source cards, while the model is still working
    answer.locator(".text", has_text="Star Wars (1977)").wait_for(timeout=10_000)
    assert "streaming" in answer.get_attribute("class") and not provider.gate.is_set()
    assert answer.locator(".source-card").first.inner_text().startswith("Star Wars (1977)")
    assert page.is_disabled("#send")
    provider.gate.set()
    answer.locator("xpath=self::*[contains(@class, 'done')]").wait_for(timeout=10_000)
    assert answer.locator(".text").inner_text() == "Star Wars (1977) was directed by George Lucas."
    assert "gated" in answer.locator(".meta").inner_text()
    assert not page.is_disabled("#send")


def test_model_output_is_shown_as_text_never_as_html(page, server, app):
    html = 'Star Wars (1977) <img src=x onerror="window.pwned=1"> <b>bold</b> was directed by George Lucas.'
    app.extensions["movies_assistant"].provider = Scripted(html)
    page.goto(server + "/")
    answer = ask(page, "Who directed Star Wars?")
    assert answer.locator(".text").inner_text() == html
    assert answer.locator(".text img, .text b").count() == 0
    time.sleep(0.2)
    assert page.evaluate("window.pwned") is None


def test_a_hostile_markdown_answer_runs_no_script(page, server, app):
    hostile = ("Star Wars (1977) was directed by George Lucas.\n"
               "- <img src=x onerror=\"window.pwned=1\">\n"
               "- [click me](javascript:window.pwned=2)\n"
               "- <a href=\"javascript:window.pwned=3\">or me</a> **bold** <script>window.pwned=4</script>\n"
               "![pixel](http://127.0.0.1:9/pixel.png)")
    app.extensions["movies_assistant"].provider = Scripted(hostile)
    page.goto(server + "/")
    answer = ask(page, "Who directed Star Wars?")
    text = answer.locator(".text")
    assert text.locator("li").count() == 3 and text.locator("strong").inner_text() == "bold"
    assert text.locator("img, script, [onerror]").count() == 0
    shown = text.inner_text()
    assert "<img src=x" in shown and "<script>window.pwned=4</script>" in shown  # raw HTML is text
    assert "[click me](javascript:window.pwned=2)" in shown  # a javascript: link is not a link
    hrefs = text.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert hrefs == [f"#film-{answer.get_attribute('data-answer-id')}-11", "http://127.0.0.1:9/pixel.png"]
    text.locator("a.film-link").click()
    text.locator("li", has_text="or me").click()
    time.sleep(0.2)
    assert page.evaluate("window.pwned") is None


def test_a_repaired_answer_replaces_the_streamed_text_with_a_notice(page, server, app):
    app.extensions["movies_assistant"].provider = Scripted(
        "Star Wars (1977) was directed by George Lucas. Also watch The Silent Horizon (2015).")
    page.goto(server + "/")
    answer = ask(page, "Who directed Star Wars?")
    assert answer.locator(".text").inner_text() == "Star Wars (1977) was directed by George Lucas."
    assert "The Silent Horizon (2015)" in answer.locator(".notice").inner_text()


def test_errors_are_shown(page, server):
    page.goto(server + "/")
    page.evaluate("document.getElementById('question').removeAttribute('maxlength')")
    page.fill("#question", "x" * 2500)
    page.click("#send")
    failed = page.locator("article.message.assistant.failed")
    failed.wait_for(timeout=10_000)
    assert "longer than 2000 characters" in failed.locator(".meta").inner_text()


def test_with_an_api_key_the_page_asks_for_it_once(page, settings):
    """API_KEY set: the first question gets a 401, the page asks for the key, keeps it for the tab."""
    key = "browser-key-5e1d"
    app = create_app(dataclasses.replace(settings, api_key=key))
    prompts = []

    def answer_prompt(dialog):
        prompts.append(dialog.message)
        dialog.accept(key)

    page.on("dialog", answer_prompt)
    with serving(app) as url:
        page.goto(url + "/")
        first = ask(page, "Who directed Alien?")
        assert "Ridley Scott" in first.locator(".text").inner_text()
        second = ask(page, "Who starred in it?")
        assert "Sigourney Weaver" in second.locator(".text").inner_text()
        second.locator("button.vote[data-value='-1']").click()
        second.locator(".feedback-status", has_text="recorded").wait_for(timeout=10_000)
        assert page.evaluate("sessionStorage.getItem('movies-assistant-api-key')") == key
        log = app.extensions["movies_assistant"].log
        assert log.feedback_for(log.answer_details(second.get_attribute("data-answer-id"))["conversation_id"]) == [-1]
        page.goto(url + "/dashboard")  # the dashboard shares the tab's key: no second prompt
        page.wait_for_function("document.querySelector('#store').textContent.includes('sqlite')", timeout=10_000)
    assert len(prompts) == 1 and "API key" in prompts[0]


# -- first impression, keyboard and accessibility -------------------------------------------------

def test_empty_state_favicon_and_no_doubled_label(page, server):
    failures = []
    page.on("response", lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("console", lambda m: failures.append(m.text) if m.type == "error" else None)
    page.goto(server + "/")
    icon = page.get_attribute("link[rel=icon]", "href")
    assert icon.endswith("favicon.svg")
    response = page.request.get(server + icon)
    assert response.status == 200 and response.headers["content-type"].startswith("image/svg+xml")
    header = page.inner_text("header.bar")
    assert header.lower().count("new conversation") == 1, header  # the button only, no label beside it
    assert page.is_visible("#welcome h2") and page.locator("#welcome button.example").count() >= 3

    ask(page, "Who starred in Alien?")
    assert page.inner_text("#conversation").startswith("conversation ")
    page.click("#new-conversation")
    assert page.is_visible("#welcome button.example") and not page.is_visible("#conversation")
    page.locator("#welcome button.example").first.click()  # the restored examples still ask
    page.locator("article.message.assistant.done").wait_for(timeout=20_000)
    assert not failures, failures


def test_keyboard_enter_sends_shift_enter_adds_a_line_and_focus_returns(page, server):
    page.goto(server + "/")
    page.focus("#question")
    page.keyboard.type("Who starred in Alien?")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("And who directed it?")
    assert page.input_value("#question") == "Who starred in Alien?\nAnd who directed it?"
    assert page.locator("article.message.user").count() == 0
    page.fill("#question", "")
    page.keyboard.type("Who starred in Alien?")
    page.keyboard.press("Enter")
    page.locator("article.message.assistant.done").wait_for(timeout=20_000)
    assert page.inner_text("article.message.user") == "Who starred in Alien?"
    assert page.evaluate("document.activeElement.id") == "question" and page.input_value("#question") == ""


def test_chat_page_has_no_serious_accessibility_violations(page, server):
    page.goto(server + "/")
    assert serious_violations(page) == []
    ask(page, "Who starred in Alien?")  # with an answer, its source cards and the rating buttons
    assert serious_violations(page) == []
