"""Bounded load test of the running app on loopback: ``make loadtest`` / ``python -m bench.loadtest``.

N concurrent clients for M seconds (default 24 × 30 s), half through ``POST /api/ask``
and half through the Gradio queue exactly as the browser uses it (``queue/join`` then
the ``queue/data`` event stream, one session per conversation, inputs filled as the page
fills them). Questions are the dev split's (with their follow-up histories) plus edge cases
(blank, too long, emoji, right-to-left, urgent). Prints requests, errors, p50/p95
latency per path, and the app's resident memory before, during and after the load.

The app is started here (``python app.py`` on a free loopback port) unless ``--url``
is given; only loopback addresses are accepted. Exit code 0 means zero errors.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx

ROOT = Path(__file__).resolve().parent.parent
STATUSES = ("answered", "not_found", "urgent", "invalid")
EDGE_CASES: list[dict[str, Any]] = [
    {"question": ""},
    {"question": "How many sessions? " * 150},  # over the 2,000-character limit: status invalid
    {"question": "Does microneedling hurt? 😀👍🏽"},
    {"question": "هل الوخز بالإبر الدقيقة مؤلم؟"},
    {"question": "My cheek is hot, swollen and oozing yellow pus since my session yesterday"},
    {"question": "<script>alert(1)</script> how long is the recovery?"},
    {"question": "What is the capital of France?"},
]
REQUEST_TIMEOUT_S = 60.0


def dev_questions() -> list[dict[str, Any]]:
    """The dev split's questions and histories (never the held-out test split)."""
    items = []
    with open(ROOT / "tests" / "data" / "dev.jsonl", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                obj = json.loads(line)
                items.append({"question": obj["question"], "history": obj.get("history")})
    return items


@dataclass
class PathStats:
    """Latencies and errors of one path (API or Gradio queue)."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)

    def summary(self, seconds: float) -> dict[str, Any]:
        lat = sorted(self.latencies_ms)
        pct = (lambda p: round(lat[min(len(lat) - 1, int(p * len(lat)))], 1)) if lat else (lambda p: None)
        return {"requests": len(lat) + len(self.errors), "errors": len(self.errors),
                "req_per_s": round(len(lat) / seconds, 1), "p50_ms": pct(0.50), "p95_ms": pct(0.95),
                "max_ms": round(lat[-1], 1) if lat else None,
                "mean_ms": round(statistics.fmean(lat), 1) if lat else None,
                "statuses": dict(sorted(self.statuses.items())),
                "error_examples": sorted(set(self.errors))[:5]}


# --- the app's memory ------------------------------------------------------------------------

def rss_mib(pid: int | None) -> tuple[float, float] | None:
    """(resident, peak resident) memory of ``pid`` in MiB: psutil if installed, else /proc."""
    if pid is None:
        return None
    try:
        import psutil

        p = psutil.Process(pid)
        info = p.memory_info()
        peak = getattr(info, "peak_wset", None) or _proc_status(pid).get("VmHWM", info.rss / 1024) * 1024
        return info.rss / 2**20, peak / 2**20
    except ImportError:
        pass
    except Exception:
        return None
    status = _proc_status(pid)
    if "VmRSS" not in status:
        return None
    return status["VmRSS"] / 1024, status.get("VmHWM", status["VmRSS"]) / 1024


def _proc_status(pid: int) -> dict[str, float]:
    out: dict[str, float] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = float(value.split()[0])  # kB
    except OSError:
        pass
    return out


# --- starting the app ------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_app(log_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``python app.py`` on a free loopback port; returns the process and its URL once healthy."""
    port = free_port()
    env = {**os.environ, "QA_HOST": "127.0.0.1", "QA_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False",
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    log = open(log_path, "wb")  # noqa: SIM115 - the app writes to it until it is stopped
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300  # a missing index is built first
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"The app exited with code {proc.returncode} before serving; see {log_path}.")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    stop_app(proc)
    raise SystemExit(f"The app did not answer /healthz within 300 s; see {log_path}.")


def stop_app(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def check_loopback(url: str) -> None:
    host = urlparse(url).hostname or ""
    try:
        ok = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = False
    if not ok:
        raise SystemExit(f"Load tests run only against loopback (127.0.0.1, ::1, localhost), not {host!r}.")


# --- the two client kinds ---------------------------------------------------------------------

async def api_request(client: httpx.AsyncClient, url: str, item: dict[str, Any], stats: PathStats) -> None:
    body = {"question": item["question"]}
    if item.get("history"):
        body["history"] = item["history"]
    t0 = time.perf_counter()
    try:
        r = await client.post(f"{url}/api/ask", json=body, timeout=REQUEST_TIMEOUT_S)
        ms = (time.perf_counter() - t0) * 1000
        if r.status_code != 200:
            stats.errors.append(f"HTTP {r.status_code}: {r.text[:120]}")
            return
        status = r.json().get("status")
        if status not in STATUSES:
            stats.errors.append(f"bad status {status!r}")
            return
    except (httpx.HTTPError, ValueError) as exc:
        stats.errors.append(f"{type(exc).__name__}: {exc}"[:160])
        return
    stats.latencies_ms.append(ms)
    stats.statuses[status] = stats.statuses.get(status, 0) + 1


class GradioSession:
    """One browser tab: a session hash, the chat it last showed, a new conversation every few turns."""

    TURNS = 6

    def __init__(self, event: ChatEvent):
        self.event = event
        self.reset()

    def reset(self) -> None:
        self.session_hash = secrets.token_hex(6)
        self.chat: list[Any] = []
        self.turns = 0

    async def ask(self, client: httpx.AsyncClient, url: str, question: str, stats: PathStats) -> None:
        if self.turns >= self.TURNS:
            self.reset()
        base = f"{url}/gradio_api"
        t0 = time.perf_counter()
        try:
            # As the browser: the text box's value, the chat if it is an input, state is server-side.
            data = [question if t == "textbox" else self.chat if t == "chatbot" else None
                    for t in self.event.input_types]
            r = await client.post(f"{base}/queue/join", timeout=REQUEST_TIMEOUT_S, json={
                "data": data, "event_data": None, "fn_index": self.event.fn_index,
                "trigger_id": self.event.trigger_id, "session_hash": self.session_hash})
            if r.status_code != 200:
                stats.errors.append(f"join HTTP {r.status_code}: {r.text[:120]}")
                return
            output = None
            async with client.stream("GET", f"{base}/queue/data", params={"session_hash": self.session_hash},
                                     timeout=REQUEST_TIMEOUT_S) as s:
                async for line in s.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    msg = json.loads(line[5:])
                    if msg.get("msg") == "queue_full":
                        stats.errors.append("queue full")
                        return
                    if msg.get("msg") == "process_completed":
                        if not msg.get("success"):
                            stats.errors.append(f"gradio error: {str(msg.get('output'))[:120]}")
                            return
                        output = msg["output"]["data"]
                        break
            ms = (time.perf_counter() - t0) * 1000
            if output is None:
                stats.errors.append("event stream ended without a result")
                return
            chat = output[self.event.chat_output]
            last = chat[-1]["content"] if chat else None
            text = last[0]["text"] if isinstance(last, list) and last else str(last)
            status = next((s for s in STATUSES if f"qa-status-{s}" in text), None)
            if status is None:
                stats.errors.append(f"no answer in the chat: {text[:120]}")
                return
        except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as exc:
            stats.errors.append(f"{type(exc).__name__}: {exc}"[:160])
            return
        self.chat = chat
        self.turns += 1
        stats.latencies_ms.append(ms)
        stats.statuses[status] = stats.statuses.get(status, 0) + 1


@dataclass(frozen=True)
class ChatEvent:
    """How the page submits a question: the event's fn_index, its trigger, the types of its
    inputs (to fill them as the browser does) and where the chat is among its outputs."""

    fn_index: int
    trigger_id: int | None
    input_types: tuple[str, ...]
    chat_output: int


def find_chat_event(url: str) -> ChatEvent:
    """The question box's submit event, from the app's Gradio config (found by ``elem_id``)."""
    cfg = httpx.get(f"{url}/config", timeout=10).json()
    comps = {c["id"]: c for c in cfg["components"]}
    for i, dep in enumerate(cfg["dependencies"]):
        for target, event in dep.get("targets") or []:
            if event == "submit" and comps.get(target, {}).get("props", {}).get("elem_id") == "qa-question":
                outputs = [comps[c]["type"] for c in dep["outputs"]]
                return ChatEvent(int(dep.get("id", i)), target,
                                 tuple(comps[c]["type"] for c in dep["inputs"]), outputs.index("chatbot"))
    raise SystemExit("The app's Gradio config has no submit event on #qa-question; is this the Q&A app?")


# --- the run ------------------------------------------------------------------------------------

async def run(url: str, clients: int, seconds: float, pid: int | None, seed: int,
              paths: tuple[str, ...] = ("api", "gradio")) -> dict[str, Any]:
    rng = random.Random(seed)
    items = dev_questions() + EDGE_CASES
    event = find_chat_event(url)
    api, ui = PathStats(), PathStats()
    limits = httpx.Limits(max_connections=clients * 2 + 4, max_keepalive_connections=clients * 2 + 4)
    async with httpx.AsyncClient(limits=limits, trust_env=False) as client:
        # Warm up both paths (not counted), then measure memory at rest.
        for item in items[:3]:
            await api_request(client, url, item, PathStats())
            await GradioSession(event).ask(client, url, item["question"], PathStats())
        await asyncio.sleep(1.0)
        before = rss_mib(pid)
        samples: list[tuple[float, float]] = []
        t_start = time.monotonic()
        deadline = t_start + seconds

        async def api_client(k: int) -> None:
            r = random.Random(seed * 1000 + k)
            while time.monotonic() < deadline:
                await api_request(client, url, r.choice(items), api)

        async def ui_client(k: int) -> None:
            r = random.Random(seed * 2000 + k)
            session = GradioSession(event)
            while time.monotonic() < deadline:
                await session.ask(client, url, r.choice(items)["question"], ui)

        async def sampler() -> None:
            while time.monotonic() < deadline:
                await asyncio.sleep(min(5.0, max(0.1, deadline - time.monotonic())))
                m = rss_mib(pid)
                if m:
                    samples.append((round(time.monotonic() - t_start, 1), round(m[0], 1)))

        n_api = clients if paths == ("api",) else 0 if paths == ("gradio",) else (clients + 1) // 2
        tasks = [api_client(k) for k in range(n_api)] + [ui_client(k) for k in range(clients - n_api)]
        rng.shuffle(tasks)
        await asyncio.gather(sampler(), *tasks)
        elapsed = time.monotonic() - t_start
        await asyncio.sleep(2.0)
        after = rss_mib(pid)
    half = [m for t, m in samples if t >= seconds / 2]
    return {
        "url": url, "clients": clients, "api_clients": n_api, "gradio_clients": clients - n_api,
        "seconds": round(elapsed, 1), "cpus": os.cpu_count(),
        "api": api.summary(elapsed), "gradio": ui.summary(elapsed),
        "all": PathStats(api.latencies_ms + ui.latencies_ms, api.errors + ui.errors).summary(elapsed),
        "rss_mib": None if before is None or after is None else {
            "before": round(before[0], 1), "after": round(after[0], 1),
            "growth": round(after[0] - before[0], 1), "peak": round(after[1], 1),
            "second_half_growth": round(half[-1] - half[0], 1) if len(half) >= 2 else None,
            "samples": samples},
    }


def report(res: dict[str, Any]) -> str:
    lines = [f"Load test: {res['clients']} clients ({res['api_clients']} POST /api/ask, "
             f"{res['gradio_clients']} Gradio queue) for {res['seconds']} s against {res['url']} "
             f"({res['cpus']} CPUs)", "",
             f"{'path':<16}{'requests':>9}{'errors':>8}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"]
    for name, key in (("POST /api/ask", "api"), ("Gradio queue", "gradio"), ("all", "all")):
        s = res[key]
        lines.append(f"{name:<16}{s['requests']:>9}{s['errors']:>8}{s['req_per_s']:>8}{s['p50_ms']!s:>9}"
                     f"{s['p95_ms']!s:>9}{s['max_ms']!s:>9}")
    statuses = {k: res["api"]["statuses"].get(k, 0) + res["gradio"]["statuses"].get(k, 0) for k in STATUSES}
    lines += ["", "statuses: " + ", ".join(f"{k} {v}" for k, v in statuses.items())]
    m = res["rss_mib"]
    if m:
        lines.append(f"app RSS: {m['before']} MiB before, {m['after']} MiB after ({m['growth']:+} MiB), "
                     f"peak {m['peak']} MiB; second half of the run "
                     + ("n/a" if m["second_half_growth"] is None else f"{m['second_half_growth']:+} MiB"))
        lines.append("RSS samples (s, MiB): " + ", ".join(f"{t:g}:{v:g}" for t, v in m["samples"]))
    else:
        lines.append("app RSS: not available (pass --pid with --url to measure it)")
    for e in res["all"]["error_examples"]:
        lines.append(f"error: {e}")
    if "app_log_errors" in res:
        lines.append(f"app log: {res['app_log_errors']} error/traceback lines")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.loadtest", description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", help="a running app (loopback only); default: start app.py on a free port")
    ap.add_argument("--pid", type=int, help="the app's process id, to measure its memory with --url")
    ap.add_argument("--clients", type=int, default=int(os.environ.get("LOADTEST_CLIENTS", 24)))
    ap.add_argument("--seconds", type=float, default=float(os.environ.get("LOADTEST_SECONDS", 30)))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--paths", default="api,gradio", choices=["api,gradio", "api", "gradio"],
                    help="which paths the clients use (default: half each)")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args(argv)
    if not (1 <= args.clients <= 200 and 1 <= args.seconds <= 600):
        raise SystemExit("Keep the load bounded: 1-200 clients for 1-600 seconds.")
    proc = None
    with tempfile.TemporaryDirectory(prefix="qa-loadtest-") as tmp:
        log_path = Path(tmp) / "app.log"
        if args.url:
            url, pid = args.url.rstrip("/"), args.pid
            check_loopback(url)
        else:
            print("Starting the app (python app.py) on a free loopback port ...", file=sys.stderr)
            proc, url = start_app(log_path)
            pid = proc.pid
        try:
            res = asyncio.run(run(url, args.clients, args.seconds, pid, args.seed,
                                  tuple(args.paths.split(","))))
        finally:
            if proc is not None:
                stop_app(proc)
        if proc is not None:
            log = log_path.read_text(encoding="utf-8", errors="replace")
            res["app_log_errors"] = sum(1 for line in log.splitlines()
                                        if "Traceback" in line or "ERROR" in line or "error" in line.lower())
    print(report(res))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    return 0 if res["all"]["errors"] == 0 and not res.get("app_log_errors") else 1


if __name__ == "__main__":
    sys.exit(main())
