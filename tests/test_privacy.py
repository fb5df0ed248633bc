"""Privacy: the app makes no outbound connection, and questions are written nowhere.

The app runs as a user runs it (``python app.py``) with a ``sitecustomize`` that installs
an audit hook (PEP 578) recording every ``socket.connect``/``getaddrinfo``/``sendto``
to a non-loopback destination. It starts, answers questions through the JSON API and
the Gradio queue (as the browser does), and stops; then nothing may have been recorded,
and a unique marker inside the questions may appear in no file it could have written
(the index, its home, temp and Gradio folders, the repository) nor in its output.
The ``qa ask`` command is checked the same way.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx

from bench.loadtest import stop_app
from qa.config import ROOT

AUDIT_HOOK = textwrap.dedent('''
    """Record every non-loopback network destination this process tries to reach."""
    import ipaddress, os, sys

    _OUT = os.environ["NET_AUDIT_FILE"]

    def _local(host):
        if host is None or host in ("", "localhost", "localhost.localdomain", "ip6-localhost"):
            return True
        if isinstance(host, bytes):
            host = host.decode(errors="replace")
        try:
            ip = ipaddress.ip_address(str(host).split("%")[0])
        except ValueError:
            return False
        return ip.is_loopback or ip.is_unspecified

    def _hook(event, args):
        try:
            if event == "socket.getaddrinfo":
                dest = args[0]
            elif event in ("socket.connect", "socket.sendto"):
                addr = args[1]
                if not isinstance(addr, tuple):  # AF_UNIX paths are local
                    return
                dest = addr[0]
            else:
                return
            if not _local(dest):
                fd = os.open(_OUT, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                os.write(fd, f"{event} {args[1:] if event != 'socket.getaddrinfo' else args[:2]}\\n".encode())
                os.close(fd)
        except Exception:
            pass

    sys.addaudithook(_hook)
''')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _files_containing(root: Path, needle: bytes, newer_than: float = 0.0,
                      skip: tuple[str, ...] = (".git", ".venv", "node_modules")) -> list[str]:
    hits = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in skip]
        for name in filenames:
            p = Path(dirpath) / name
            try:
                st = p.stat()
                if st.st_mtime < newer_than or st.st_size > 200 * 2**20 or not p.is_file():
                    continue
                if needle in p.read_bytes():
                    hits.append(str(p))
            except OSError:
                continue
    return hits


def _gradio_ask(url: str, question: str) -> str:
    """One chat turn through the Gradio queue, as the browser sends it."""
    cfg = httpx.get(f"{url}/config", timeout=10).json()
    comps = {c["id"]: c for c in cfg["components"]}
    fn, dep, box = next((i, d, t) for i, d in enumerate(cfg["dependencies"]) for t, e in d["targets"]
                        if e == "submit" and comps[t]["props"].get("elem_id") == "qa-question")
    data = [question if comps[c]["type"] == "textbox" else [] if comps[c]["type"] == "chatbot" else None
            for c in dep["inputs"]]
    session = secrets.token_hex(6)
    r = httpx.post(f"{url}/gradio_api/queue/join", timeout=30, json={
        "data": data, "event_data": None, "fn_index": fn, "session_hash": session, "trigger_id": box})
    assert r.status_code == 200, r.text
    with httpx.stream("GET", f"{url}/gradio_api/queue/data", params={"session_hash": session},
                      timeout=30) as s:
        for line in s.iter_lines():
            if line.startswith("data:"):
                msg = json.loads(line[5:])
                if msg.get("msg") == "process_completed":
                    assert msg.get("success"), msg
                    return json.dumps(msg["output"])
    raise AssertionError("the Gradio queue gave no result")


def test_app_makes_no_outbound_connection_and_stores_no_question(tmp_path: Path, built_index: Path) -> None:
    hook_dir = tmp_path / "hook"
    hook_dir.mkdir()
    (hook_dir / "sitecustomize.py").write_text(AUDIT_HOOK, encoding="utf-8")
    audit = tmp_path / "outbound.txt"
    home, tmp, gradio_tmp = tmp_path / "home", tmp_path / "tmp", tmp_path / "gradio"
    for d in (home, tmp, gradio_tmp):
        d.mkdir()
    marker = f"zqvx{secrets.token_hex(5)}"
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(hook_dir), os.environ.get("PYTHONPATH", "")]),
           "NET_AUDIT_FILE": str(audit), "HOME": str(home), "TMPDIR": str(tmp),
           "GRADIO_TEMP_DIR": str(gradio_tmp), "QA_INDEX_DIR": str(built_index), "QA_HOST": "127.0.0.1",
           "QA_PORT": str(port)}
    env.pop("GRADIO_ANALYTICS_ENABLED", None)  # the app must switch analytics off by itself
    started = time.time()
    out_path, err_path = tmp_path / "app.out", tmp_path / "app.err"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        app = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env, stdout=out,
                               stderr=err)
        # The command line, checked the same way while the app starts.
        cli = subprocess.run([sys.executable, "-m", "qa", "ask", "--json", f"Does it hurt? {marker}"],
                             cwd=ROOT, env=env, capture_output=True, timeout=120)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while True:
                assert app.poll() is None, err_path.read_text(errors="replace")
                assert time.monotonic() < deadline, "the app did not start"
                try:
                    if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.25)
            questions = [f"How many sessions are needed for {marker}?",
                         f"My skin is oozing pus and I have a fever {marker}",
                         f"{marker} " * 600,  # over the limit: invalid
                         f"Who won the {marker} cup?"]
            for q in questions:
                r = httpx.post(f"{url}/api/ask", timeout=30, json={
                    "question": q, "history": [{"role": "user", "content": f"earlier {marker}"},
                                               {"role": "assistant", "content": "An answer."}]})
                assert r.status_code == 200 and r.json()["status"] in ("answered", "not_found", "urgent",
                                                                       "invalid")
            assert marker in _gradio_ask(url, f"Does microneedling hurt {marker}?")
            assert httpx.post(f"{url}/api/ask", content=b'{"question": "' + marker.encode(),
                              headers={"content-type": "application/json"}, timeout=30).status_code == 400
            cfg = httpx.get(f"{url}/config", timeout=10).json()
        finally:
            stop_app(app)

    assert cli.returncode == 0, cli.stderr
    outbound = audit.read_text() if audit.exists() else ""
    assert outbound == "", f"outbound connections attempted:\n{outbound}"
    needle = marker.encode()
    assert needle not in out_path.read_bytes() and needle not in err_path.read_bytes()
    assert needle not in cli.stderr
    written = [*_files_containing(tmp_path, needle), *_files_containing(built_index, needle),
               *_files_containing(ROOT, needle, newer_than=started)]
    assert written == [], f"question text written to disk: {written}"
    # No feedback or flagging is collected: no flag component, no like/dislike buttons on the chat.
    comps = cfg["components"]
    assert not [c for c in comps if c.get("type") in ("flag", "flagging")]
    chat = [c for c in comps if c.get("type") == "chatbot"]
    assert chat and not any(c.get("props", {}).get("feedback_options") for c in chat)


def test_the_audit_hook_sees_an_outbound_attempt(tmp_path: Path) -> None:
    """The check above is only as good as its hook: it must record a real attempt."""
    (tmp_path / "sitecustomize.py").write_text(AUDIT_HOOK, encoding="utf-8")
    audit = tmp_path / "outbound.txt"
    code = ("import socket\n"
            "for f in (lambda: socket.getaddrinfo('example.org', 443),\n"
            "          lambda: socket.create_connection(('192.0.2.1', 9), timeout=0.01),\n"
            "          lambda: socket.create_connection(('127.0.0.1', 9), timeout=0.01)):\n"
            "    try: f()\n"
            "    except OSError: pass\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "NET_AUDIT_FILE": str(audit)}
    subprocess.run([sys.executable, "-c", code], env=env, timeout=60, check=True)
    lines = audit.read_text().splitlines()
    assert any("getaddrinfo ('example.org'" in x for x in lines), lines
    assert any(x.startswith("socket.connect (('192.0.2.1', 9)") for x in lines), lines
    assert not any("127.0.0.1" in x for x in lines), lines
