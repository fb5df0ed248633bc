"""The JSON API on the web app's server: request/response shapes, routes, the body-size limit.

``add_api(app, qa, limiter)`` adds ``POST /api/ask``, ``GET /api/article/{id}``,
``GET /api/articles``, ``GET /healthz`` and a ``/docs`` page served from local files, with
every error as one line of JSON (``{"error": ...}``). ``BodySizeLimit`` refuses large bodies
with 413. See docs/web.md.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field, StrictStr
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import __version__
from .safety import MAX_QUESTION_CHARS
from .schema import Answer
from .service import QA

log = logging.getLogger("qa.web")

API_MAX_BODY = 64 * 1024      # /api/*: a question plus a long history fits easily
OTHER_MAX_BODY = 1024 * 1024  # the Gradio routes (no file uploads in this app)


# --- the JSON API's request and response shapes -------------------------------------------

class HistoryTurn(BaseModel):
    role: StrictStr = Field(description='"user" or "assistant"')
    content: StrictStr


class AskRequest(BaseModel):
    question: StrictStr = Field(description=f"The question (up to {MAX_QUESTION_CHARS} characters).",
                                examples=["How many sessions are usually needed?"])
    history: list[HistoryTurn] | None = Field(
        default=None, description="Earlier turns of the conversation, oldest first, for follow-ups.")


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


# --- routes ----------------------------------------------------------------------------------

def add_api(app: FastAPI, qa: QA, limiter: anyio.CapacityLimiter) -> None:
    """Add the JSON routes, one-line JSON errors and /docs to ``app`` (before Gradio is mounted)."""
    concurrency_limit = int(limiter.total_tokens)

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

    # The response model is the library's own dataclass: the API and `qa ask --json` share one
    # schema by construction.
    @app.post("/api/ask", response_model=Answer, tags=["qa"],
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
