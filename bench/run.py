"""``make bench``: build, cold start, web app, per-question latency, throughput and scale, vs targets.

    python -m bench.run                 # default: everything, scale at 1k and 10k chunks
    BENCH_SCALE=full python -m bench.run  # also 100k chunks (adds ~3-5 minutes)
    python -m bench.run --help          # repetitions, sizes, skipping parts

Prints a table and writes ``bench/results/bench-<time>.json`` (and ``latest.json``).
Every figure is a median over repetitions; the machine is shared, so ratios
measured in the same run (ours / floor, ours / naive) are the robust numbers.
Targets are printed beside the figures, never enforced: nothing here fails.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from qa.config import ROOT, Settings, model_id

from . import api, latency, scale
from .measure import machine, run_measured

RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEV = ROOT / "tests" / "data" / "dev.jsonl"
HEAVY = ("torch", "sentence_transformers", "gradio", "transformers")
SCALE_SIZES = {"off": [], "default": [1_000, 10_000], "full": [1_000, 10_000, 100_000]}
POOL_SIZES = {"off": 0, "default": 2_000, "full": 5_000}
COLD_QUESTION = "How many microneedling sessions are usually needed?"


@dataclass
class Options:
    """What to measure and how often (defaults: the full ``make bench``)."""

    index_dir: Path | None = None  # None: build a fresh index in a temp folder (and time it)
    build_runs: int = 1
    reps: int = 3
    questions: int | None = None  # first N dev questions (None: all)
    cold_runs: int = 5
    app: bool = True
    app_starts: int = 3
    load_seconds: float = 10.0
    load_requests: dict[int, int] = field(default_factory=lambda: {1: 100, 4: 200, 16: 400})
    load_rounds: int = 3
    floor: bool = True
    scale_sizes: list[int] = field(default_factory=lambda: list(SCALE_SIZES["default"]))
    pool_size: int = POOL_SIZES["default"]
    exact_max: int | None = None
    scale_reps: int = 3
    scale_cache: bool = True
    out_dir: Path | None = RESULTS_DIR


def load_items(limit: int | None = None) -> list[dict[str, Any]]:
    """Dev questions (with their history, for follow-ups)."""
    items = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    return items[:limit] if limit else items


def _env(index_dir: Path) -> dict[str, str]:
    return {**os.environ, "QA_INDEX_DIR": str(index_dir), "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
            "GRADIO_ANALYTICS_ENABLED": "False"}


def measure_build(index_dir: Path, runs: int, log: Callable[[str], None]) -> dict[str, Any]:
    """``qa build --force`` into ``index_dir`` as a subprocess: wall seconds and peak RSS."""
    times, rss = [], []
    for i in range(runs):
        res = run_measured([sys.executable, "-m", "qa", "build", "--force", "--quiet"], _env(index_dir),
                           cwd=ROOT, timeout=1200)
        if res.returncode != 0:
            raise RuntimeError(f"qa build failed: {res.stderr.strip()[-500:]}")
        times.append(res.seconds)
        rss.append(res.peak_rss_mb)
        log(f"  build {i + 1}/{runs}: {res.seconds:.1f} s")
    return {"seconds": round(float(np.median(times)), 2), "runs": [round(t, 2) for t in times],
            "peak_rss_mb": round(float(np.median(rss)), 1)}


def measure_cold_start(index_dir: Path, runs: int, log: Callable[[str], None]) -> dict[str, Any]:
    """``qa ask --json`` from spawn to exit (first answer written), and its peak RSS."""
    cmd = [sys.executable, "-m", "qa", "ask", "--json", COLD_QUESTION]
    env = _env(index_dir)
    times, rss = [], []
    status = None
    for i in range(runs):
        res = run_measured(cmd, env, cwd=ROOT, timeout=120)
        if res.returncode != 0:
            raise RuntimeError(f"qa ask failed: {res.stderr.strip()[-500:]}")
        status = json.loads(res.stdout)["status"]
        times.append(res.seconds)
        rss.append(res.peak_rss_mb)
        log(f"  qa ask cold start {i + 1}/{runs}: {res.seconds:.2f} s")
    return {"seconds": round(float(np.median(times)), 3), "runs": [round(t, 3) for t in times],
            "peak_rss_mb": round(float(np.median(rss)), 1), "status": status,
            "imports": lean_imports(index_dir)}


def lean_imports(index_dir: Path) -> dict[str, Any]:
    """Modules ``qa ask`` imports (``-X importtime``): how many, how long, and any heavy ones."""
    res = subprocess.run([sys.executable, "-X", "importtime", "-m", "qa", "ask", "--json", COLD_QUESTION],
                         env=_env(index_dir), cwd=ROOT, capture_output=True, text=True, timeout=120)
    mods = imported_modules(res.stderr)
    tops: dict[str, int] = {}
    for name, cum_us, depth in mods:
        if depth == 0:
            top = name.split(".")[0]
            tops[top] = tops.get(top, 0) + cum_us
    slowest = sorted(tops.items(), key=lambda kv: -kv[1])[:6]
    return {"modules": len(mods), "import_ms": round(sum(tops.values()) / 1000, 1),
            "heavy": sorted({n.split(".")[0] for n, _, _ in mods} & set(HEAVY)),
            "slowest_ms": {k: round(v / 1000, 1) for k, v in slowest}}


def imported_modules(importtime_stderr: str) -> list[tuple[str, int, int]]:
    """(module, cumulative µs, nesting depth) from ``python -X importtime`` output."""
    out = []
    for line in importtime_stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = line[len("import time:"):].split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue  # the header line
        raw = parts[2]
        name = raw.strip()
        depth = (len(raw) - len(raw.lstrip()) - 1) // 2
        out.append((name, int(parts[1]), depth))
    return out


def run(opts: Options, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Measure everything ``opts`` asks for; returns the results (also written as JSON)."""
    from qa.embedding import OnnxEncoder
    from qa.index import ONNX_FILE, TOKENIZER_FILE
    from qa.service import QA
    from qa.store import generation_dir, read_manifest

    results: dict[str, Any] = {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine(),
                               "options": _jsonable(asdict(opts)), "commit": _commit()}
    tmp: Path | None = None
    try:
        if opts.index_dir is None:
            tmp = Path(tempfile.mkdtemp(prefix="qa-bench-index-"))
            index_dir = tmp
            log("Index build (qa build --force, fresh folder) ...")
            results["build"] = measure_build(index_dir, max(1, opts.build_runs), log)
        else:
            index_dir = Path(opts.index_dir)
            results["build"] = {"skipped": f"using the existing index in {index_dir}"}
        items = load_items(opts.questions)

        if opts.cold_runs:
            log("qa ask cold start ...")
            results["cold_start"] = measure_cold_start(index_dir, opts.cold_runs, log)

        if opts.app:
            log("Web app: start to first answer, then POST /api/ask throughput ...")
            results["app"] = api.measure(_env(index_dir), items, starts=opts.app_starts,
                                         requests=opts.load_requests, max_seconds=opts.load_seconds,
                                         rounds=opts.load_rounds, log=log)
            if "skipped" in results["app"]:
                log(f"  skipped: {results['app']['skipped']}")
        else:
            results["app"] = {"skipped": "not requested"}

        settings = replace(Settings(), index_dir=index_dir)
        qa = QA.load(settings=settings)
        if opts.floor:
            log(f"Per-question latency over {len(items)} dev questions x {opts.reps} ...")
            results["latency"] = latency.measure(qa, items, reps=opts.reps, log=log)

        if opts.scale_sizes:
            log(f"Scale: synthetic corpora of {', '.join(f'{n:,}' for n in opts.scale_sizes)} chunks ...")
            manifest = read_manifest(index_dir)
            gen = generation_dir(index_dir, manifest, verify=False)
            # Two intra-op threads: embedding the pool is a batch job, not a query.
            enc = OnnxEncoder(gen / ONNX_FILE, gen / TOKENIZER_FILE, dim=qa.data.encoder.dim,
                              max_seq_length=int(manifest["model"].get("max_seq_length", 256)),
                              threads=2, cache_size=0)
            cache_dir = scale.synthetic.CACHE_DIR if opts.scale_cache else None
            results["scale"] = scale.measure(
                qa, [it["question"] for it in items], opts.scale_sizes, enc, model_id(settings.model),
                pool_size=opts.pool_size, reps=opts.scale_reps, exact_max=opts.exact_max,
                cache_dir=cache_dir, log=log)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    results["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    results["machine"]["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    results["targets"] = targets(results)
    if opts.out_dir is not None:
        write_json(results, Path(opts.out_dir))
    return results


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def write_json(results: dict[str, Any], out_dir: Path) -> Path:
    """``bench-<time>.json`` plus a copy as ``latest.json``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    text = json.dumps(_jsonable(results), indent=2, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    (out_dir / "latest.json").write_text(text, encoding="utf-8")
    return path


def targets(r: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of issue 5 with the measured value and whether it is met (None: not measured)."""
    out = []

    def add(name: str, value: str, target: str, met: bool | None) -> None:
        out.append({"name": name, "value": value, "target": target, "met": met})

    lat = r.get("latency")
    if lat:
        ratio = lat["ratios"]["ours_over_floor"]
        add("total per question / bare ST encode+search (p50)", f"{ratio:.2f}x", "<= 1.0x", ratio <= 1.0)
    else:
        add("total per question / bare ST encode+search (p50)", "not measured", "<= 1.0x", None)
    cold = r.get("cold_start")
    if cold:
        add("qa ask cold start to first answer", f"{cold['seconds']:.2f} s", "<= 3 s", cold["seconds"] <= 3.0)
    else:
        add("qa ask cold start to first answer", "not measured", "<= 3 s", None)
    app = r.get("app", {})
    if "start_s" in app:
        add("web app start to first answer", f"{app['start_s']:.2f} s", "<= 10 s", app["start_s"] <= 10.0)
        l16 = next((x for x in app["throughput"] if x["clients"] == 16), None)
        if l16:
            add("16 concurrent API clients", f"{l16['qps']} q/s, {l16['errors']} errors",
                ">= 100 q/s, 0 errors", l16["qps"] >= 100 and l16["errors"] == 0)
    else:
        why = app.get("skipped", "not measured")
        add("web app start to first answer", f"skipped ({why})", "<= 10 s", None)
        add("16 concurrent API clients", "skipped", ">= 100 q/s, 0 errors", None)
    rows = (r.get("scale") or {}).get("rows", [])
    big = next((x for x in rows if x["n"] == 100_000), None)
    if big:
        rec = big["indexes"][big["chosen"]]["recall@10"]
        p50 = big["retrieve_ms"]["p50"]
        add("100k chunks: retrieval p50 at recall@10", f"{p50:.1f} ms at {rec:.3f} ({big['chosen']})",
            "<= 30 ms at >= 0.95", p50 <= 30 and rec >= 0.95)
    else:
        add("100k chunks: retrieval p50 at recall@10", "not run (BENCH_SCALE=full)", "<= 30 ms at >= 0.95",
            None)
    return out


def projected_qps(app: dict[str, Any]) -> float | None:
    """Questions/s the 16-client load would reach if it had every core to itself (an upper bound)."""
    l16 = next((x for x in app.get("throughput", []) if x["clients"] == 16), None)
    if not l16:
        return None
    cpu = (l16.get("server_cpu_ms_per_request") or 0) + (l16.get("client_cpu_ms_per_request") or 0)
    if not cpu or not np.isfinite(cpu):
        return None
    return (os.cpu_count() or 1) * 1000.0 / cpu


def _fmt(v: Any, unit: str = "", digits: int = 2) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}f}{unit}"
    return f"{v}{unit}"


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=True)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True))  # noqa: E731
    return [line(headers), line(["-" * w for w in widths]), *[line(r) for r in rows]]


def format_table(r: dict[str, Any]) -> str:
    """The human-readable report of one run."""
    m = r["machine"]
    out = [f"Benchmark {r['started']} on {m['cpus']} CPUs ({m['cpu_model']}), load average "
           f"{m['load_avg']} -> {m.get('load_avg_end')}; commit {r.get('commit') or '?'}", ""]

    rows = []
    b = r.get("build", {})
    rows.append(["index build (qa build --force)", _fmt(b.get("seconds"), " s", 1) if "seconds" in b
                 else f"skipped ({b.get('skipped')})", _fmt(b.get("peak_rss_mb"), " MiB", 0)])
    c = r.get("cold_start")
    if c:
        rows.append(["qa ask cold start to first answer", _fmt(c["seconds"], " s"),
                     _fmt(c["peak_rss_mb"], " MiB", 0)])
        imp = c["imports"]
        rows.append(["  qa ask imports", f"{imp['modules']} modules, {imp['import_ms']:.0f} ms; heavy: "
                     f"{', '.join(imp['heavy']) or 'none'}", ""])
    a = r.get("app", {})
    if "start_s" in a:
        rows.append(["web app start to first answer", _fmt(a["start_s"], " s"),
                     _fmt(a["peak_rss_mb"], " MiB", 0)])
    else:
        rows.append(["web app", f"skipped: {a.get('skipped')}", ""])
    out += ["Start-up and memory (medians)", *_table(["what", "time", "peak RSS"], rows), ""]

    if "throughput" in a:
        rows = [[str(x["clients"]), str(x["requests"]), str(x["errors"]), _fmt(x["qps"], "", 1),
                 _fmt(x["latency_ms"]["p50"], " ms", 1), _fmt(x["latency_ms"]["p95"], " ms", 1),
                 _fmt(x.get("server_cpu_ms_per_request"), " ms", 1),
                 _fmt(x.get("client_cpu_ms_per_request"), " ms", 1)]
                for x in a["throughput"]]
        out += [f"POST /api/ask throughput (loopback, distinct questions, medians of {a.get('rounds', 1)} "
                "rounds; CPU = per request, all threads)",
                *_table(["clients", "requests", "errors", "q/s", "p50", "p95", "server CPU", "client CPU",
                         "q/s per round"], [[*row, ", ".join(str(q) for q in x.get("qps_runs", []))]
                                           for row, x in zip(rows, a["throughput"], strict=True)])]
        proj = projected_qps(a)
        if proj:
            out.append(f"CPU-bound ceiling on {m['cpus']} idle cores at 16 clients: about {proj:.0f} q/s "
                       "(cores x 1000 / (server + client CPU ms per request); the GIL lowers it)")
        out.append("")

    lat = r.get("latency")
    if lat:
        ms = lat["ms"]
        label = {"retrieve": "ours: retrieve", "compose": "ours: compose", "total": "ours: total",
                 "cached": "ours: total, repeated question (cached vector)",
                 "naive": "naive dense (500-char windows, ONNX, flat)",
                 "floor_st1": "floor: bare sentence-transformers encode + FAISS, 1 torch thread",
                 "floor_stn": "floor: the same, torch default threads",
                 "floor_onnx": "floor with our ONNX encoder + FAISS"}
        rows = [[label[k], _fmt(ms[k]["p50"], " ms"), _fmt(ms[k]["p95"], " ms"), _fmt(ms[k]["p99"], " ms")]
                for k in label]
        rat = lat["ratios"]
        out += [f"Per-question latency, {lat['questions']} dev questions x {lat['reps']} runs "
                "(query cache cleared unless noted)",
                *_table(["pipeline", "p50", "p95", "p99"], rows),
                f"ratios (p50): ours / floor = {rat['ours_over_floor']:.2f}x, ours / naive = "
                f"{rat['ours_over_naive']:.2f}x, ours / ONNX floor = {rat['ours_over_onnx_floor']:.2f}x, "
                f"naive / floor = {rat['naive_over_floor']:.2f}x; CPU time ours / floor (1 thread) = "
                f"{rat['ours_over_floor_cpu']:.2f}x ({ms['total_cpu']['p50']:.2f} / "
                f"{ms['floor_st1_cpu']['p50']:.2f} ms); "
                f"query-cache hit: {lat['cache_hit_us']:.1f} µs",
                ""]

    sc = r.get("scale")
    if sc:
        rows = []
        for row in sc["rows"]:
            for kind, ix in row["indexes"].items():
                mark = "*" if kind == row["chosen"] else ""
                rows.append([f"{row['n']:,}", kind + mark, _fmt(ix["build_s"], " s"),
                             _fmt(ix["search_ms"]["p50"], " ms", 3), _fmt(ix["search_ms"]["p95"], " ms", 3),
                             _fmt(ix["recall@10"], "", 3), _fmt(ix["bytes_per_chunk"], " B", 0)])
        out += [f"Scale: vector search, top-10 ({sc['queries']} dev questions; * = chosen by qa/vectors.py; "
                f"{sc['pool_size']:,} really embedded chunks, the rest mixtures)",
                *_table(["chunks", "index", "build", "p50", "p95", "recall@10", "bytes/chunk"], rows), ""]
        rows = [[f"{row['n']:,}", row["chosen"], _fmt(row["retrieve_ms"]["p50"], " ms"),
                 _fmt(row["retrieve_ms"]["p95"], " ms"), _fmt(row["top10_vs_exact"], "", 3),
                 _fmt(row["bytes_per_chunk"]["total"], " B", 0)] for row in sc["rows"]]
        out += ["Scale: whole retrieval stage (encode + BM25 + dense + fusion + sentence re-rank), "
                "cache cleared",
                *_table(["chunks", "index", "p50", "p95", "top-10 = exact", "memory/chunk"], rows)]
        for row in sc["rows"]:
            if "retrieve_steps_ms" in row:
                st = dict(row["retrieve_steps_ms"])
                kept = st.pop("rerank_set_kept", None)
                out.append(f"  {row['n']:>7,} chunks, median ms per step: " + ", ".join(
                    f"{k} {v:.2f}" for k, v in st.items()))
                out.append(f"  {'':>7}         share of the exact-dense re-rank set kept: {kept}")
        sweep = next((row["hnsw_sweep"] for row in sc["rows"] if "hnsw_sweep" in row), None)
        if sweep:
            out.append("HNSW efSearch sweep at the largest size: " + ", ".join(
                f"ef {s['ef_search']}: recall {s['recall@10']:.3f} / {s['search_ms']['p50']:.3f} ms"
                for s in sweep))
        if "mixture_fidelity_cos" in sc:
            out.append(f"mixture vectors vs real embeddings of the joined texts: median cosine "
                       f"{sc['mixture_fidelity_cos']:.3f}")
        out.append("")

    rows = [[t["name"], t["value"], t["target"],
             {True: "met", False: "MISSED", None: "-"}[t["met"]]] for t in r["targets"]]
    out += ["Targets (issue 5)", *_table(["target", "measured", "goal", ""], rows)]
    return "\n".join(out)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    p.add_argument("--index-dir", type=Path, help="use this built index (skips timing the build)")
    p.add_argument("--reps", type=int, default=3, help="repetitions of the per-question run (3)")
    p.add_argument("--questions", type=int, help="use only the first N dev questions")
    p.add_argument("--cold-runs", type=int, default=5, help="qa ask cold starts to time (5; 0 skips)")
    p.add_argument("--app-starts", type=int, default=3, help="web app starts to time (3)")
    p.add_argument("--no-app", action="store_true", help="skip the web app and throughput")
    p.add_argument("--load-seconds", type=float, default=10.0, help="time limit per level and round (10)")
    p.add_argument("--load-rounds", type=int, default=3, help="rounds of the 1/4/16-client load (3)")
    p.add_argument("--scale", choices=sorted(SCALE_SIZES), default=os.environ.get("BENCH_SCALE", "default"),
                   help="off | default (1k, 10k chunks) | full (adds 100k); env BENCH_SCALE")
    p.add_argument("--sizes", help="comma-separated corpus sizes (overrides --scale)")
    p.add_argument("--pool", type=int, help="really embedded chunks per synthetic corpus")
    p.add_argument("--skip", default="", help="comma-separated parts to skip: cold, app, latency, scale")
    p.add_argument("--out", type=Path, default=RESULTS_DIR, help="folder for the JSON results")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark from the command line."""
    for k, v in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"), ("TOKENIZERS_PARALLELISM", "false"),
                 ("GRADIO_ANALYTICS_ENABLED", "False")):
        os.environ.setdefault(k, v)
    args = _parser().parse_args(argv)
    if args.scale not in SCALE_SIZES:
        print(f"error: BENCH_SCALE must be one of {', '.join(SCALE_SIZES)}.", file=sys.stderr)
        return 2
    skip = {x.strip() for x in args.skip.split(",") if x.strip()}
    if skip - {"cold", "app", "latency", "scale"}:
        print("error: --skip takes cold, app, latency, scale.", file=sys.stderr)
        return 2
    sizes = [int(x) for x in args.sizes.split(",")] if args.sizes else SCALE_SIZES[args.scale]
    opts = Options(index_dir=args.index_dir, reps=args.reps, questions=args.questions,
                   cold_runs=0 if "cold" in skip else args.cold_runs,
                   app=not (args.no_app or "app" in skip), app_starts=args.app_starts,
                   load_seconds=args.load_seconds, load_rounds=args.load_rounds, floor="latency" not in skip,
                   scale_sizes=[] if "scale" in skip else sizes,
                   pool_size=args.pool or POOL_SIZES[args.scale] or 2_000, out_dir=args.out)
    t0 = time.perf_counter()
    results = run(opts, log=lambda s: print(s, file=sys.stderr, flush=True))
    print(format_table(results))
    print(f"\n({time.perf_counter() - t0:.0f} s; JSON in {opts.out_dir}/latest.json)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
