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
