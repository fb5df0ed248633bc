"""HTML for the web chat: answers with citations, the staff comparison, the header.

Pure functions (no Gradio import) so they are cheap to test. Every piece of text that
comes from a user or an article goes through ``esc`` before it is placed in markup;
the only tags in the output are the ones written here. Links that open the source
viewer use ``href="#qa-src=<doc_id>:<start>:<end>[:<n>]"`` because Gradio's chat
sanitizer drops ``data-*`` and ``on*`` attributes but keeps ``href`` and ``class``;
a small script (``web_assets.JS``) catches those clicks.
"""

from __future__ import annotations

import html
import re

from .config import DISCLAIMER
from .safety import MAX_QUESTION_CHARS
from .schema import Answer, ArticleView, Citation, Passage

# How much of an over-long question is echoed back in the chat.
ECHO_CHARS = 400
RELATED_READING = 2
URGENT_SPLIT = "What the articles say:"

APP_TITLE = "Microneedling for acne scars: answers from five articles"


def esc(text: str) -> str:
    """HTML-escape text, quotes included."""
    return html.escape(text, quote=True)


def multiline(text: str) -> str:
    """Escaped text with line breaks kept (as ``<br>``)."""
    return "<br>".join(esc(line) for line in text.split("\n"))


def source_href(doc_id: str, start: int, end: int, n: int | None = None) -> str:
    """The in-page link that opens an article in the viewer with [start:end] highlighted."""
    tail = f":{n}" if n is not None else ""
    return f"#qa-src={esc(doc_id)}:{int(start)}:{int(end)}{tail}"


# --- the page header --------------------------------------------------------------------

def header_html() -> str:
    """The title and the disclaimer; pinned to the top of the page by CSS."""
    return (
        '<header class="qa-header" role="banner">'
        f'<p class="qa-title">{esc(APP_TITLE)}</p>'
        f'<p class="qa-disclaimer" id="qa-disclaimer" role="note">'
        f'<strong>Not medical advice.</strong> {esc(DISCLAIMER)}</p>'
        "</header>"
    )


def placeholder_html() -> str:
    """What the empty chat shows."""
    return (
        '<div class="qa-placeholder"><p><strong>Ask about microneedling for acne scars.</strong></p>'
        "<p>Every answer is quoted from the articles, with numbered sources you can open and "
        "check. If the articles don't cover something, you will be told so.</p></div>"
    )


def viewer_placeholder_html() -> str:
    """The source viewer before any citation is opened."""
    return (
        '<section class="qa-viewer" id="qa-viewer" aria-label="Source article" tabindex="-1">'
        '<p class="qa-viewer-label">Source article</p>'
        '<div id="qa-viewer-body" class="qa-viewer-body" aria-live="polite">'
        '<p class="qa-muted">Choose <em>View in article</em> under an answer to read the whole '
        "article here, with the quoted passage highlighted.</p></div></section>"
    )


# --- chat messages ------------------------------------------------------------------------

def user_message_html(question: str) -> str:
    """The user's own words, escaped (HTML or script in a question shows as text)."""
    shown = question.strip()
    if len(shown) > MAX_QUESTION_CHARS:
        shown = f"{shown[:ECHO_CHARS]}… ({len(shown):,} characters in total)"
    return f'<div class="qa-user">{multiline(shown)}</div>'


_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")
_MARKER = re.compile(r"\[(\d+)\]")


def _inline(text: str, cites: dict[int, Citation]) -> str:
    """Escape one line, then apply the answer's few Markdown forms and link the [n] markers."""
    out = esc(text)
    out = _BOLD.sub(r"<strong>\1</strong>", out)
    out = _ITALIC.sub(r"<em>\1</em>", out)

    def link(m: re.Match[str]) -> str:
        c = cites.get(int(m.group(1)))
        if c is None:
            return m.group(0)
        return (f'<a class="qa-ref" href="{source_href(c.doc_id, c.start, c.end, c.n)}" '
                f'title="Source {c.n}: {esc(c.title)}">[{c.n}]</a>')

    return _MARKER.sub(link, out)


def markdown_html(text: str, citations: list[Citation] | None = None) -> str:
    """The answer's Markdown (paragraphs, ``- `` lists, bold, italics, [n]) as safe HTML."""
    cites = {c.n: c for c in citations or []}
    parts: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [ln for ln in block.split("\n") if ln.strip()]
        if not lines:
            continue
        items = [ln for ln in lines if ln.lstrip().startswith("- ")]
        if items and len(items) == len(lines):
            lis = "".join(f"<li>{_inline(ln.lstrip()[2:], cites)}</li>" for ln in lines)
            parts.append(f"<ul>{lis}</ul>")
            continue
        # A lead-in line followed by list items (as in "The articles differ on this:").
        if items and not lines[0].lstrip().startswith("- ") and len(items) == len(lines) - 1:
            lis = "".join(f"<li>{_inline(ln.lstrip()[2:], cites)}</li>" for ln in lines[1:])
            parts.append(f"<p>{_inline(lines[0], cites)}</p><ul>{lis}</ul>")
            continue
        parts.append("<p>" + "<br>".join(_inline(ln, cites) for ln in lines) + "</p>")
    return "".join(parts)


def _passage_card(p: Passage | Citation, label: str | None) -> str:
    n = p.n if isinstance(p, Citation) else None
    badge = f'<span class="qa-cite-n">{esc(label)}</span> ' if label else ""
    return (
        '<div class="qa-cite">'
        f'<p class="qa-cite-head">{badge}<span class="qa-cite-title">{esc(p.title)}</span></p>'
        f'<blockquote class="qa-cite-text">{multiline(p.text)}</blockquote>'
        f'<a class="qa-view" href="{source_href(p.doc_id, p.start, p.end, n)}">View in article'
        '<span class="qa-sr"> (opens the article beside the chat)</span> ›</a>'
        "</div>"
    )


def sources_html(citations: list[Citation]) -> str:
    """The cited passages under an answer, in [n] order."""
    if not citations:
        return ""
    cards = "".join(_passage_card(c, f"[{c.n}]") for c in citations)
    return (f'<section class="qa-sources"><p class="qa-sources-title">Sources quoted above</p>'
            f"{cards}</section>")


def answer_html(answer: Answer) -> str:
    """One assistant message, presented according to its status."""
    status = answer.status
    if status == "answered":
        body = (f'<div class="qa-text">{markdown_html(answer.answer, answer.citations)}</div>'
                + sources_html(answer.citations))
    elif status == "urgent":
        warning, _, rest = answer.answer.partition(URGENT_SPLIT)
        body = ('<div class="qa-urgent" role="alert"><p class="qa-urgent-title">'
                '<span aria-hidden="true">⚠ </span>Urgent: please seek medical help</p>'
                f"{markdown_html(warning)}</div>")
        if rest.strip():
            body += (f'<div class="qa-text"><p class="qa-subhead">{esc(URGENT_SPLIT)}</p>'
                     f"{markdown_html(rest, answer.citations)}</div>" + sources_html(answer.citations))
    elif status == "not_found":
        body = ('<div class="qa-notfound"><p class="qa-notfound-title">Not covered by the five articles</p>'
                f"{markdown_html(answer.answer)}</div>")
        related = answer.retrieved[:RELATED_READING]
        if related:
            cards = "".join(_passage_card(p, None) for p in related)
            body += ('<section class="qa-related"><p class="qa-sources-title">'
                     f"Related reading (not an answer)</p>{cards}</section>")
    elif status == "invalid":
        body = f'<div class="qa-invalid">{markdown_html(answer.answer)}</div>'
    else:  # pragma: no cover - the schema has four statuses
        body = f'<div class="qa-text">{markdown_html(answer.answer)}</div>'
    return f'<div class="qa-answer qa-status-{esc(status)}">{body}</div>'


def error_html() -> str:
    """Shown in the chat when answering failed unexpectedly (the details go to the server log)."""
    return ('<div class="qa-answer qa-status-error"><div class="qa-invalid" role="alert">'
            "<p>Sorry, something went wrong while answering. Please try again in a moment.</p>"
            "</div></div>")


# --- the staff comparison -------------------------------------------------------------------

def _highlighted_passage(v: ArticleView) -> str:
    p = v.passage
    assert p is not None
    hs, he = v.highlight_start, v.highlight_end
    if hs is None or he is None or not (p.start <= hs <= he <= p.end):
        return multiline(p.text)
    a, b = hs - p.start, he - p.start
    return (multiline(p.text[:a]) + f"<mark>{multiline(p.text[a:b])}</mark>" + multiline(p.text[b:]))


def compare_html(question: str, views: list[ArticleView], error: str | None = None) -> str:
    """One card per article: its best passage (best sentence marked) or "Not covered"."""
    if error:
        return f'<div class="qa-compare"><div class="qa-invalid"><p>{esc(error)}</p></div></div>'
    if not views:
        return ('<div class="qa-compare"><p class="qa-muted">Type a question to see what each '
                "article says about it.</p></div>")
    covered = sum(v.covered for v in views)
    cards = []
    for v in views:
        pub = f'<p class="qa-pub">{esc(v.publisher)}</p>' if v.publisher else ""
        if v.covered and v.passage is not None:
            hs = v.highlight_start if v.highlight_start is not None else v.passage.start
            he = v.highlight_end if v.highlight_end is not None else v.passage.end
            inner = (f'<blockquote class="qa-cite-text">{_highlighted_passage(v)}</blockquote>'
                     f'<a class="qa-view" href="{source_href(v.doc_id, hs, he)}">View in article ›</a>')
            cls = "qa-card qa-covered"
        else:
            inner = '<p class="qa-notcovered">Not covered in this article</p>'
            cls = "qa-card qa-not-covered"
        cards.append(f'<article class="{cls}"><h3 class="qa-card-title">{esc(v.title)}</h3>'
                     f"{pub}{inner}</article>")
    return (f'<div class="qa-compare"><p class="qa-compare-q">For: <q>{esc(question)}</q> — '
            f"{covered} of {len(views)} articles address this.</p>"
            f'<div class="qa-grid">{"".join(cards)}</div></div>')
