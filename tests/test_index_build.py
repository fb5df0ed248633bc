"""Building the index: the manifest, idempotent builds, --force, and refusing a stale or damaged index.

Only one extra build runs here (a forced rebuild). Tests that change the corpus or the index work
on private copies of the session's index and of corpus/, so they never disturb other tests.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from qa import index as qa_index
from qa import store
from qa.config import INDEX_FORMAT_VERSION, ROOT, Settings
from qa.corpus import Corpus, load_corpus
from qa.errors import IndexCorruptError, IndexMissingError, IndexStaleError
from qa.index import build, is_up_to_date


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _manifest(index_dir: Path) -> dict:
    return json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))


def _copy_workspace(root: Path, settings: Settings, built_index: Path) -> Settings:
    """Private copies of corpus/ and of the built index (byte-identical, so still up to date)."""
    corpus_dir = root / "corpus"
    index_dir = root / "index"
    shutil.copytree(settings.corpus_dir, corpus_dir)
    shutil.copytree(built_index, index_dir, ignore=shutil.ignore_patterns(".lock"))
    return replace(settings, corpus_dir=corpus_dir, index_dir=index_dir)


@pytest.fixture()
def workspace(tmp_path: Path, settings: Settings, built_index: Path) -> Settings:
    return _copy_workspace(tmp_path, settings, built_index)


def _qa_cmd(args: list[str], ws: Settings, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "QA_INDEX_DIR": str(ws.index_dir), "QA_CORPUS_DIR": str(ws.corpus_dir)}
    return subprocess.run([sys.executable, "-m", "qa", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


# ---- the manifest of the session's index ---------------------------------------------------------

def test_manifest_records_what_the_index_was_built_from(built_index: Path, settings: Settings,
                                                        corpus: Corpus) -> None:
    m = _manifest(built_index)
    assert m["format_version"] == INDEX_FORMAT_VERSION
    assert "all-MiniLM-L6-v2" in m["model"]["id"]
    assert m["model"]["dimension"] == 384
    files = m["corpus"]["files"]
    assert set(files) == {d.file for d in corpus.documents}
    for doc in corpus.documents:
        assert files[doc.file]["sha256"] == _sha256(settings.corpus_dir / doc.file)
        assert files[doc.file]["doc_id"] == doc.id
        assert files[doc.file]["original_file"] == doc.original_file
    assert m["corpus"]["metadata_sha256"] == _sha256(settings.corpus_dir / "metadata.json")
    assert m["chunker"] == settings.chunker.to_dict()
    assert m["chunker"]["max_chars"] <= 800
    adapted = dict(m["model"]["adapted"])
    assert len(adapted.pop("key")) == 16 and adapted == settings.adapt.to_dict()
    datetime.strptime(m["created_at"], "%Y-%m-%dT%H:%M:%S%z")  # a real timestamp


def test_manifest_checksums_every_index_file(built_index: Path) -> None:
    m = _manifest(built_index)
    gen = built_index / m["generation"]
    assert gen.is_dir()
    on_disk = {p.relative_to(gen).as_posix() for p in gen.rglob("*") if p.is_file()}
    assert set(m["files"]) == on_disk
    for required in ("chunks.json", "dense.faiss", "sentences.npy", "model.onnx", "tokenizer.json"):
        assert required in m["files"]
    assert any(name.startswith("bm25/") for name in m["files"])
    for rel, meta in m["files"].items():
        assert meta["sha256"] == _sha256(gen / rel), rel
        assert meta["bytes"] == (gen / rel).stat().st_size, rel
    # Only one generation and no leftovers of a build.
    assert [p.name for p in built_index.iterdir() if p.is_dir()] == [m["generation"]]
    assert not any(p.name.startswith((".tmp-", ".manifest.json.tmp")) for p in built_index.iterdir())


def test_index_loads_with_passages_of_at_most_800_chars(built_index: Path, settings: Settings) -> None:
    data = qa_index.load(settings)
    assert data.manifest["counts"]["chunks"] == len(data.chunks) == data.dense.ntotal
    assert data.manifest["counts"]["sentences"] == len(data.sentences)
    assert max(len(c.text) for c in data.chunks) <= 800
    for c in data.chunks:
        assert data.documents[c.doc_id].text[c.start:c.end] == c.text


# ---- idempotence and --force ---------------------------------------------------------------------

def test_second_build_is_skipped_as_up_to_date(built_index: Path, settings: Settings) -> None:
    before = (built_index / "manifest.json").read_bytes()
    report = build(settings, progress=False)
    assert report["built"] is False
    assert "up to date" in report["reason"]
    assert (built_index / "manifest.json").read_bytes() == before


def test_cli_build_says_up_to_date(workspace: Settings) -> None:
    before = (workspace.index_dir / "manifest.json").read_bytes()
    proc = _qa_cmd(["build"], workspace)
    assert proc.returncode == 0, proc.stderr
    assert "up to date" in proc.stdout
    assert (workspace.index_dir / "manifest.json").read_bytes() == before


def test_force_rebuilds_and_ignores_an_unlisted_file(workspace: Settings,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    old = _manifest(workspace.index_dir)
    (workspace.corpus_dir / "draft-notes.txt").write_text("Unlisted draft about prices.\n", encoding="utf-8")
    report = build(workspace, force=True, progress=False)
    assert report["built"] is True
    # The unlisted file is reported, and not indexed.
    err = capsys.readouterr().err
    assert "draft-notes.txt" in err and "not listed" in err
    new = _manifest(workspace.index_dir)
    assert new["generation"] != old["generation"]
    assert "draft-notes.txt" not in new["corpus"]["files"]
    assert new["corpus"]["files"] == old["corpus"]["files"]
    assert new["counts"] == old["counts"]
    assert (report["chunks"], report["sentences"]) == (new["counts"]["chunks"], new["counts"]["sentences"])
    # The old generation was replaced, not left beside the new one.
    dirs = [p.name for p in workspace.index_dir.iterdir() if p.is_dir()]
    assert dirs == [new["generation"]]
    data = qa_index.load(workspace)
    assert data.manifest["generation"] == new["generation"]
    # ...and the rebuilt index is now up to date, so a plain build skips.
    assert build(workspace, progress=False)["built"] is False


@pytest.mark.parametrize(("argv", "force"), [(["build"], False), (["build", "--force"], True),
                                             (["build", "--force", "--quiet"], True)])
def test_cli_build_passes_force_through(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                        argv: list[str], force: bool) -> None:
    """`qa build --force` reaches build(force=True); the real rebuild is tested above."""
    from qa import cli

    calls: list[dict] = []

    def fake_build(settings: Settings, force: bool = False, progress: bool = True) -> dict:
        calls.append({"force": force, "progress": progress})
        if force:
            return {"built": True, "reason": "built", "index_dir": "X", "chunks": 1, "sentences": 2,
                    "seconds": 0.1}
        return {"built": False, "reason": "index is up to date", "index_dir": "X"}

    monkeypatch.setattr(qa_index, "build", fake_build)
    assert cli.main(argv) == 0
    assert calls == [{"force": force, "progress": "--quiet" not in argv}]
    out = capsys.readouterr().out
    assert ("Built the index" in out) if force else ("up to date" in out)


# ---- stale, damaged and missing indexes are refused ----------------------------------------------

def test_changed_corpus_file_makes_the_index_stale(workspace: Settings) -> None:
    qa_index.load(workspace, verify=False)  # the copy starts up to date
    path = workspace.corpus_dir / "micro-needling-overview.txt"
    path.write_bytes(path.read_bytes() + b"\nA sentence added after the build.\n")
    assert not is_up_to_date(workspace, load_corpus(workspace.corpus_dir))
    with pytest.raises(IndexStaleError) as err:
        qa_index.load(workspace)
    msg = str(err.value)
    assert "micro-needling-overview.txt" in msg
    assert "`qa build`" in msg
    assert "\n" not in msg


def test_cli_ask_refuses_a_stale_index_in_one_line(workspace: Settings) -> None:
    path = workspace.corpus_dir / "say-goodbye.txt"
    path.write_bytes(path.read_bytes().replace(b"three to six sessions", b"two to five sessions"))
    proc = _qa_cmd(["ask", "--json", "How many sessions are usually needed?"], workspace, timeout=120)
    assert proc.returncode == 1
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "say-goodbye.txt" in lines[0] and "qa build" in lines[0]
    assert "Traceback" not in proc.stderr


def test_changed_metadata_makes_the_index_stale(workspace: Settings) -> None:
    meta = workspace.corpus_dir / "metadata.json"
    data = json.loads(meta.read_text(encoding="utf-8"))
    data["documents"][0]["title"] = "A Different Title"
    meta.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(IndexStaleError, match=r"metadata\.json.*`qa build`"):
        qa_index.load(workspace)


def test_removed_corpus_file_makes_the_index_stale(workspace: Settings) -> None:
    meta = workspace.corpus_dir / "metadata.json"
    data = json.loads(meta.read_text(encoding="utf-8"))
    data["documents"] = [d for d in data["documents"] if d["id"] != "non-invasive-method"]
    meta.write_text(json.dumps(data), encoding="utf-8")
    (workspace.corpus_dir / "non-invasive-method.txt").unlink()
    with pytest.raises(IndexStaleError, match=r"non-invasive-method\.txt.*`qa build`"):
        qa_index.load(workspace)


def test_changed_chunker_settings_make_the_index_stale(workspace: Settings) -> None:
    chunker = replace(workspace.chunker, target_chars=workspace.chunker.target_chars + 1)
    other = replace(workspace, chunker=chunker)
    with pytest.raises(IndexStaleError, match=r"chunker.*`qa build`"):
        qa_index.load(other)


def test_changed_adaptation_settings_make_the_index_stale(workspace: Settings) -> None:
    other = replace(workspace, adapt=replace(workspace.adapt, epochs=workspace.adapt.epochs + 1))
    with pytest.raises(IndexStaleError, match=r"adaptation settings changed.*`qa build`"):
        qa_index.load(other)


def test_damaged_index_file_is_refused_naming_force(workspace: Settings) -> None:
    gen = workspace.index_dir / _manifest(workspace.index_dir)["generation"]
    target = gen / "chunks.json"
    raw = bytearray(target.read_bytes())
    raw[100] ^= 0x01  # one flipped bit, same size
    target.write_bytes(bytes(raw))
    assert not is_up_to_date(workspace, load_corpus(workspace.corpus_dir))
    with pytest.raises(IndexCorruptError) as err:
        qa_index.load(workspace)
    assert "chunks.json" in str(err.value) and "`qa build --force`" in str(err.value)


def test_unreadable_manifest_is_refused_naming_force(workspace: Settings) -> None:
    (workspace.index_dir / "manifest.json").write_text("{truncated", encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="qa build --force"):
        qa_index.load(workspace)


def test_missing_index_is_reported_naming_build(tmp_path: Path, settings: Settings) -> None:
    empty = replace(settings, index_dir=tmp_path / "no-index")
    with pytest.raises(IndexMissingError, match="`qa build`"):
        qa_index.load(empty)


def test_store_writes_manifest_atomically(tmp_path: Path) -> None:
    target = tmp_path / "manifest.json"
    store.write_atomic(target, b'{"a": 1}')
    store.write_atomic(target, b'{"a": 2}')
    assert json.loads(target.read_text()) == {"a": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]
