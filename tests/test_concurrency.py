"""Concurrency: two builds at once cannot corrupt the index (the build lock), and one
shared ``QA`` object answers many threads exactly as it answers one."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from test_index_faults import _KILL_AT, _manifest, copy_index

from qa import QA
from qa import index as qa_index
from qa.config import ROOT, Settings


def test_two_forced_builds_at_once_leave_one_good_index(tmp_path: Path, built_index: Path,
                                                        settings: Settings) -> None:
    """Two `qa build --force` processes on one index: the lock serialises them, both succeed,
    one complete generation remains. The embedding is stubbed (random unit vectors, the old
    ONNX files) so this takes seconds; everything else (CLI, lock, writers, publish, prune)
    is the real code in real processes. A real, unstubbed build is killed mid-write in
    test_index_faults."""
    d = copy_index(built_index, tmp_path / "index")
    old_gen = built_index / _manifest(built_index)["generation"]
    env = {**os.environ, "QA_INDEX_DIR": str(d), "QA_CORPUS_DIR": str(settings.corpus_dir)}
    cmd = [sys.executable, "-c", _KILL_AT, "cli", str(old_gen), "build", "--force", "--quiet"]
    procs = [subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(3)]
    results = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err
        assert out.startswith("Built the index"), out
    gens = sorted(p.name for p in d.iterdir() if p.name.startswith("gen-"))
    assert len(gens) == 1 and _manifest(d)["generation"] == gens[0] != old_gen.name
    assert not [p.name for p in d.iterdir() if ".tmp-" in p.name]
    data = qa_index.load(replace(settings, index_dir=d))
    assert data.dense.ntotal == len(data.chunks)


QUESTIONS = [
    "How many sessions are needed?", "Does microneedling hurt?", "How long is the recovery?",
    "Which acne scars respond best?", "Is it safe for dark skin?", "What is the weather tomorrow?",
    "My face is swollen and oozing pus since yesterday", "", "x" * 3000,
    "Can I combine it with PRP?", "What should I avoid after treatment?", "How deep do the needles go?",
]


def test_one_qa_object_answers_threads_as_it_answers_one(qa: QA) -> None:
    def strip(d: dict) -> dict:
        return {k: v for k, v in d.items() if k != "timings_ms"}

    serial = [strip(qa.ask(q).to_dict()) for q in QUESTIONS]
    work = QUESTIONS * 8
    with ThreadPoolExecutor(max_workers=8) as pool:
        parallel = list(pool.map(lambda q: strip(qa.ask(q).to_dict()), work))
    assert parallel == serial * 8


def test_loadtest_smoke_has_no_errors(app_server) -> None:
    """`make loadtest` in miniature against the session's app: both paths, zero errors."""
    r = subprocess.run([sys.executable, "-m", "bench.loadtest", "--url", app_server.url, "--pid",
                        str(app_server.proc.pid), "--clients", "6", "--seconds", "3"], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "POST /api/ask" in r.stdout and "Gradio queue" in r.stdout and "app RSS" in r.stdout
