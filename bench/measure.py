"""Small measuring helpers: percentiles, process wall time and peak memory, free ports."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np


def pct(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``; NaN when empty."""
    return float(np.percentile(values, q)) if values else float("nan")


def summary(values: list[float], digits: int = 3) -> dict[str, float]:
    """p50 / p95 / p99 / mean / n of ``values``."""
    return {"p50": round(pct(values, 50), digits), "p95": round(pct(values, 95), digits),
            "p99": round(pct(values, 99), digits),
            "mean": round(float(np.mean(values)), digits) if values else float("nan"), "n": len(values)}


def median_of(runs: list[dict[str, float]], digits: int = 3) -> dict[str, float]:
    """Key-wise median of several runs' summaries (what the tables print)."""
    keys = runs[0].keys() if runs else []
    return {k: round(float(np.median([r[k] for r in runs])), digits) for k in keys}


@dataclass
class ProcResult:
    """One finished subprocess: wall seconds, exit code, peak RSS and its output."""

    seconds: float
    returncode: int
    peak_rss_mb: float
    stdout: str
    stderr: str


def run_measured(cmd: list[str], env: dict[str, str], cwd: Path | None = None,
                 timeout: float = 600.0, stdin: str | None = None) -> ProcResult:
    """Run ``cmd`` to completion; wall time from spawn to exit and the child's own peak RSS.

    ``os.wait4`` gives the rusage of exactly this child (``RUSAGE_CHILDREN`` would
    mix in every earlier child).
    """
    import tempfile

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=err,
                                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL)
        if stdin is not None and proc.stdin is not None:
            proc.stdin.write(stdin.encode())
            proc.stdin.close()
        deadline = t0 + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.005)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return ProcResult(seconds, proc.returncode, usage.ru_maxrss / 1024.0,
                          out.read().decode(errors="replace"), err.read().decode(errors="replace"))


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a running process, in MiB; NaN if unreadable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return float("nan")


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds a process has used so far (all its threads); NaN if unreadable."""
    try:
        stat = Path(f"/proc/{pid or os.getpid()}/stat").read_text()
        fields = stat[stat.rindex(")") + 2:].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def current_rss_mb(pid: int | None = None) -> float:
    """Current resident memory (VmRSS) in MiB."""
    try:
        for line in Path(f"/proc/{pid or os.getpid()}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return float("nan")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def machine() -> dict[str, object]:
    """CPU count, model and load average: the context every figure needs."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu_model": model,
            "load_avg": [round(x, 2) for x in os.getloadavg()]}
