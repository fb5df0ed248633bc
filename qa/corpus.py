"""Loading and validating the corpus: the articles listed in ``corpus/metadata.json``."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from .errors import CorpusError

METADATA_FILE = "metadata.json"


@dataclass(frozen=True)
class Document:
    """One article, its verbatim text and what the article itself says about its source."""

    id: str
    title: str
    file: str
    original_file: str
    text: str
    sha256: str
    publisher: str | None = None
    title_is_headline: bool = True


@dataclass(frozen=True)
class Corpus:
    """The validated corpus plus anything in the folder that metadata does not list."""

    documents: tuple[Document, ...]
    unlisted: tuple[str, ...] = ()

    def by_id(self) -> dict[str, Document]:
        return {d.id: d for d in self.documents}


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_corpus(corpus_dir: Path) -> Corpus:
    """Read ``metadata.json`` and every listed article, validating as we go.

    Listed files must exist, be UTF-8 and non-empty. Files in the folder that the
    metadata does not list are reported in ``Corpus.unlisted`` and never indexed.
    """
    corpus_dir = Path(corpus_dir)
    meta_path = corpus_dir / METADATA_FILE
    if not meta_path.is_file():
        raise CorpusError(
            f"No corpus metadata at {meta_path}; restore corpus/ from the repository "
            "(git checkout -- corpus) or set QA_CORPUS_DIR."
        )
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        entries = meta["documents"]
    except (ValueError, KeyError, TypeError) as exc:
        raise CorpusError(
            f"{meta_path} is not valid corpus metadata ({exc}); fix it or restore it with git."
        ) from None

    docs: list[Document] = []
    seen: set[str] = set()
    for entry in entries:
        try:
            doc_id, title, file, original = (
                entry["id"], entry["title"], entry["file"], entry["original_file"]
            )
        except (KeyError, TypeError):
            raise CorpusError(
                f"An entry in {meta_path} lacks id, title, file or original_file; add them."
            ) from None
        if doc_id in seen:
            raise CorpusError(f"Document id {doc_id!r} is listed twice in {meta_path}; remove one.")
        seen.add(doc_id)
        path = corpus_dir / file
        if not path.is_file():
            raise CorpusError(f"Corpus file {path} is listed in metadata but missing; restore it.")
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise CorpusError(f"Corpus file {path} is not UTF-8 text; re-save it as UTF-8.") from None
        if not text.strip():
            raise CorpusError(f"Corpus file {path} is empty; restore its text.")
        docs.append(
            Document(
                id=doc_id,
                title=title,
                file=file,
                original_file=original,
                text=text,
                sha256=file_sha256(raw),
                publisher=entry.get("publisher"),
                title_is_headline=bool(entry.get("title_is_headline", True)),
            )
        )
    if not docs:
        raise CorpusError(f"{meta_path} lists no documents; add at least one.")
    listed = {d.file for d in docs} | {METADATA_FILE}
    unlisted = tuple(
        sorted(p.name for p in corpus_dir.iterdir() if p.is_file() and p.name not in listed
               and not p.name.startswith("."))
    )
    return Corpus(documents=tuple(docs), unlisted=unlisted)


# Questions people ask, written per article beside it: ``questions/<doc id>.jsonl``, one
# ``{"quote": <a sentence, verbatim>, "questions": [...]}`` per line. They are search
# data, never shown: a question matches the sentence that answers it (see qa/retrieval.py).
QUESTIONS_DIR = "questions"
# The tuning splits' questions as people asked them, in the same format and neighbours only
# (``"adapt": false``): ``questions/asked/<doc id>.jsonl``, written by ``python -m bench.asked_data``.
ASKED_DIR = "asked"


@dataclass(frozen=True)
class WrittenQuestion:
    """A question someone might ask, and the verbatim span of the article that answers it."""

    doc_id: str
    start: int
    end: int
    question: str
    # False for questions that serve only as neighbours at question time, not as training pairs
    # for the build's model adaptation (``"adapt": false`` on their line; corpus/questions/README.md).
    adapt: bool = True


def question_files(corpus_dir: Path) -> list[Path]:
    """The written-question files, then the asked ones, in a stable order (none is fine)."""
    folder = Path(corpus_dir) / QUESTIONS_DIR
    return sorted(folder.glob("*.jsonl")) + sorted((folder / ASKED_DIR).glob("*.jsonl"))


def _shown(path: Path) -> str:
    """The file as the user knows it: ``corpus/questions/[asked/]<name>``."""
    sub = f"{ASKED_DIR}/" if path.parent.name == ASKED_DIR else ""
    return f"corpus/{QUESTIONS_DIR}/{sub}{path.name}"


def questions_sha256(corpus_dir: Path) -> str:
    """One checksum over the written-question files (for the index manifest)."""
    h = hashlib.sha256()
    for path in question_files(corpus_dir):
        h.update(_shown(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def load_questions(corpus_dir: Path, corpus: Corpus) -> tuple[list[WrittenQuestion], list[str]]:
    """The written questions whose quote is in their article, and a warning per file that
    has lines that could not be used (unknown article, bad JSON, quote not verbatim)."""
    docs = corpus.by_id()
    out: list[WrittenQuestion] = []
    warnings: list[str] = []
    for path in question_files(corpus_dir):
        doc = docs.get(path.stem)
        if doc is None:
            warnings.append(f"{_shown(path)} names no listed article; skipped.")
            continue
        bad = 0
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                quote, questions, adapt = item["quote"], item["questions"], item.get("adapt", True)
            except (ValueError, KeyError, TypeError, AttributeError):
                bad += 1
                continue
            start = doc.text.find(quote) if isinstance(quote, str) and quote.strip() else -1
            if start < 0 or not isinstance(questions, list) or not isinstance(adapt, bool):
                bad += 1
                continue
            out.extend(WrittenQuestion(doc.id, start, start + len(quote), q, adapt)
                       for q in questions if isinstance(q, str) and q.strip())
        if bad:
            warnings.append(f"{_shown(path)}: {bad} line(s) skipped "
                            "(not JSON, or the quote is not verbatim in the article).")
    return out, warnings
