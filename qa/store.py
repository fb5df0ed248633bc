"""The on-disk index: a versioned manifest pointing at one immutable generation folder.

Layout::

    index/
      manifest.json        what was built, from what, and the checksum of every file
      gen-<id>/            one complete build: chunks.json, dense.faiss, sentences.npy,
                           bm25/, model.onnx, tokenizer.json
      .lock                held while a build runs

A build writes a new ``gen-*`` folder under a temporary name, renames it into
place, then atomically replaces ``manifest.json`` (temp file + ``os.replace``).
A build killed at any point leaves the previous manifest and its generation
untouched, so the old index stays loadable. Loading checks the manifest against
the corpus, the model and the chunker settings, and every file's checksum, and
says in one sentence what is wrong and which command fixes it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import INDEX_FORMAT_VERSION
from .errors import IndexBusyError, IndexCorruptError, IndexMissingError, IndexStaleError, QAError

MANIFEST = "manifest.json"
LOCK = ".lock"
BUILD_CMD = "qa build"  # also `make build`
REBUILD_CMD = "qa build --force"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the new one, never half."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


@contextlib.contextmanager
def build_lock(index_dir: Path, wait_s: float = 600.0) -> Iterator[None]:
    """Exclusive lock for one build at a time; a second build waits, then finds the work done."""
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        fh = open(index_dir / LOCK, "a+")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise QAError(
            f"Cannot write to the index folder {index_dir} ({exc.strerror or type(exc).__name__}); "
            "fix its permissions or set QA_INDEX_DIR to a writable folder."
        ) from None
    with fh:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise IndexBusyError(
                        f"Another build holds {index_dir / LOCK}; wait for it to finish, then retry."
                    ) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def new_generation_dir(index_dir: Path) -> tuple[Path, str]:
    """A fresh temporary folder for a build, and the generation name it will get."""
    name = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{os.urandom(3).hex()}"
    tmp = index_dir / f".tmp-{name}"
    tmp.mkdir(parents=True)
    return tmp, name


def file_table(gen_dir: Path) -> dict[str, dict[str, Any]]:
    """Checksum and size of every file in a generation, by relative path."""
    table = {}
    for p in sorted(gen_dir.rglob("*")):
        if p.is_file():
            table[p.relative_to(gen_dir).as_posix()] = {"sha256": sha256_file(p),
                                                        "bytes": p.stat().st_size}
    return table


def publish(index_dir: Path, tmp_dir: Path, gen_name: str, manifest: dict[str, Any]) -> None:
    """Move a finished build into place and switch the manifest to it, then prune old builds."""
    for p in tmp_dir.rglob("*"):
        if p.is_file():
            with open(p, "rb") as f:
                os.fsync(f.fileno())
    final = index_dir / gen_name
    os.replace(tmp_dir, final)
    _fsync_dir(index_dir)
    manifest = {**manifest, "generation": gen_name}
    write_atomic(index_dir / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False).encode())
    prune(index_dir, keep=gen_name)


def prune(index_dir: Path, keep: str | None) -> None:
    """Remove generations other than ``keep`` and leftovers of killed builds."""
    for p in index_dir.iterdir():
        if p.is_dir() and p.name != keep and (p.name.startswith("gen-") or p.name.startswith(".tmp-")):
            shutil.rmtree(p, ignore_errors=True)
        elif p.is_file() and p.name.startswith(f".{MANIFEST}.tmp-"):
            with contextlib.suppress(OSError):
                p.unlink()


@dataclass(frozen=True)
class Expected:
    """What the current configuration expects an index to have been built from."""

    model_id: str
    corpus: dict[str, str]  # file name -> sha256
    metadata_sha256: str
    chunker: dict[str, int]
    adapt: dict[str, float | int]  # how the model was fine-tuned on the written questions
    triage_sha256: str  # the labelled messages urgent triage compares with (qa/data/triage/)
    scope_sha256: str  # the word lists and not-covered questions scope compares with (qa/data/scope/)
    questions_sha256: str  # the written questions beside the articles (corpus/questions/)


def read_manifest(index_dir: Path) -> dict[str, Any]:
    """The manifest, or a one-line error naming the command that fixes it."""
    path = index_dir / MANIFEST
    if not path.is_file():
        raise IndexMissingError(f"No index found in {index_dir}; run `{BUILD_CMD}` (or `make build`).")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(manifest, dict):
            raise ValueError("not an object")
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(
            f"The index manifest {path} is unreadable ({exc}); run `{REBUILD_CMD}`."
        ) from None
    return manifest


# Data embedded beside the articles: (manifest section, its checksum key, ``Expected`` field, name).
_EMBEDDED_DATA = (
    ("triage", "examples_sha256", "triage_sha256", "The labelled triage messages (qa/data/triage/)"),
    ("scope", "sha256", "scope_sha256", "The scope word lists and not-covered questions (qa/data/scope/)"),
    ("questions", "sha256", "questions_sha256", "The written questions (corpus/questions/)"),
)


def check_manifest(manifest: dict[str, Any], expected: Expected) -> None:
    """Raise ``IndexStaleError`` saying what differs between the index and the configuration."""
    version = manifest.get("format_version")
    if version != INDEX_FORMAT_VERSION:
        raise IndexStaleError(
            f"The index has format version {version}, this program reads version "
            f"{INDEX_FORMAT_VERSION}; run `{REBUILD_CMD}`."
        )
    try:
        built_model = manifest["model"]["id"]
        built_corpus = {f: e["sha256"] for f, e in manifest["corpus"]["files"].items()}
        built_meta = manifest["corpus"]["metadata_sha256"]
        built_chunker = manifest["chunker"]
        built_adapt = {k: v for k, v in manifest["model"]["adapted"].items() if k != "key"}
        built_data = {field: manifest[section][key] for section, key, field, _ in _EMBEDDED_DATA}
        dimension = manifest["model"]["dimension"]
    except (KeyError, TypeError, AttributeError):
        raise IndexCorruptError(f"The index manifest is incomplete; run `{REBUILD_CMD}`.") from None
    if not isinstance(dimension, int) or isinstance(dimension, bool) or dimension <= 0:
        raise IndexCorruptError(
            f"The index manifest gives no valid vector dimension ({dimension!r}); run `{REBUILD_CMD}`."
        )
    if built_model != expected.model_id:
        raise IndexStaleError(
            f"The index was built with model {built_model!r} but the configured model is "
            f"{expected.model_id!r}; run `{BUILD_CMD}`."
        )
    for f in sorted(set(built_corpus) | set(expected.corpus)):
        if f not in expected.corpus:
            raise IndexStaleError(f"Corpus file {f} was removed since the index was built; "
                                  f"run `{BUILD_CMD}`.")
        if f not in built_corpus:
            raise IndexStaleError(f"Corpus file {f} was added since the index was built; "
                                  f"run `{BUILD_CMD}`.")
        if built_corpus[f] != expected.corpus[f]:
            raise IndexStaleError(f"Corpus file {f} changed since the index was built; "
                                  f"run `{BUILD_CMD}`.")
    if built_meta != expected.metadata_sha256:
        raise IndexStaleError(f"corpus/metadata.json changed since the index was built; "
                              f"run `{BUILD_CMD}`.")
    if built_chunker != expected.chunker:
        raise IndexStaleError(f"The chunker settings changed since the index was built; "
                              f"run `{BUILD_CMD}`.")
    if built_adapt != expected.adapt:
        raise IndexStaleError(f"The model adaptation settings changed since the index was built; "
                              f"run `{BUILD_CMD}`.")
    for _, _, field, what in _EMBEDDED_DATA:
        if built_data[field] != getattr(expected, field):
            raise IndexStaleError(f"{what} changed since the index was built; run `{BUILD_CMD}`.")


def generation_dir(index_dir: Path, manifest: dict[str, Any], verify: bool = True) -> Path:
    """The folder of the manifest's generation, with every file's checksum verified."""
    gen = manifest.get("generation")
    files = manifest.get("files")
    if (not isinstance(gen, str) or not gen.startswith("gen-") or "/" in gen or "\\" in gen
            or not isinstance(files, dict) or not files):
        raise IndexCorruptError(f"The index manifest names no valid build; run `{REBUILD_CMD}`.")
    gen_dir = index_dir / gen
    if not gen_dir.is_dir():
        raise IndexCorruptError(f"The index folder {gen_dir} is missing; run `{REBUILD_CMD}`.")
    for rel, meta in files.items():
        # The manifest is not checksummed itself: never follow a path out of the generation.
        parts = Path(rel).parts
        if not isinstance(meta, dict) or not parts or Path(rel).is_absolute() or ".." in parts:
            raise IndexCorruptError(f"The index manifest's file table is damaged; run `{REBUILD_CMD}`.")
    if verify:
        for rel, meta in files.items():
            p = gen_dir / rel
            if not p.is_file():
                raise IndexCorruptError(f"Index file {p} is missing; run `{REBUILD_CMD}`.")
            if p.stat().st_size != meta.get("bytes") or sha256_file(p) != meta.get("sha256"):
                raise IndexCorruptError(
                    f"Index file {p} is damaged (checksum mismatch); run `{REBUILD_CMD}`."
                )
    return gen_dir


def current_generation(index_dir: Path) -> str | None:
    """The generation the manifest names now (``None`` if unreadable): lets a reader notice
    that a build published a new index while it was loading the previous one."""
    try:
        gen = read_manifest(index_dir).get("generation")
    except QAError:
        return None
    return gen if isinstance(gen, str) else None
