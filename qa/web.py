"""The web chat (Gradio) and the JSON API (FastAPI), served by one app.

``create_app(qa)`` returns a FastAPI app with ``/api/ask``, ``/api/article/{id}``,
``/healthz`` and ``/docs``, and the Gradio UI mounted at ``/``. The one ``QA`` object
is shared by every request. Rendering lives in ``web_render`` (HTML) and
``web_assets`` (CSS and the source-viewer script).
"""

from __future__ import annotations

import logging
import os

# Before gradio is imported anywhere: no usage analytics leave this machine.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

from functools import partial
from pathlib import Path
from typing import Any

import anyio
import gradio as gr
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from gradio.components.textbox import InputHTMLAttributes
from pydantic import BaseModel, Field, StrictStr
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import __version__
from .safety import MAX_HISTORY_TURNS, MAX_QUESTION_CHARS, validate
from .schema import Answer
from .service import QA
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
API_MAX_BODY = 64 * 1024      # /api/*: a question plus a long history fits easily
OTHER_MAX_BODY = 1024 * 1024  # the Gradio routes (no file uploads in this app)

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


# --- the JSON API's request and response shapes -------------------------------------------

class HistoryTurn(BaseModel):
    role: StrictStr = Field(description='"user" or "assistant"')
    content: StrictStr


class AskRequest(BaseModel):
    question: StrictStr = Field(description=f"The question (up to {MAX_QUESTION_CHARS} characters).",
                                examples=["How many sessions are usually needed?"])
    history: list[HistoryTurn] | None = Field(
        default=None, description="Earlier turns of the conversation, oldest first, for follow-ups.")


class CitationOut(BaseModel):
    n: int
    doc_id: str
    title: str
    text: str
    start: int
    end: int
    score: float


class PassageOut(BaseModel):
    doc_id: str
    title: str
    text: str
    start: int
    end: int
    score: float


class AnswerOut(BaseModel):
    question: str
    status: str = Field(description="answered | not_found | urgent | invalid")
    answer: str = Field(description="Markdown with [n] markers")
    citations: list[CitationOut]
    retrieved: list[PassageOut]
    disclaimer: str
    timings_ms: dict[str, float]


class ArticleOut(BaseModel):
    id: str
    title: str
    publisher: str | None
    title_is_headline: bool
    text: str


class ErrorOut(BaseModel):
    error: str


# --- request body limit --------------------------------------------------------------------

class _TooLarge(StarletteHTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than the {limit // 1024} KiB limit.")


class BodySizeLimit:
    """Refuse request bodies over a limit with 413: by Content-Length, and by counting the
    bytes actually received (a chunked or lying client cannot get past it)."""

    def __init__(self, app: ASGIApp, api_limit: int = API_MAX_BODY, other_limit: int = OTHER_MAX_BODY):
        self.app = app
        self.api_limit = api_limit
        self.other_limit = other_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.api_limit if scope.get("path", "").startswith("/api/") else self.other_limit
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                await _json(scope, send, 400, "The Content-Length header is not a number.")
                return
            if too_big:
                await _json(scope, send, 413, _TooLarge(limit).detail)
                return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge(limit)  # FastAPI re-raises HTTPExceptions from body reading
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge as exc:
            if started:
                raise
            await _json(scope, send, 413, exc.detail)


async def _json(scope: Scope, send: Send, status: int, error: str) -> None:
    await JSONResponse({"error": error}, status_code=status)(scope, _no_body, send)


async def _no_body() -> Message:  # pragma: no cover - JSONResponse never reads the request
    return {"type": "http.disconnect"}


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
                    state = gr.State([])
                    io = {"outputs": [question, chatbot, state]}
                    question.submit(h.respond, [question, chatbot, state], **io, **ev)
                    ask_btn.click(h.respond, [question, chatbot, state], **io, **ev)
                    clear_btn.click(lambda: ("", [], []), None, **io, queue=False,
                                    api_visibility="private")
                    # The chat's own trash icon empties the chat; forget the history with it.
                    chatbot.clear(lambda: [], None, state, queue=False, api_visibility="private")
                    for label, examples, cls in (("Examples for patients", PATIENT_EXAMPLES, "patients"),
                                                 ("Examples for clinic staff", STAFF_EXAMPLES, "staff")):
                        gr.Markdown(f"**{label}**", elem_classes=["qa-examples-label"])
                        with gr.Row(elem_classes=["qa-examples", f"qa-examples-{cls}"]):
                            for q in examples:
                                b = gr.Button(q, size="sm", variant="secondary",
                                              elem_classes=["qa-example"])
                                b.click(partial(h.respond, q), [chatbot, state], **io, **ev)
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
    limiter = anyio.CapacityLimiter(concurrency_limit)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return JSONResponse({"error": "The request body is not valid JSON."}, status_code=400)
        e = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
        return JSONResponse({"error": f"{where}: {e.get('msg')}"}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _internal(_: Request, exc: Exception) -> JSONResponse:
        log.error("internal error", exc_info=exc)
        return JSONResponse({"error": "Internal error; see the server log."}, status_code=500)

    @app.post("/api/ask", response_model=AnswerOut, tags=["qa"],
              responses={400: {"model": ErrorOut}, 413: {"model": ErrorOut}, 422: {"model": ErrorOut}})
    async def api_ask(req: AskRequest) -> dict[str, Any]:
        """Answer one question from the five articles (same object as ``qa ask --json``).

        Bad questions (empty, too long, bad history) get status ``invalid`` with a message.
        """
        history = [t.model_dump() for t in req.history] if req.history is not None else None
        answer = await anyio.to_thread.run_sync(qa.ask, req.question, history, limiter=limiter)
        return answer.to_dict()

    @app.get("/api/articles", tags=["qa"])
    async def api_articles() -> list[dict[str, Any]]:
        """The five articles' ids, titles and publishers."""
        return [{"id": d.id, "title": d.title, "publisher": d.publisher} for d in qa.documents]

    @app.get("/api/article/{doc_id}", response_model=ArticleOut, tags=["qa"],
             responses={404: {"model": ErrorOut}})
    async def api_article(doc_id: str) -> dict[str, Any]:
        """One article's full text and metadata (citation offsets index into ``text``)."""
        try:
            d = qa.document(doc_id)
        except KeyError:
            raise StarletteHTTPException(404, f"No article with id {doc_id!r}; see /api/articles.") from None
        return {"id": d.id, "title": d.title, "publisher": d.publisher,
                "title_is_headline": d.title_is_headline, "text": d.text}

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, Any]:
        """Index and model status from the loaded manifest."""
        m = qa.data.manifest
        model = {k: v for k, v in (m.get("model") or {}).items() if k != "source"}
        return {"status": "ok", "version": __version__,
                "index": {"generation": m.get("generation"), "created_at": m.get("created_at"),
                          "format_version": m.get("format_version"), "counts": m.get("counts"),
                          "chunker": m.get("chunker")},
                "model": model, "concurrency_limit": concurrency_limit}

    _mount_docs(app)
    demo = build_ui(qa, concurrency_limit)
    app = gr.mount_gradio_app(
        app, demo, path="/", theme=theme(), css=CSS, head=FRAME_CSS + JS, footer_links=[], run_history=False,
        enable_monitoring=False, mcp_server=False, pwa=False, ssr_mode=False, show_error=False)
    app.add_middleware(BodySizeLimit)
    return app


def _mount_docs(app: FastAPI) -> None:
    """Swagger UI at /docs from the locally installed bundle (no CDN: this runs offline)."""
    try:
        import swagger_ui_bundle

        static = Path(swagger_ui_bundle.swagger_ui_path)
    except ImportError:  # pragma: no cover - fall back to FastAPI's CDN-hosted page
        static = None
    if static is not None:
        app.mount("/docs-static", StaticFiles(directory=static), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        from fastapi.openapi.docs import get_swagger_ui_html

        kw = {}
        if static is not None:
            kw = {"swagger_js_url": "/docs-static/swagger-ui-bundle.js",
                  "swagger_css_url": "/docs-static/swagger-ui.css",
                  "swagger_favicon_url": "/docs-static/favicon-32x32.png"}
        return get_swagger_ui_html(openapi_url="/openapi.json", title="Microneedling Q&A API", **kw)
