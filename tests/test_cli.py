"""The `qa` command-line contract: fields, statuses, --jsonl order and flushing, exit codes.

Every test runs the real command (`python -m qa ...`) in a subprocess against the session's index.
"""

from __future__ import annotations

import json
import queue
import re
import subprocess
import sys
import threading
from typing import Any

import pytest

from qa.config import DISCLAIMER, ROOT
from qa.corpus import Corpus

SESSIONS_Q = "How many sessions are usually needed?"
KEYS = {"question", "status", "answer", "citations", "retrieved", "disclaimer", "timings_ms"}
PASSAGE_KEYS = {"doc_id", "title", "text", "start", "end", "score"}
CITATION_KEYS = {"n", *PASSAGE_KEYS}
NOT_FOUND_Q = "what is the capital of France"
URGENT_Q = "I had microneedling 3 days ago and now there is pus and I have a fever"
TIMEOUT = 180  # generous: first use loads the ONNX model and the index


def run_qa(args: list[str], env: dict[str, str], stdin: str | None = None,
           script: list[str] | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, *(script or ["-m", "qa"]), *args]
    return subprocess.run(cmd, input=stdin, env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=TIMEOUT)


def check_answer_object(obj: dict[str, Any], corpus: Corpus) -> None:
    """Every field of the contract, and every quoted span verbatim at its offsets."""
    assert set(obj) == KEYS
    assert obj["status"] in ("answered", "not_found", "urgent", "invalid")
    assert isinstance(obj["answer"], str) and obj["answer"].strip()
    assert obj["disclaimer"] == DISCLAIMER
    assert set(obj["timings_ms"]) == {"retrieve", "compose", "total"}
    assert all(isinstance(v, int | float) and v >= 0 for v in obj["timings_ms"].values())
    docs = corpus.by_id()
    titles = {d.id: d.title for d in corpus.documents}
    for c in obj["citations"]:
        assert set(c) == CITATION_KEYS
    assert [c["n"] for c in obj["citations"]] == list(range(1, len(obj["citations"]) + 1))
    for p in obj["retrieved"]:
        assert set(p) == PASSAGE_KEYS
        assert len(p["text"]) <= 800
    for p in obj["citations"] + obj["retrieved"]:
        assert p["doc_id"] in docs
        assert p["title"] == titles[p["doc_id"]]
        assert docs[p["doc_id"]].text[p["start"]:p["end"]] == p["text"]
        assert isinstance(p["score"], int | float)
    markers = {int(m) for m in re.findall(r"\[(\d+)\]", obj["answer"])}
    assert markers <= {c["n"] for c in obj["citations"]}, "an [n] in the answer has no citation"
    if obj["status"] == "answered":
        assert obj["citations"] and markers, "an answer must cite"
    if obj["status"] != "invalid":
        assert len(obj["retrieved"]) == 10
        scores = [p["score"] for p in obj["retrieved"]]
        assert scores == sorted(scores, reverse=True), "retrieved is not best first"


def only_json_line(proc: subprocess.CompletedProcess) -> dict[str, Any]:
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, proc.stdout
    return json.loads(lines[0])


def assert_one_line_error(proc: subprocess.CompletedProcess, code: int) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


# ---- qa ask --json -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sessions_json(built_index) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, "QA_INDEX_DIR": str(built_index)}
    return run_qa(["ask", "--json", SESSIONS_Q], env)


def test_json_answer_is_one_object_with_the_contract_fields(sessions_json, corpus: Corpus) -> None:
    assert sessions_json.returncode == 0, sessions_json.stderr
    obj = only_json_line(sessions_json)
    check_answer_object(obj, corpus)
    assert obj["question"] == SESSIONS_Q
    assert obj["status"] == "answered"


def test_json_answer_cites_the_sessions_sentence(sessions_json) -> None:
    obj = only_json_line(sessions_json)
    quoted = [c["text"] for c in obj["citations"]]
    assert any("three to six sessions" in t or "four to six sessions is common" in t for t in quoted), quoted
    assert len(obj["retrieved"]) == 10


def test_blank_question_is_status_invalid_not_a_usage_error(cli_env, corpus: Corpus) -> None:
    proc = run_qa(["ask", "--json", "   "], cli_env)
    assert proc.returncode == 0, proc.stderr
    obj = only_json_line(proc)
    check_answer_object(obj, corpus)
    assert obj["status"] == "invalid"
    assert obj["citations"] == [] and obj["retrieved"] == []


# ---- readable output -----------------------------------------------------------------------------

def test_readable_answer_shows_answer_sources_and_disclaimer(cli_env, sessions_json) -> None:
    proc = run_qa(["ask", SESSIONS_Q], cli_env)
    assert proc.returncode == 0, proc.stderr
    flat = " ".join(proc.stdout.split())
    obj = only_json_line(sessions_json)
    assert " ".join(obj["answer"].split()) in flat
    for c in obj["citations"]:
        assert f"[{c['n']}] {c['title']}" in proc.stdout
        assert " ".join(c["text"].split()) in flat
    assert "three to six sessions" in flat or "four to six sessions is common" in flat
    assert " ".join(DISCLAIMER.split()) in flat
    assert "{" not in proc.stdout.splitlines()[0], "readable output must not be JSON"


# ---- qa ask --jsonl ------------------------------------------------------------------------------

def test_jsonl_answers_every_line_in_order(cli_env, corpus: Corpus) -> None:
    history = [{"role": "user", "content": SESSIONS_Q},
               {"role": "assistant", "content": "For many people, four to six sessions is common. [1]"}]
    inputs = [
        {"question": SESSIONS_Q},
        {"question": "And how long do I wait between them?", "history": history},
        {"question": ""},
        {"question": NOT_FOUND_Q},
        {"question": URGENT_Q},
        {"question": "Does it hurt?"},
    ]
    stdin = "\n".join(json.dumps(o) for o in inputs[:3]) + "\n\n" + \
        "\n".join(json.dumps(o) for o in inputs[3:]) + "\n"  # a blank line in between is skipped
    proc = run_qa(["ask", "--jsonl"], cli_env, stdin=stdin)
    assert proc.returncode == 0, proc.stderr
    objs = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(objs) == len(inputs)
    assert [o["question"] for o in objs] == [i["question"] for i in inputs]
    for o in objs:
        check_answer_object(o, corpus)
    # Every status comes out with exit 0 (checked above).
    assert [o["status"] for o in objs[:5]] == ["answered", "answered", "invalid", "not_found", "urgent"]
    assert objs[3]["citations"] == []
    assert "clinician" in objs[4]["answer"] or "emergency" in objs[4]["answer"]
    # The follow-up used its history: it is about the time between sessions.
    top3 = " ".join(p["text"] for p in objs[1]["retrieved"][:3])
    assert "four to six weeks apart" in top3 or "1-2 months" in top3


def _next_line(lines: queue.Queue[str], proc: subprocess.Popen, question: str) -> str:
    """The next output line, failing fast if the process died instead of answering."""
    for _ in range(TIMEOUT * 10):
        try:
            return lines.get(timeout=0.1)
        except queue.Empty:
            if proc.poll() is not None and lines.empty():
                err = proc.stderr.read() if proc.stderr else ""
                pytest.fail(f"qa exited with {proc.returncode} before answering {question!r}: {err}")
    pytest.fail(f"no answer to {question!r} while stdin was still open (output not flushed?)")


def test_jsonl_is_flushed_line_by_line(cli_env) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "qa", "ask", "--jsonl"], env=cli_env, cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, bufsize=1)
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        assert proc.stdin is not None
        for question in (SESSIONS_Q, "Does it hurt?", NOT_FOUND_Q):
            proc.stdin.write(json.dumps({"question": question}) + "\n")
            proc.stdin.flush()
            # stdin stays open: the answer must arrive before any more input does.
            line = _next_line(lines, proc, question)
            assert json.loads(line)["question"] == question
        proc.stdin.close()
        assert proc.wait(timeout=TIMEOUT) == 0
        reader.join(timeout=10)
        assert lines.empty()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_jsonl_invalid_line_exits_2_naming_the_line(cli_env) -> None:
    stdin = json.dumps({"question": SESSIONS_Q}) + "\n{not json at all\n" + \
        json.dumps({"question": "Does it hurt?"}) + "\n"
    proc = run_qa(["ask", "--jsonl"], cli_env, stdin=stdin)
    message = assert_one_line_error(proc, 2)
    assert re.search(r"\bline 2\b", message), message
    # The line before the bad one was answered; nothing after it was.
    assert [json.loads(x)["question"] for x in proc.stdout.splitlines()] == [SESSIONS_Q]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8:surrogateescape"])
def test_jsonl_non_utf8_line_exits_2_naming_the_line(cli_env, encoding: str) -> None:
    """Whatever the locale's stdin error mode, a bad byte is a bad line, not a crash or a silent drop."""
    stdin = (json.dumps({"question": SESSIONS_Q}) + "\n").encode() + b'{"question": "caf\xe9 prices?"}\n'
    proc = subprocess.run([sys.executable, "-m", "qa", "ask", "--jsonl"], input=stdin,
                          env={**cli_env, "PYTHONIOENCODING": encoding}, cwd=ROOT, capture_output=True,
                          timeout=TIMEOUT)
    proc = subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode(), proc.stderr.decode())
    message = assert_one_line_error(proc, 2)
    assert re.search(r"\bline 2\b", message) and "UTF-8" in message, message
    assert [json.loads(x)["question"] for x in proc.stdout.splitlines()] == [SESSIONS_Q]


@pytest.mark.parametrize("bad", ['["a list"]', '{"q": "wrong key"}', '{"question": 42}',
                                 '{"question": "Does it hurt?", "history": "not a list"}'])
def test_jsonl_line_without_a_question_exits_2_naming_the_line(cli_env, bad: str) -> None:
    proc = run_qa(["ask", "--jsonl"], cli_env, stdin="\n" + bad + "\n")
    message = assert_one_line_error(proc, 2)
    assert re.search(r"\bline 2\b", message), message  # blank line 1 is skipped but still counted
    assert proc.stdout == ""


def test_jsonl_empty_input_writes_nothing(cli_env) -> None:
    proc = run_qa(["ask", "--jsonl"], cli_env, stdin="\n\n")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""


# ---- bad usage -----------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    [],
    ["ask"],
    ["ask", "--json"],
    ["ask", "--bogus", SESSIONS_Q],
    ["ask", "--json", "--jsonl"],
    ["ask", "--jsonl", SESSIONS_Q],
    ["ask", "--history", "not json", SESSIONS_Q],
    ["frobnicate"],
], ids=["no-command", "no-question", "json-no-question", "unknown-flag", "json-and-jsonl",
        "jsonl-with-question", "bad-history", "unknown-command"])
def test_bad_usage_exits_2_with_one_line(cli_env, args: list[str]) -> None:
    proc = run_qa(args, cli_env)
    message = assert_one_line_error(proc, 2)
    assert message.startswith("error:")
    assert proc.stdout == ""


def test_build_index_script_says_up_to_date(cli_env, built_index) -> None:
    before = (built_index / "manifest.json").read_bytes()
    proc = run_qa([], cli_env, script=["build_index.py"])
    assert proc.returncode == 0, proc.stderr
    assert "up to date" in proc.stdout
    assert (built_index / "manifest.json").read_bytes() == before
