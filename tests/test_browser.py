"""The web chat in a real Chromium, against ``python app.py`` started once on a free port.

Screenshots of each state go to test-results/screenshots/. Never waits for "networkidle"
(Gradio keeps an event stream open).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from qa.config import ROOT
from qa.safety import MAX_QUESTION_CHARS

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="Debian's chromium is not at /usr/bin/chromium (`make test` installs it)"),
]

SHOTS = ROOT / "test-results" / "screenshots"
SESSIONS = "How many sessions are usually needed?"
URGENT = "I had microneedling two days ago and now my face is full of pus and I have a fever"
XSS = 'Does it hurt? <img src=x onerror="window.__xss=1"> <script>window.__xss=2</script>'
DESKTOP = (1280, 900)
PHONE = (390, 844)

expect.set_options(timeout=20_000)


def shot(page: Page, name: str, full_page: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


@pytest.fixture()
def open_page(browser: Browser, app_server) -> Iterator[Callable[..., Page]]:
    """Open the app in a fresh browser context; afterwards, check nothing left 127.0.0.1."""
    contexts, outside, errors = [], [], []

    def _open(size: tuple[int, int] = DESKTOP) -> Page:
        ctx = browser.new_context(viewport={"width": size[0], "height": size[1]})
        contexts.append(ctx)
        page = ctx.new_page()
        page.on("request", lambda r: outside.append(r.url)
                if not r.url.startswith((app_server.url, "data:", "blob:")) else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(app_server.url + "/", wait_until="domcontentloaded")
        expect(page.get_by_role("textbox", name="Your question")).to_be_editable()
        return page

    yield _open
    for ctx in contexts:
        ctx.close()
    assert outside == [], f"the page fetched from outside this machine: {outside[:5]}"
    assert errors == [], f"JavaScript errors: {errors[:5]}"


def ask(page: Page, question: str) -> Locator:
    """Type a question, press Enter, and return the new answer."""
    answers = page.locator("#qa-chat .qa-answer")
    n = answers.count()
    box = page.get_by_role("textbox", name="Your question")
    box.fill(question)
    box.press("Enter")
    expect(answers).to_have_count(n + 1)
    return answers.last


def api_answer(app_server, question: str) -> dict:
    return httpx.post(f"{app_server.url}/api/ask", json={"question": question}, timeout=30).json()


def fully_visible(page: Page, selector: str) -> bool:
    """In the viewport and on top (not covered by anything else) at its centre and corners."""
    return page.evaluate(
        """(sel) => {
            const e = document.querySelector(sel);
            if (!e) return false;
            const r = e.getBoundingClientRect();
            if (r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth) return false;
            const pts = [[r.left + r.width / 2, r.top + r.height / 2], [r.left + 2, r.top + 2],
                         [r.right - 2, r.bottom - 2]];
            return pts.every(([x, y]) => e.contains(document.elementFromPoint(x, y)));
        }""", selector)


CONTRAST = """(sel) => {
    // WCAG contrast of an element's text against the first opaque background behind it.
    const lum = (c) => { const [r, g, b] = c.match(/[\\d.]+/g).slice(0, 3).map(Number).map((v) => {
        v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
    const e = document.querySelector(sel);
    let bg = null;
    for (let n = e; n; n = n.parentElement) {
        const c = getComputedStyle(n).backgroundColor;
        const a = c.match(/[\\d.]+/g);
        if (a && (a.length < 4 || Number(a[3]) > 0.9)) { bg = c; break; }
    }
    const [hi, lo] = [lum(getComputedStyle(e).color), lum(bg || 'rgb(255,255,255)')].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_contrast_in_light_and_dark_mode(browser: Browser, app_server, scheme: str) -> None:
    ctx = browser.new_context(viewport={"width": DESKTOP[0], "height": DESKTOP[1]}, color_scheme=scheme)
    try:
        page = ctx.new_page()
        page.goto(app_server.url + "/", wait_until="domcontentloaded")
        answer = ask(page, URGENT)
        expect(answer.locator(".qa-urgent")).to_be_visible()
        for sel in ("#qa-disclaimer", ".qa-urgent p:last-child", ".qa-user"):
            assert page.evaluate(CONTRAST, sel) >= 4.5, (scheme, sel)
        shot(page, f"12-contrast-{scheme}")
    finally:
        ctx.close()


def test_disclaimer_is_in_view_before_any_input(open_page) -> None:
    page = open_page()
    d = page.locator("#qa-disclaimer")
    expect(d).to_be_visible()
    text = d.inner_text().lower()
    for words in ("not medical advice", "automated assistant", "five published articles",
                  "qualified health professional", "local emergency number"):
        assert words in text
    assert fully_visible(page, "#qa-disclaimer")
    expect(page.get_by_role("button", name="Ask", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Clear conversation")).to_be_visible()
    shot(page, "01-start-desktop")


def test_answer_with_citation_then_the_highlighted_source(open_page, app_server) -> None:
    page = open_page()
    cite = api_answer(app_server, SESSIONS)["citations"][0]
    answer = ask(page, SESSIONS)
    expect(answer).to_have_class("qa-answer qa-status-answered")
    expect(answer.locator(".qa-text")).to_contain_text("[1]")
    first = answer.locator(".qa-cite").first
    expect(first.locator(".qa-cite-title")).to_have_text(cite["title"])
    assert " ".join(first.locator(".qa-cite-text").inner_text().split()) == " ".join(cite["text"].split())
    assert fully_visible(page, "#qa-disclaimer")
    shot(page, "02-answer-desktop")

    first.get_by_role("link", name="View in article").click()
    mark = page.locator("#qa-mark")
    expect(mark).to_be_visible()
    assert mark.text_content() == cite["text"]  # exactly the cited span, from the stored offsets
    expect(page.locator(".qa-viewer-title")).to_have_text(cite["title"])
    assert page.evaluate("""() => { const r = document.getElementById('qa-mark').getBoundingClientRect();
                                   return r.top < innerHeight && r.bottom > 0; }""")
    assert fully_visible(page, "#qa-disclaimer")
    shot(page, "03-source-viewer-desktop")

    # The inline [n] marker opens the same span.
    page.locator("#qa-viewer-body").evaluate("e => e.replaceChildren()")
    answer.locator("a.qa-ref").first.click()
    expect(mark).to_be_visible()


def test_out_of_scope_question_says_not_covered(open_page) -> None:
    page = open_page()
    answer = ask(page, "What is the capital of France?")
    expect(answer.locator(".qa-notfound")).to_contain_text("Not covered by the five articles")
    expect(answer.locator(".qa-notfound")).to_contain_text("don't cover")
    expect(answer.locator(".qa-related .qa-sources-title")).to_have_text("Related reading (not an answer)")
    expect(answer.locator(".qa-sources")).to_have_count(0)
    shot(page, "04-not-found")


def test_urgent_description_shows_the_warning_first(open_page) -> None:
    page = open_page()
    answer = ask(page, URGENT)
    first_block = answer.locator(":scope > *").first
    expect(first_block).to_have_class("qa-urgent")
    expect(first_block).to_have_attribute("role", "alert")
    expect(first_block).to_contain_text("Please contact your clinician now")
    shot(page, "05-urgent")


def test_html_and_script_in_a_question_render_as_text(open_page) -> None:
    page = open_page()
    ask(page, XSS)
    user = page.locator("#qa-chat .qa-user").last
    expect(user).to_contain_text('<img src=x onerror="window.__xss=1">')
    expect(user).to_contain_text("<script>window.__xss=2</script>")
    assert page.locator("#qa-chat img").count() == 0
    assert page.locator("#qa-chat script").count() == 0
    assert page.evaluate("window.__xss") is None
    # The staff view escapes the question too.
    page.get_by_role("tab", name="What the articles say (staff)").click()
    box = page.get_by_role("textbox", name="Question to compare across the five articles")
    box.fill(XSS)
    box.press("Enter")
    expect(page.locator("#qa-compare .qa-compare-q")).to_contain_text("<script>window.__xss=2</script>")
    assert page.evaluate("window.__xss") is None
    page.get_by_role("tab", name="Ask").click()
    shot(page, "06-xss-as-text")


def test_phone_width_keeps_the_disclaimer_in_view(open_page, app_server) -> None:
    page = open_page(PHONE)
    assert fully_visible(page, "#qa-disclaimer")
    shot(page, "07-phone-start")
    ask(page, SESSIONS)
    assert fully_visible(page, "#qa-disclaimer")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE[0]  # no sideways scrolling
    shot(page, "08-phone-answer")
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    assert fully_visible(page, "#qa-disclaimer")
    page.locator("#qa-chat .qa-answer").last.get_by_role("link", name="View in article").first.click()
    expect(page.locator("#qa-mark")).to_be_visible()
    assert fully_visible(page, "#qa-disclaimer")
    shot(page, "09-phone-source")


def test_staff_view_lists_all_five_articles(open_page, app_server) -> None:
    page = open_page()
    page.get_by_role("tab", name="What the articles say (staff)").click()
    box = page.get_by_role("textbox", name="Question to compare across the five articles")
    box.fill("What aftercare should patients follow?")
    page.get_by_role("button", name="Compare the articles").click()
    cards = page.locator("#qa-compare .qa-card")
    expect(cards).to_have_count(5)
    titles = [d["title"] for d in httpx.get(f"{app_server.url}/api/articles").json()]
    assert cards.locator(".qa-card-title").all_inner_texts() == titles
    covered = page.locator("#qa-compare .qa-covered")
    assert covered.count() >= 1
    expect(covered.first.locator("mark")).to_be_visible()
    for card in page.locator("#qa-compare .qa-not-covered").all():
        expect(card).to_contain_text("Not covered in this article")
    assert fully_visible(page, "#qa-disclaimer")
    shot(page, "10-staff-view", full_page=True)


def test_over_long_question_is_refused_with_the_limit(open_page) -> None:
    page = open_page()
    long_q = "Does microneedling help? " * (MAX_QUESTION_CHARS // 20)
    answer = ask(page, long_q)
    expect(answer.locator(".qa-invalid")).to_contain_text(f"{MAX_QUESTION_CHARS:,} characters")
    expect(page.get_by_role("textbox", name="Your question")).to_have_value(long_q)  # kept for shortening
    assert fully_visible(page, "#qa-disclaimer")
    shot(page, "11-too-long")
    # Assistive technology gets the message text, not the HTML behind it.
    label = page.locator("#qa-chat [data-testid='bot']").last.get_attribute("aria-label") or ""
    assert "<" not in label and "2,000 characters" in label


def test_clear_button_and_example_questions(open_page) -> None:
    page = open_page()
    page.locator(".qa-examples-patients button", has_text=SESSIONS).click()
    expect(page.locator("#qa-chat .qa-status-answered")).to_have_count(1)
    page.get_by_role("button", name="Clear conversation").click()
    expect(page.locator("#qa-chat .qa-answer")).to_have_count(0)
    expect(page.locator("#qa-chat .qa-placeholder")).to_be_visible()
