"""The web app from the outside: start to first answer, throughput of ``POST /api/ask``, peak RSS.

Loopback only, and every load is bounded by a request count and a time limit.
Questions are made distinct (a conversational prefix on each dev question) so
the server's query-vector cache does not turn the load into cache hits.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.config import ROOT

from .measure import cpu_seconds, free_port, median_of, peak_rss_mb, summary

PREFIXES = ("", "Quick question: ", "Hello, ", "Can you tell me: ", "I was wondering, ", "Please help: ",
            "One more thing. ", "Hi! ", "Sorry to bother you, ", "I read about this. ", "Thanks. ",
            "Question for you: ")


def distinct_items(items: list[dict[str, Any]], n: int, offset: int = 0) -> list[dict[str, Any]]:
    """``n`` request bodies, all different question strings (prefix x dev question)."""
    out = []
    for i in range(offset, offset + n):
        it = items[i % len(items)]
        prefix = PREFIXES[(i // len(items)) % len(PREFIXES)]
        rnd = i // (len(items) * len(PREFIXES))
        text = prefix + it["question"] + (f" ({rnd})" if rnd else "")
        out.append({"question": text, "history": it.get("history") or []})
    return out


@dataclass
class App:
    """A running ``python app.py`` that this benchmark started."""

    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path
    start_s: float = float("nan")
    first: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/ask"

    def log_tail(self, n: int = 600) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def stop(self) -> float:
        """Stop the app (its own process group); returns its peak RSS in MiB."""
        rss = peak_rss_mb(self.proc.pid)
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.log_path.unlink(missing_ok=True)
        return rss


def start_app(env: dict[str, str], question: str, timeout: float = 90.0, app_path: Path | None = None
              ) -> App:
    """Start the app and poll ``POST /api/ask`` until it answers; ``start_s`` is spawn to first answer.

    Raises ``RuntimeError`` with the app's last output when it exits or never answers.
    """
    import httpx

    app_path = app_path or ROOT / "app.py"
    port = free_port()
    fd, log_name = tempfile.mkstemp(prefix="qa-bench-app-", suffix=".log")
    log_path = Path(log_name)
    env = {**env, "QA_PORT": str(port), "GRADIO_SERVER_PORT": str(port),
           "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_ANALYTICS_ENABLED": "False"}
    t0 = time.perf_counter()
    with os.fdopen(fd, "wb") as log:
        proc = subprocess.Popen([sys.executable, str(app_path)], env=env, cwd=app_path.parent,
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    app = App(proc, port, log_path)
    body = {"question": question, "history": []}
    with httpx.Client(timeout=30.0) as client:
        while True:
            if proc.poll() is not None:
                tail = app.log_tail()
                app.stop()
                raise RuntimeError(f"app.py exited with code {proc.returncode}: {tail.strip()[-300:]}")
            if time.perf_counter() - t0 > timeout:
                tail = app.log_tail()
                app.stop()
                raise RuntimeError(f"app.py did not answer POST /api/ask within {timeout:.0f} s: "
                                   f"{tail.strip()[-300:]}")
            try:
                r = client.post(app.url, json=body)
                if r.status_code == 200 and "status" in r.json():
                    app.start_s = time.perf_counter() - t0
                    app.first = r.json()
                    return app
                if r.status_code == 404 and time.perf_counter() - t0 > 20:
                    # The server is up but has no /api/ask route.
                    app.stop()
                    raise RuntimeError("app.py serves no POST /api/ask (HTTP 404)")
            except (httpx.TransportError, ValueError):
                pass
            time.sleep(0.05)


def load(url: str, bodies: list[dict[str, Any]], clients: int, max_seconds: float,
         server_pid: int | None = None) -> dict[str, Any]:
    """``clients`` threads POST ``bodies`` (each once) until done or ``max_seconds`` pass.

    With ``server_pid``, also the server's and this client's CPU milliseconds per
    request: unlike q/s, those hardly depend on what else the shared machine runs.
    """
    import httpx

    lock = threading.Lock()
    nxt = [0]
    lat: list[float] = []
    errors: list[str] = []
    statuses: dict[str, int] = {}
    deadline = time.perf_counter() + max_seconds

    def worker() -> None:
        with httpx.Client(timeout=30.0) as client:
            while time.perf_counter() < deadline:
                with lock:
                    if nxt[0] >= len(bodies):
                        return
                    body = bodies[nxt[0]]
                    nxt[0] += 1
                t = time.perf_counter()
                try:
                    r = client.post(url, json=body)
                    ok = r.status_code == 200
                    status = r.json().get("status", "?") if ok else f"HTTP {r.status_code}"
                except Exception as exc:  # any failure counts as an error, never a crash
                    ok, status = False, type(exc).__name__
                ms = (time.perf_counter() - t) * 1000
                with lock:
                    if ok:
                        lat.append(ms)
                        statuses[status] = statuses.get(status, 0) + 1
                    else:
                        errors.append(status)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    cpu0 = (cpu_seconds(server_pid) if server_pid else float("nan"), cpu_seconds())
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join(max_seconds + 35)
    elapsed = time.perf_counter() - t0
    cpu1 = (cpu_seconds(server_pid) if server_pid else float("nan"), cpu_seconds())
    done = len(lat)
    total = max(1, done + len(errors))
    return {"clients": clients, "requests": done + len(errors), "ok": done, "errors": len(errors),
            "server_cpu_ms_per_request": round((cpu1[0] - cpu0[0]) * 1000 / total, 2),
            "client_cpu_ms_per_request": round((cpu1[1] - cpu0[1]) * 1000 / total, 2),
            "error_kinds": sorted(set(errors))[:5], "seconds": round(elapsed, 2),
            "qps": round(done / elapsed, 1) if elapsed > 0 else 0.0,
            "latency_ms": summary(lat, 1), "statuses": statuses}


def measure(env: dict[str, str], items: list[dict[str, Any]], starts: int = 3,
            levels: tuple[int, ...] = (1, 4, 16), requests: dict[int, int] | None = None,
            max_seconds: float = 10.0, rounds: int = 3, log: Any = print) -> dict[str, Any]:
    """Start-to-first-answer (median of ``starts``), then throughput at each concurrency level.

    Each round runs every level once (so load from other processes drifts over all
    levels alike); a level's figures are the medians over ``rounds``, its errors the sum.
    """
    import numpy as np

    app_path = ROOT / "app.py"
    if not app_path.is_file():
        return {"skipped": "app.py does not exist yet"}
    requests = requests or {1: 100, 4: 200, 16: 400}
    start_times = []
    app: App | None = None
    try:
        for i in range(starts):
            app = start_app(env, items[i % len(items)]["question"])
            start_times.append(app.start_s)
            log(f"  app start {i + 1}/{starts}: {app.start_s:.2f} s to first answer")
            if i < starts - 1:
                app.stop()
                app = None
        assert app is not None
        per_level: dict[int, list[dict[str, Any]]] = {c: [] for c in levels}
        offset = 0
        for r in range(rounds):
            for c in levels:
                n = requests.get(c, 200)
                bodies = distinct_items(items, n, offset)
                offset += n
                res = load(app.url, bodies, c, max_seconds, server_pid=app.proc.pid)
                per_level[c].append(res)
                log(f"  round {r + 1}/{rounds}, {c:>2} clients: {res['qps']} q/s, {res['errors']} errors, "
                    f"p50 {res['latency_ms']['p50']} ms over {res['requests']} requests; server CPU "
                    f"{res['server_cpu_ms_per_request']} ms/request")
        levels_out = [_combine(per_level[c]) for c in levels]
        rss = app.stop()
        app = None
        return {"start_s": round(float(np.median(start_times)), 3), "start_runs": [round(s, 3) for s in
                start_times], "throughput": levels_out, "rounds": rounds, "peak_rss_mb": round(rss, 1)}
    except RuntimeError as exc:
        return {"skipped": str(exc), "start_runs": [round(s, 3) for s in start_times]}
    finally:
        if app is not None:
            app.stop()


def _combine(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One concurrency level over several rounds: medians, with errors and requests summed."""
    import numpy as np

    med = lambda key: round(float(np.median([r[key] for r in runs])), 2)  # noqa: E731
    statuses: dict[str, int] = {}
    for r in runs:
        for k, v in r["statuses"].items():
            statuses[k] = statuses.get(k, 0) + v
    return {"clients": runs[0]["clients"], "requests": sum(r["requests"] for r in runs),
            "ok": sum(r["ok"] for r in runs), "errors": sum(r["errors"] for r in runs),
            "error_kinds": sorted({k for r in runs for k in r["error_kinds"]})[:5],
            "qps": round(float(np.median([r["qps"] for r in runs])), 1), "qps_runs": [r["qps"] for r in runs],
            "server_cpu_ms_per_request": med("server_cpu_ms_per_request"),
            "client_cpu_ms_per_request": med("client_cpu_ms_per_request"),
            "latency_ms": median_of([r["latency_ms"] for r in runs], 1), "statuses": statuses}
