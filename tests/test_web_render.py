"""The web chat's HTML: everything from users and articles is escaped; statuses look different."""

from __future__ import annotations

import re

from qa import QA
from qa.config import DISCLAIMER
from qa.schema import Answer, ArticleView, Citation, Passage
from qa.web_render import answer_html, compare_html, header_html, markdown_html, user_message_html

EVIL = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


def tags(html: str) -> set[str]:
    return {t.lower() for t in re.findall(r"<\s*([a-zA-Z][\w-]*)", html)}


def test_header_carries_the_whole_disclaimer() -> None:
    h = header_html()
    assert DISCLAIMER.replace("'", "&#x27;") in h
    for words in ("not medical advice", "automated assistant", "five published articles",
                  "qualified health professional", "local emergency number"):
        assert words in h.lower()


def test_user_text_is_escaped() -> None:
    h = user_message_html(EVIL + "\nsecond line")
    assert "img" not in tags(h) and "script" not in tags(h)
    assert "&lt;img src=x onerror=&quot;window.__xss=1&quot;&gt;" in h
    assert "<br>" in h


def test_answer_markdown_is_escaped_and_markers_link_to_sources() -> None:
    c = Citation(n=1, doc_id="say-goodbye", title='T <b>"x"</b>', text="a < b", start=5, end=10, score=0.1)
    h = markdown_html(f"**Bold** {EVIL} [1] and [7]\n\n- *Title*: item [1]", [c])
    assert "img" not in tags(h) and "script" not in tags(h) and "b" not in tags(h)
    assert "<strong>Bold</strong>" in h and "<em>Title</em>" in h and "<ul><li>" in h
    assert 'href="#qa-src=say-goodbye:5:10:1"' in h
    assert "[7]" in h  # unknown markers stay plain text


def test_answered_shows_sources_with_view_links(qa: QA) -> None:
    a = qa.ask("How many sessions are usually needed?")
    h = answer_html(a)
    assert "qa-status-answered" in h and "Sources quoted above" in h
    for c in a.citations:
        assert f'href="#qa-src={c.doc_id}:{c.start}:{c.end}:{c.n}"' in h
    assert h.count('class="qa-view"') == len(a.citations)


def test_not_found_says_so_and_labels_related_reading(qa: QA) -> None:
    h = answer_html(qa.ask("What is the capital of France?"))
    assert "Not covered by the five articles" in h
    assert "Related reading (not an answer)" in h
    assert h.count('class="qa-cite"') == 2


def test_urgent_warning_comes_first(qa: QA) -> None:
    h = answer_html(qa.ask("My face is swollen and I have a fever and pus since my microneedling yesterday"))
    assert h.index('class="qa-urgent"') < h.find('class="qa-text"') or 'class="qa-text"' not in h
    assert 'role="alert"' in h


def test_invalid_is_a_friendly_message() -> None:
    h = answer_html(Answer(question="", status="invalid", answer="Please type a question."))
    assert "qa-invalid" in h and "Please type a question." in h


def test_passages_from_articles_are_escaped() -> None:
    p = Passage("d", "Title <i>", "text <script>alert(1)</script>", 0, 30, 0.1)
    a = Answer(question="q", status="not_found", answer="none", retrieved=[p])
    h = answer_html(a)
    assert "script" not in tags(h) and "i" not in tags(h)


def test_compare_marks_the_best_sentence_inside_the_passage() -> None:
    p = Passage("d", "Title", "First sentence. Best <one>. Last.", 100, 133, 0.2)
    views = [ArticleView("d", "Title", "Pub", True, p, 116, 127),
             ArticleView("e", "Other", None, False)]
    h = compare_html("q <b>", views)
    assert "<mark>Best &lt;one&gt;.</mark>" in h
    assert "Not covered in this article" in h
    assert "q &lt;b&gt;" in h and "1 of 2 articles" in h
    assert 'href="#qa-src=d:116:127"' in h


def test_compare_of_a_real_question_has_one_card_per_article(qa: QA) -> None:
    q = "How many sessions are usually needed?"
    h = compare_html(q, qa.compare(q))
    assert h.count('<article class="qa-card') == 5
    for d in qa.documents:
        assert d.title.replace("'", "&#x27;") in h
