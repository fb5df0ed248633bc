"""The JSON API and the web app's server side: /api/ask, /api/article, /healthz, /docs, limits."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from fastapi.testclient import TestClient

from qa import QA
from qa.config import DISCLAIMER, ROOT
from qa.safety import MAX_QUESTION_CHARS
from qa.web import MAX_SHOWN_MESSAGES, ChatHandlers, create_app
from qa.web_api import API_MAX_BODY

SESSIONS = "How many sessions are usually needed?"
URGENT = "I had microneedling two days ago and now my face is full of pus and I have a fever"


@pytest.fixture(scope="module")
def client(qa: QA) -> Iterator[TestClient]:
    with TestClient(create_app(qa)) as c:
        yield c


def ask(client: TestClient, body: object) -> dict:
    r = client.post("/api/ask", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def assert_one_line_error(r, status: int) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}
    assert isinstance(body["error"], str) and body["error"] and "\n" not in body["error"]
    return body["error"]


def test_healthz_reports_index_and_model(client: TestClient, qa: QA) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    h = r.json()
    assert h["status"] == "ok"
    assert h["index"]["generation"] == qa.data.manifest["generation"]
    assert h["index"]["created_at"] == qa.data.manifest["created_at"]
    assert h["index"]["counts"]["documents"] == 5
    assert h["model"]["id"] == qa.data.manifest["model"]["id"]
    assert "source" not in h["model"]  # no local filesystem paths


def test_ask_answers_with_verifiable_citations(client: TestClient) -> None:
    a = ask(client, {"question": SESSIONS})
    assert a["status"] == "answered"
    assert "[1]" in a["answer"]
    assert a["citations"] and a["citations"][0]["n"] == 1
    assert a["disclaimer"] == DISCLAIMER
    assert set(a["timings_ms"]) == {"retrieve", "compose", "total"}
    for c in a["citations"]:
        art = client.get(f"/api/article/{c['doc_id']}").json()
        assert art["text"][c["start"]:c["end"]] == c["text"]
        assert art["title"] == c["title"]


def test_api_answer_is_the_cli_json_object(client: TestClient, qa: QA) -> None:
    a = ask(client, {"question": SESSIONS})
    expected = qa.ask(SESSIONS).to_dict()
    a.pop("timings_ms"), expected.pop("timings_ms")
    assert a == expected


def test_out_of_scope_is_not_found(client: TestClient) -> None:
    a = ask(client, {"question": "What is the capital of France?"})
    assert a["status"] == "not_found"
    assert a["citations"] == []
    assert "don't cover" in a["answer"]


def test_urgent_symptoms_get_the_warning_first(client: TestClient) -> None:
    a = ask(client, {"question": URGENT})
    assert a["status"] == "urgent"
    assert a["answer"].lstrip("*").startswith("Please contact your clinician")


@pytest.mark.parametrize("body, needle", [
    ({"question": ""}, "Please type a question"),
    ({"question": "   "}, "Please type a question"),
    ({"question": "x" * (MAX_QUESTION_CHARS + 1)}, f"{MAX_QUESTION_CHARS:,} characters"),
    ({"question": "does it hurt?", "history": [{"role": "robot", "content": "hi"}]}, "history"),
])
def test_bad_questions_are_status_invalid_not_errors(client: TestClient, body: dict, needle: str) -> None:
    a = ask(client, body)
    assert a["status"] == "invalid"
    assert needle.lower() in a["answer"].lower()
    assert a["citations"] == []


def test_history_is_accepted_for_follow_ups(client: TestClient) -> None:
    first = ask(client, {"question": SESSIONS})
    a = ask(client, {"question": "How far apart should they be spaced?",
                     "history": [{"role": "user", "content": SESSIONS},
                                 {"role": "assistant", "content": first["answer"]}]})
    assert a["status"] in ("answered", "not_found")


def test_malformed_json_is_400(client: TestClient) -> None:
    r = client.post("/api/ask", content=b'{"question": "does it hurt?"',
                    headers={"content-type": "application/json"})
    assert "not valid JSON" in assert_one_line_error(r, 400)


@pytest.mark.parametrize("body", [
    {"question": 123},
    {"question": None},
    {"question": ["a"]},
    {},
    {"question": "ok", "history": "not a list"},
    {"question": "ok", "history": [{"role": "user", "content": 5}]},
    {"question": "ok", "history": [{"role": "user"}]},
    [1, 2, 3],
    "just a string",
])
def test_wrong_types_are_422_with_one_line(client: TestClient, body: object) -> None:
    r = client.post("/api/ask", json=body)
    assert_one_line_error(r, 422)


def test_body_over_the_limit_is_413_by_content_length(client: TestClient) -> None:
    body = json.dumps({"question": "x" * (API_MAX_BODY + 10)}).encode()
    r = client.post("/api/ask", content=body, headers={"content-type": "application/json"})
    assert "limit" in assert_one_line_error(r, 413)


def test_streamed_body_over_the_limit_is_413(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: the server must count
        yield b'{"question": "'
        for _ in range(20):
            yield b"x" * 8192
        yield b'"}'

    r = client.post("/api/ask", content=chunks(), headers={"content-type": "application/json"})
    assert_one_line_error(r, 413)


def test_body_under_the_limit_is_answered(client: TestClient) -> None:
    history = [{"role": "user", "content": "y" * 4000}] * 10  # ~40 KiB, under the 64 KiB limit
    r = client.post("/api/ask", json={"question": SESSIONS, "history": history})
    assert r.status_code == 200


def test_article_endpoint(client: TestClient, qa: QA) -> None:
    listing = client.get("/api/articles").json()
    assert [d["id"] for d in listing] == [d.id for d in qa.documents]
    d = qa.documents[0]
    art = client.get(f"/api/article/{d.id}").json()
    assert art["text"] == d.text and art["title"] == d.title and art["publisher"] == d.publisher
    assert "No article" in assert_one_line_error(client.get("/api/article/nope"), 404)


def test_openapi_docs_are_served_without_a_cdn(client: TestClient) -> None:
    r = client.get("/docs")
    assert r.status_code == 200
    assert "swagger" in r.text.lower()
    assert "cdn." not in r.text and "/docs-static/swagger-ui-bundle.js" in r.text
    assert client.get("/docs-static/swagger-ui-bundle.js").status_code == 200
    spec = client.get("/openapi.json").json()
    assert {"/api/ask", "/healthz", "/api/article/{doc_id}"} <= set(spec["paths"])


def test_the_chat_page_is_served(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert "<html" in r.text.lower()
    assert "fonts.googleapis" not in r.text


# --- the chat handlers (what the Gradio events call) ------------------------------------------

def test_chat_keeps_plain_text_history_and_escapes_the_question(qa: QA) -> None:
    h = ChatHandlers(qa)
    q = '<img src=x onerror="window.__xss=1"> How many sessions are usually needed?'
    box, chat, history = h.respond(q, [], [])
    assert box == ""
    assert "<img" not in chat[0]["content"] and "&lt;img src=x" in chat[0]["content"]
    assert history[0] == {"role": "user", "content": q}
    assert history[1]["role"] == "assistant" and "<" not in history[1]["content"]
    _, chat, history = h.respond("How far apart should they be?", chat, history)
    assert len(chat) == 4 and len(history) == 4


def test_chat_keeps_an_over_long_question_for_editing(qa: QA) -> None:
    q = "why " * 600
    box, chat, history = ChatHandlers(qa).respond(q, [], [])
    assert box == q and history == []
    assert f"{MAX_QUESTION_CHARS:,} characters" in chat[-1]["content"]
    assert len(chat[0]["content"]) < 1000  # the echo is shortened


def test_page_chat_lives_in_server_state_and_is_capped(qa: QA) -> None:
    h = ChatHandlers(qa)
    shown = [{"role": "user", "content": "x"}] * MAX_SHOWN_MESSAGES
    box, chat, new_shown, history = h.respond_ui("Does it hurt?", shown, [])
    assert box == ""
    assert chat is new_shown and len(chat) == MAX_SHOWN_MESSAGES
    assert "qa-answer" in chat[-1]["content"] and len(history) == 2


def test_chat_shows_a_calm_error_when_answering_fails(qa: QA) -> None:
    class Broken:
        def ask(self, *a, **k):
            raise RuntimeError("boom")

    box, chat, history = ChatHandlers(Broken()).respond("does it hurt?", [], [])  # type: ignore[arg-type]
    assert "something went wrong" in chat[-1]["content"] and "boom" not in chat[-1]["content"]
    assert box == "does it hurt?" and history == []


# --- the real server ----------------------------------------------------------------------------

def test_real_server_refuses_a_chunked_oversized_body(app_server) -> None:
    u = urlparse(app_server.url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    conn.putrequest("POST", "/api/ask")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    try:
        for _ in range(12):
            chunk = b"x" * 8192
            conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        conn.send(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may answer and close before we finish sending
    r = conn.getresponse()
    assert r.status == 413
    assert "error" in json.loads(r.read())
    conn.close()


def test_app_process_never_imports_torch(built_index) -> None:
    code = ("import sys, app; from qa import QA; from qa.web import create_app; "
            "create_app(QA.load()); import os; "
            "print('torch' in sys.modules, 'sentence_transformers' in sys.modules, "
            "os.environ['GRADIO_ANALYTICS_ENABLED'])")
    env = {**os.environ, "QA_INDEX_DIR": str(built_index)}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-3:] == ["False", "False", "False"]


def test_app_refuses_a_bad_port_in_one_line(built_index) -> None:
    env = {**os.environ, "QA_INDEX_DIR": str(built_index), "QA_PORT": "not-a-port"}
    out = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "QA_PORT" in out.stderr
