"""Index faults: each is detected at load with one line naming the fix, and a build
killed at any point leaves the previous index loadable.

Every test works on a private copy of the session's index. Copies hard-link the
files (the model is 90 MB) and a file is only ever damaged through ``_rewrite``,
which unlinks it first, so the session's index is never written through a link.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from qa import QA, store
from qa import index as qa_index
from qa.config import ROOT, Settings
from qa.errors import IndexCorruptError, IndexMissingError, IndexStaleError, QAError

BM25_FILES = ["bm25/data.csc.index.npy", "bm25/indices.csc.index.npy", "bm25/indptr.csc.index.npy",
              "bm25/params.index.json", "bm25/vocab.index.json"]
GEN_FILES = ["chunks.json", "dense.faiss", "sentences.npy", *BM25_FILES, "model.onnx", "tokenizer.json",
             "triage.npz", "scope.npz", "questions.npz"]
FIX = "`qa build --force`"


def copy_index(src: Path, dst: Path) -> Path:
    """A private copy of an index: hard links, never the lock file or build leftovers."""
    shutil.copytree(src, dst, copy_function=os.link, ignore=shutil.ignore_patterns(".lock", ".tmp-*"))
    return dst


def _rewrite(path: Path, data: bytes) -> None:
    path.unlink()  # break the hard link: the session's index must stay intact
    path.write_bytes(data)


def _manifest(index_dir: Path) -> dict[str, Any]:
    return json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))


def _write_manifest(index_dir: Path, manifest: Any) -> None:
    _rewrite(index_dir / "manifest.json", json.dumps(manifest).encode())


def _damage(data: bytes, mode: str) -> bytes:
    if mode == "truncated":
        return data[: len(data) // 2]
    if mode == "empty":
        return b""
    assert mode == "flipped"  # same size, one byte changed (0xff is never valid UTF-8)
    mid = len(data) // 2
    return data[:mid] + bytes([0xFF if data[mid] != 0xFF else 0x00]) + data[mid + 1:]


def _one_line(err: BaseException) -> str:
    msg = str(err)
    assert "\n" not in msg and msg.endswith(".") and "Traceback" not in msg
    return msg


@pytest.fixture()
def idx(tmp_path: Path, built_index: Path, settings: Settings) -> Settings:
    return replace(settings, index_dir=copy_index(built_index, tmp_path / "index"))


def test_the_fault_list_covers_every_index_file(built_index: Path) -> None:
    assert sorted(_manifest(built_index)["files"]) == sorted(GEN_FILES)


def test_missing_index_names_the_build_command(tmp_path: Path, settings: Settings) -> None:
    for where in (tmp_path / "does-not-exist", tmp_path):
        with pytest.raises(IndexMissingError) as err:
            QA.load(where, settings=settings)
        assert "`qa build`" in _one_line(err.value)


@pytest.mark.parametrize("mode", ["truncated", "empty", "flipped", "deleted"])
@pytest.mark.parametrize("rel", ["manifest.json", *GEN_FILES])
def test_each_damaged_file_is_refused_in_one_line(idx: Settings, rel: str, mode: str) -> None:
    path = idx.index_dir / rel if rel == "manifest.json" else \
        idx.index_dir / _manifest(idx.index_dir)["generation"] / rel
    if mode == "deleted":
        path.unlink()
    else:
        _rewrite(path, _damage(path.read_bytes(), mode))
    expected = IndexMissingError if (rel, mode) == ("manifest.json", "deleted") else IndexCorruptError
    with pytest.raises(expected) as err:
        qa_index.load(idx)
    msg = _one_line(err.value)
    assert ("`qa build`" if expected is IndexMissingError else FIX) in msg
    if rel != "manifest.json":
        assert rel.split("/")[-1] in msg


@pytest.mark.parametrize("mode", ["truncated", "empty"])
@pytest.mark.parametrize("rel", GEN_FILES)
def test_damage_behind_a_matching_checksum_is_still_one_line(idx: Settings, rel: str, mode: str) -> None:
    """If a file was damaged before its checksum was recorded, every reader's own error
    (numpy EOFError, faiss RuntimeError, onnxruntime InvalidProtobuf, tokenizers
    Exception, ...) still becomes IndexCorruptError."""
    manifest = _manifest(idx.index_dir)
    path = idx.index_dir / manifest["generation"] / rel
    _rewrite(path, _damage(path.read_bytes(), mode))
    manifest["files"][rel] = {"sha256": store.sha256_file(path), "bytes": path.stat().st_size}
    _write_manifest(idx.index_dir, manifest)
    with pytest.raises(IndexCorruptError) as err:
        qa_index.load(idx, verify=rel == "chunks.json")  # checksums pass anyway; skip re-hashing 90 MB
    assert FIX in _one_line(err.value)


def _set(manifest: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    *parents, last = path.split(".")
    node = manifest
    for p in parents:
        node = node[p]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return manifest


_DELETE = object()
FIRST_FILE = "bm25/data.csc.index.npy"


@pytest.mark.parametrize(("path", "value", "error", "fragment"), [
    ("format_version", 999, IndexStaleError, "format version 999"),
    ("format_version", _DELETE, IndexStaleError, "format version None"),
    ("model.id", "sentence-transformers/all-mpnet-base-v2", IndexStaleError, "all-mpnet-base-v2"),
    ("model.dimension", 768, IndexCorruptError, "768 dimensions"),
    ("model.dimension", "384", IndexCorruptError, "vector dimension"),
    ("model.dimension", _DELETE, IndexCorruptError, "incomplete"),
    ("model.max_seq_length", -5, IndexCorruptError, "could not be read"),
    ("chunker.target_chars", 1, IndexStaleError, "chunker settings"),
    ("corpus.files", {}, IndexStaleError, "was added since"),
    ("corpus.metadata_sha256", "0" * 64, IndexStaleError, "metadata.json changed"),
    ("corpus", _DELETE, IndexCorruptError, "incomplete"),
    ("triage.examples_sha256", "0" * 64, IndexStaleError, "labelled triage messages"),
    ("triage", _DELETE, IndexCorruptError, "incomplete"),
    ("scope.sha256", "0" * 64, IndexStaleError, "not-covered questions"),
    ("scope", _DELETE, IndexCorruptError, "incomplete"),
    ("questions.sha256", "0" * 64, IndexStaleError, "written questions"),
    ("questions", _DELETE, IndexCorruptError, "incomplete"),
    ("generation", "../elsewhere", IndexCorruptError, "names no valid build"),
    ("generation", "gen-that-does-not-exist", IndexCorruptError, "is missing"),
    ("generation", 7, IndexCorruptError, "names no valid build"),
    ("files", {}, IndexCorruptError, "names no valid build"),
    ("files", [], IndexCorruptError, "names no valid build"),
    (f"files.{FIRST_FILE}", "not a table entry", IndexCorruptError, "file table"),
    ("files.../../../../etc/passwd", {"sha256": "0", "bytes": 0}, IndexCorruptError, "file table"),
    ("files./etc/passwd", {"sha256": "0", "bytes": 0}, IndexCorruptError, "file table"),
])
def test_mismatched_or_tampered_manifest_is_refused(idx: Settings, path: str, value: Any,
                                                    error: type[QAError], fragment: str) -> None:
    manifest = _manifest(idx.index_dir)
    if path.startswith("files."):  # file names contain dots: one level only
        manifest["files"][path[len("files."):]] = value
    else:
        _set(manifest, path, value)
    _write_manifest(idx.index_dir, manifest)
    with pytest.raises(error) as err:
        qa_index.load(idx)
    msg = _one_line(err.value)
    assert fragment in msg and "`qa build" in msg


@pytest.mark.parametrize("manifest", [[1, 2], "text", None, 3])
def test_manifest_that_is_not_an_object_is_refused(idx: Settings, manifest: Any) -> None:
    _write_manifest(idx.index_dir, manifest)
    with pytest.raises(IndexCorruptError) as err:
        qa_index.load(idx)
    assert FIX in _one_line(err.value)


def test_missing_generation_folder_is_refused(idx: Settings) -> None:
    shutil.rmtree(idx.index_dir / _manifest(idx.index_dir)["generation"])
    with pytest.raises(IndexCorruptError, match="is missing; run `qa build --force`"):
        qa_index.load(idx)


def _changed_corpus(root: Path, src: Path) -> Path:
    corpus = shutil.copytree(src, root / "corpus")
    article = sorted(corpus.glob("*.txt"))[0]
    article.write_text(article.read_text(encoding="utf-8") + "\nAn added sentence about sessions.\n",
                       encoding="utf-8")
    return corpus


def test_corpus_changed_since_the_build_is_stale(idx: Settings, tmp_path: Path) -> None:
    changed = replace(idx, corpus_dir=_changed_corpus(tmp_path, idx.corpus_dir))
    with pytest.raises(IndexStaleError) as err:
        QA.load(settings=changed)
    msg = _one_line(err.value)
    assert "changed since the index was built" in msg and "`qa build`" in msg


def test_a_reader_racing_a_build_reads_the_new_generation(idx: Settings, monkeypatch) -> None:
    """A build that publishes while the app loads prunes the generation being read; the
    loader notices that the manifest moved on and reads the new one instead of failing."""
    real = store.generation_dir
    calls = []

    def publish_meanwhile(index_dir: Path, manifest: dict[str, Any], verify: bool = True) -> Path:
        if not calls:  # simulate publish + prune between reading the manifest and the files
            old = manifest["generation"]
            os.rename(index_dir / old, index_dir / "gen-published-meanwhile")
            _write_manifest(index_dir, {**manifest, "generation": "gen-published-meanwhile"})
        calls.append(manifest["generation"])
        return real(index_dir, manifest, verify)

    monkeypatch.setattr(store, "generation_dir", publish_meanwhile)
    data = qa_index.load(idx)
    assert calls[-1] == "gen-published-meanwhile" and len(calls) == 2
    assert data.manifest["generation"] == "gen-published-meanwhile"


def test_unwritable_index_folder_is_one_line(tmp_path: Path, settings: Settings) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(QAError) as err, store.build_lock(blocker / "index"):
        pass
    assert "QA_INDEX_DIR" in _one_line(err.value)


def _cli(env_extra: dict[str, str]) -> subprocess.Popen[str]:
    env = {**os.environ, **env_extra}
    return subprocess.Popen([sys.executable, "-m", "qa", "ask", "How many sessions are needed?"], env=env,
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_cli_reports_each_fault_in_one_line_with_exit_1(tmp_path: Path, built_index: Path,
                                                        settings: Settings) -> None:
    cases: dict[str, dict[str, str]] = {}
    for name in ("damaged-file", "deep-damage", "old-format", "bad-manifest", "changed-corpus"):
        cases[name] = {"QA_INDEX_DIR": str(copy_index(built_index, tmp_path / name))}
    d = Path(cases["damaged-file"]["QA_INDEX_DIR"])
    f = d / _manifest(d)["generation"] / "dense.faiss"
    _rewrite(f, _damage(f.read_bytes(), "flipped"))
    d = Path(cases["deep-damage"]["QA_INDEX_DIR"])
    m = _manifest(d)
    f = d / m["generation"] / "model.onnx"
    _rewrite(f, _damage(f.read_bytes(), "truncated"))
    m["files"]["model.onnx"] = {"sha256": store.sha256_file(f), "bytes": f.stat().st_size}
    _write_manifest(d, m)
    d = Path(cases["old-format"]["QA_INDEX_DIR"])
    _write_manifest(d, {**_manifest(d), "format_version": 0})
    _rewrite(Path(cases["bad-manifest"]["QA_INDEX_DIR"]) / "manifest.json", b'{"format_version": 1, "mod')
    cases["changed-corpus"]["QA_CORPUS_DIR"] = str(_changed_corpus(tmp_path, settings.corpus_dir))
    blocker = tmp_path / "a-file"
    blocker.write_text("x")  # a missing index is built automatically, unless it cannot be written
    cases["unwritable"] = {"QA_INDEX_DIR": str(blocker / "index")}
    procs = {name: _cli(env) for name, env in cases.items()}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=180)
        lines = err.strip().splitlines()
        if name == "unwritable":  # it first says that it is building the missing index
            assert lines[0].startswith("No index yet"), err
            lines = lines[1:]
        assert proc.returncode == 1, (name, err)
        assert out == "" and "Traceback" not in err, (name, err)
        assert len(lines) == 1 and lines[0].startswith("error: "), (name, err)
        assert ("QA_INDEX_DIR" if name == "unwritable" else "`qa build") in lines[0], (name, err)


# --- builds killed with SIGKILL --------------------------------------------------------------------

# Runs a build (store, index, faiss, bm25s, numpy: the real code) and SIGKILLs itself at one point
# of publishing. The embedding model is replaced by random unit vectors and the old generation's
# ONNX files, so a run takes a second or two instead of a full torch build; two further runs below
# kill real, unstubbed builds from outside.
_KILL_AT = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    import numpy as np
    from qa import embedding, store
    from qa.config import Settings
    from qa.index import build

    point, old_gen = sys.argv[1], Path(sys.argv[2])

    class StubEncoder:
        def __init__(self, model):
            self.dim, self.max_seq_length = 384, 256
        def encode(self, texts, batch_size=32, progress=False):
            v = np.random.default_rng(len(texts)).standard_normal((len(texts), self.dim))
            return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype("float32")
        def export_onnx(self, onnx_path, tokenizer_path):
            os.link(old_gen / "model.onnx", onnx_path)
            os.link(old_gen / "tokenizer.json", tokenizer_path)

    embedding.SentenceTransformerEncoder = StubEncoder
    die = lambda: os.kill(os.getpid(), signal.SIGKILL)

    def at(name, fn):
        def wrapped(*a, **k):
            if point == name:
                die()
            return fn(*a, **k)
        setattr(store, name, wrapped)

    at("publish", store.publish)          # generation written under .tmp-gen-*, not renamed
    at("write_atomic", store.write_atomic)  # generation renamed into place, manifest not written
    at("prune", store.prune)              # manifest switched, old generation not yet removed
    if point == "manifest_replace":       # new manifest written to its temp file, not renamed
        real_replace = os.replace
        def replace_then_die(src, dst):
            if str(dst).endswith("manifest.json"):
                die()
            real_replace(src, dst)
        os.replace = replace_then_die
    if point == "cli":                    # the real `qa` command line, e.g. build --force
        from qa.cli import main
        sys.exit(main(sys.argv[3:]))
    build(Settings(), progress=False)
""")


@pytest.mark.slow
def test_build_killed_at_any_point_leaves_a_loadable_index(tmp_path: Path, built_index: Path,
                                                          settings: Settings) -> None:
    new_corpus = _changed_corpus(tmp_path, settings.corpus_dir)  # so every build really rebuilds
    old_manifest = (built_index / "manifest.json").read_bytes()
    old_gen = built_index / _manifest(built_index)["generation"]
    runs: dict[str, subprocess.Popen[bytes]] = {}
    dirs: dict[str, Path] = {}
    env = {**os.environ, "QA_CORPUS_DIR": str(new_corpus), "OMP_NUM_THREADS": "1"}
    for name in ("early", "mid-write", "publish", "write_atomic", "manifest_replace", "prune"):
        dirs[name] = copy_index(built_index, tmp_path / name)
        cmd = [sys.executable, "-m", "qa", "build", "--quiet"] if name in ("early", "mid-write") else \
            [sys.executable, "-c", _KILL_AT, name, str(old_gen)]
        runs[name] = subprocess.Popen(cmd, env={**env, "QA_INDEX_DIR": str(dirs[name])}, cwd=ROOT,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started, deadline = time.monotonic(), time.monotonic() + 240
    while any(p.poll() is None for p in runs.values()) and time.monotonic() < deadline:
        if runs["early"].poll() is None and time.monotonic() - started > 1.5:
            runs["early"].send_signal(signal.SIGKILL)  # still importing torch / embedding
        if runs["mid-write"].poll() is None and any(p.name.startswith(".tmp-gen-")
                                                    for p in dirs["mid-write"].iterdir()):
            time.sleep(0.2)  # inside the write of the new generation (ONNX export, bm25, ...)
            runs["mid-write"].send_signal(signal.SIGKILL)
        time.sleep(0.02)
    for name, proc in runs.items():
        if proc.poll() is None:
            proc.kill()
        assert proc.wait() == -signal.SIGKILL, f"{name}: the build was not killed mid-way"

    old = replace(settings, index_dir=None)
    new = replace(settings, corpus_dir=new_corpus, index_dir=None)
    for name, d in dirs.items():
        if name == "prune":
            # Killed after the switch: the new index is complete and current; the old corpus is stale.
            assert (d / "manifest.json").read_bytes() != old_manifest
            assert qa_index.load(replace(new, index_dir=d)).manifest["generation"] != old_gen.name
            with pytest.raises(IndexStaleError):
                qa_index.load(replace(old, index_dir=d))
            continue
        # Killed before the switch: the manifest is untouched and the old index loads.
        assert (d / "manifest.json").read_bytes() == old_manifest, name
        assert qa_index.load(replace(old, index_dir=d)).manifest["generation"] == old_gen.name, name
        with pytest.raises(IndexStaleError):
            qa_index.load(replace(new, index_dir=d))
    assert any(p.name.startswith(".tmp-gen-") for p in dirs["mid-write"].iterdir())
    assert any(p.name.startswith(".manifest.json.tmp-") for p in dirs["manifest_replace"].iterdir())
    assert len(list(dirs["write_atomic"].glob("gen-*"))) == 2

    # The next build cleans up whatever a killed one left behind.
    d = dirs["manifest_replace"]
    r = subprocess.run([sys.executable, "-c", _KILL_AT, "none", str(old_gen)], cwd=ROOT,
                       env={**env, "QA_INDEX_DIR": str(d)}, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in d.iterdir() if p.name != ".lock") == \
        sorted([_manifest(d)["generation"], "manifest.json"])
    qa_index.load(replace(new, index_dir=d))
