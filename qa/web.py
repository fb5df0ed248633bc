"""The web chat (Gradio) and the JSON API (FastAPI), served by one app.

``create_app(qa)`` returns a FastAPI app with the JSON API (``web_api``: ``/api/ask``,
``/api/article/{id}``, ``/healthz``, ``/docs``) and the Gradio UI mounted at ``/``. The one
``QA`` object is shared by every request. Rendering lives in ``web_render`` (HTML) and
``web_assets`` (CSS and the source-viewer script).
"""

from __future__ import annotations

import logging
import os

# Before gradio is imported anywhere: no usage analytics leave this machine.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

from functools import partial
from typing import Any

import anyio
import gradio as gr
from fastapi import FastAPI
from gradio.components.textbox import InputHTMLAttributes

from . import __version__
from .safety import MAX_HISTORY_TURNS, MAX_QUESTION_CHARS, validate
from .schema import Answer
from .service import QA
from .web_api import BodySizeLimit, add_api
from .web_assets import CSS, FRAME_CSS, JS
from .web_render import (
    answer_html,
    compare_html,
    error_html,
    header_html,
    placeholder_html,
    user_message_html,
    viewer_placeholder_html,
)

log = logging.getLogger("qa.web")

# Measured on the 2-core machine (docs/web.md): the query path is CPU-bound and mostly
# holds the GIL, so more than two answers at once only adds latency.
CONCURRENCY_LIMIT = 2
QUEUE_MAX_SIZE = 200
MAX_SHOWN_MESSAGES = 200      # the chat shows the last 100 questions and answers

PATIENT_EXAMPLES = [
    "How many sessions are usually needed?",
    "Does microneedling hurt?",
    "How long is the recovery after microneedling?",
    "Can microneedling be done on active acne?",
]
STAFF_EXAMPLES = [
    "What needle depth is recommended for deep acne scars?",
    "How far apart should treatments be spaced?",
    "What aftercare should patients follow?",
]


# --- the UI --------------------------------------------------------------------------------

class ChatHandlers:
    """The Gradio callbacks; the chat shows HTML, ``history`` keeps the plain text turns."""

    def __init__(self, qa: QA):
        self.qa = qa

    def answer(self, question: str, history: list[dict[str, str]]) -> Answer | None:
        try:
            return self.qa.ask(question, history=history or None)
        except Exception:  # the user sees one calm sentence; the log gets the traceback
            log.exception("answering failed")
            return None

    def respond(self, message: str | None, chat: list[Any] | None, history: list[dict[str, str]] | None
                ) -> tuple[str, list[Any], list[dict[str, str]]]:
        message = message or ""
        chat = list(chat or [])
        history = list(history or [])
        answer = self.answer(message, history)
        if message.strip():
            chat.append({"role": "user", "content": user_message_html(message)})
        if answer is None:
            chat.append({"role": "assistant", "content": error_html()})
            return message, chat, history
        chat.append({"role": "assistant", "content": answer_html(answer)})
        if answer.status == "invalid":
            return message, chat, history  # keep the text so it can be shortened and resent
        # Send the plain answer text back as history, never the HTML shown in the chat.
        history += [{"role": "user", "content": answer.question},
                    {"role": "assistant", "content": answer.answer}]
        return "", chat, history[-MAX_HISTORY_TURNS:]

    def respond_ui(self, message: str | None, shown: list[Any] | None, history: list[dict[str, str]] | None
                   ) -> tuple[str, list[Any], list[Any], list[dict[str, str]]]:
        """``respond`` for the page: the chat's messages live in server-side state, so the browser
        never uploads the whole conversation with each question (the chat is output-only)."""
        box, chat, history = self.respond(message, shown, history)
        chat = chat[-MAX_SHOWN_MESSAGES:]
        return box, chat, chat, history

    def compare(self, question: str | None) -> str:
        question = question or ""
        v = validate(question)
        if v.error:
            return compare_html(question, [], v.error)
        try:
            views = self.qa.compare(v.question)
        except Exception:
            log.exception("compare failed")
            return compare_html(question, [], "Sorry, something went wrong. Please try again in a moment.")
        return compare_html(v.question, views)


SESSION_CAPACITY = 1000


def build_ui(qa: QA, concurrency_limit: int = CONCURRENCY_LIMIT) -> gr.Blocks:
    """The chat, the staff comparison tab and the source viewer, under a pinned disclaimer."""
    h = ChatHandlers(qa)
    ev: dict[str, Any] = {"concurrency_id": "qa", "concurrency_limit": concurrency_limit,
                          "show_progress": "minimal", "api_visibility": "undocumented"}
    with gr.Blocks(title="Microneedling Q&A: answers from five articles", analytics_enabled=False) as demo:
        gr.HTML(header_html(), elem_id="qa-header", js_on_load=None)
        with gr.Row(equal_height=False, elem_id="qa-main"):
            with gr.Column(scale=3, min_width=340), gr.Tabs(elem_id="qa-tabs"):
                with gr.Tab("Ask", id="ask", elem_id="qa-tab-ask"):
                    chatbot = gr.Chatbot(
                        label="Conversation", show_label=False, elem_id="qa-chat", height="60vh",
                        min_height=320, render_markdown=False, sanitize_html=True, latex_delimiters=[],
                        buttons=[], feedback_options=None, placeholder=placeholder_html(),
                        layout="bubble", allow_tags=False, autoscroll=False)
                    question = gr.Textbox(
                        label="Your question", elem_id="qa-question", lines=1, max_lines=6,
                        placeholder="Ask about microneedling for acne scars…",
                        info=f"Press Enter to ask (Shift+Enter for a new line). Up to "
                             f"{MAX_QUESTION_CHARS:,} characters.",
                        html_attributes=InputHTMLAttributes(enterkeyhint="send", autocomplete="off"))
                    with gr.Row():
                        ask_btn = gr.Button("Ask", variant="primary", elem_id="qa-ask", scale=2, min_width=90)
                        clear_btn = gr.Button("Clear conversation", variant="secondary",
                                              elem_id="qa-clear", scale=1, min_width=90)
                    shown = gr.State([])    # the chat's messages (HTML), kept on the server
                    history = gr.State([])  # plain-text turns for follow-up questions
                    io = {"outputs": [question, chatbot, shown, history]}
                    # A stable endpoint name for clients of the Gradio queue (tests/test_privacy.py).
                    question.submit(h.respond_ui, [question, shown, history], **io, **ev, api_name="respond")
                    ask_btn.click(h.respond_ui, [question, shown, history], **io, **ev)
                    clear_btn.click(lambda: ("", [], [], []), None, **io, queue=False,
                                    api_visibility="private")
                    # The chat's own trash icon empties the chat; forget the rest with it.
                    chatbot.clear(lambda: ([], []), None, [shown, history], queue=False,
                                  api_visibility="private")
                    for label, examples, cls in (("Examples for patients", PATIENT_EXAMPLES, "patients"),
                                                 ("Examples for clinic staff", STAFF_EXAMPLES, "staff")):
                        gr.Markdown(f"**{label}**", elem_classes=["qa-examples-label"])
                        with gr.Row(elem_classes=["qa-examples", f"qa-examples-{cls}"]):
                            for q in examples:
                                b = gr.Button(q, size="sm", variant="secondary",
                                              elem_classes=["qa-example"])
                                b.click(partial(h.respond_ui, q), [shown, history], **io, **ev)
                with gr.Tab("What the articles say (staff)", id="compare", elem_id="qa-tab-compare"):
                    gr.Markdown("For a question, each article's best passage side by side (its most "
                                "relevant sentence highlighted), or *Not covered in this article*.")
                    cq = gr.Textbox(label="Question to compare across the five articles",
                                    elem_id="qa-compare-question", lines=1,
                                    placeholder="e.g. How many sessions are usually needed?")
                    cbtn = gr.Button("Compare the articles", variant="primary", elem_id="qa-compare-btn")
                    with gr.Row(elem_classes=["qa-examples"]):
                        cex = [gr.Button(q, size="sm", variant="secondary", elem_classes=["qa-example"])
                               for q in PATIENT_EXAMPLES[:1] + STAFF_EXAMPLES]
                    cout = gr.HTML(compare_html("", []), elem_id="qa-compare", js_on_load=None)
                    cq.submit(h.compare, cq, cout, **ev)
                    cbtn.click(h.compare, cq, cout, **ev)
                    for b, q in zip(cex, PATIENT_EXAMPLES[:1] + STAFF_EXAMPLES, strict=True):
                        b.click(lambda q=q: (q, h.compare(q)), None, [cq, cout], **ev)
            with gr.Column(scale=2, min_width=300, elem_id="qa-viewer-col"):
                gr.HTML(viewer_placeholder_html(), elem_id="qa-viewer-html", js_on_load=None)
        gr.HTML('<p>JSON API: <a href="/docs">/docs</a> · health: <a href="/healthz">/healthz</a></p>',
                elem_id="qa-footer", js_on_load=None)
    demo.queue(default_concurrency_limit=concurrency_limit, max_size=QUEUE_MAX_SIZE)
    # Each browser session keeps its conversation server-side (~70 KiB, at most ~2 MiB);
    # Gradio's default of 10,000 sessions would let that reach gigabytes. Oldest go first.
    demo.state_session_capacity = SESSION_CAPACITY
    return demo


def theme() -> gr.themes.Base:
    """A plain theme with system fonts (nothing is fetched from a font CDN)."""
    sans = [gr.themes.Font("system-ui"), gr.themes.Font("-apple-system"), gr.themes.Font("Segoe UI"),
            gr.themes.Font("Roboto"), gr.themes.Font("Helvetica Neue"), gr.themes.Font("Arial"), "sans-serif"]
    mono = [gr.themes.Font("ui-monospace"), gr.themes.Font("Consolas"), "monospace"]
    base = gr.themes.Soft(primary_hue="teal", secondary_hue="slate", neutral_hue="slate",
                          font=sans, font_mono=mono, text_size="md")
    # Darker teal than Soft's defaults so every label and button text meets WCAG AA contrast.
    return base.set(
        button_primary_background_fill="*primary_700", button_primary_background_fill_hover="*primary_800",
        button_primary_background_fill_dark="*primary_700",
        button_primary_background_fill_hover_dark="*primary_800",
        block_title_text_color="*primary_800", block_label_text_color="*primary_800",
        block_info_text_color="*neutral_600", body_text_color_subdued="*neutral_600",
        input_placeholder_color="*neutral_500", input_border_color="*neutral_300",
        input_border_color_focus="*primary_600", color_accent="*primary_700",
    )


# --- the app -------------------------------------------------------------------------------

def create_app(qa: QA, concurrency_limit: int = CONCURRENCY_LIMIT) -> FastAPI:
    """The FastAPI app: JSON API + the Gradio UI at ``/``, sharing one ``QA`` object."""
    app = FastAPI(title="Microneedling Q&A API", version=__version__, docs_url=None, redoc_url=None,
                  description="Cited answers from five articles about microneedling for acne scars. "
                              "Not medical advice.")
    # /api/ask gets a worker pool of the same size as the Gradio queue's (docs/web.md).
    add_api(app, qa, anyio.CapacityLimiter(concurrency_limit))
    demo = build_ui(qa, concurrency_limit)
    app = gr.mount_gradio_app(
        app, demo, path="/", theme=theme(), css=CSS, head=FRAME_CSS + JS, footer_links=[], run_history=False,
        enable_monitoring=False, mcp_server=False, pwa=False, ssr_mode=False, show_error=False)
    app.add_middleware(BodySizeLimit)
    return app
