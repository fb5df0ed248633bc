"""Build and load the index artifacts (the file mechanics live in ``store``)."""

from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import store
from .adapt import adapted_model, passage_owners, training_pairs, training_questions
from .chunking import Chunk, Sentence, chunk_document
from .config import INDEX_FORMAT_VERSION, Settings, model_id
from .corpus import (
    METADATA_FILE,
    Corpus,
    Document,
    WrittenQuestion,
    file_sha256,
    load_corpus,
    load_questions,
    questions_sha256,
)
from .embedding import OnnxEncoder
from .errors import IndexCorruptError, QAError
from .scope_data import SCOPE_DIR, not_covered_questions, scope_data_sha256, word_lists
from .symptoms import EXAMPLES_DIR, Examples, example_texts, examples_sha256
from .textnorm import keyword_tokens, question_text

log = logging.getLogger(__name__)

CHUNKS_FILE = "chunks.json"
DENSE_FILE = "dense.faiss"
SENTENCES_FILE = "sentences.npy"
BM25_DIR = "bm25"
ONNX_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
TRIAGE_FILE = "triage.npz"  # the labelled triage messages, embedded (qa/symptoms.py)
SCOPE_FILE = "scope.npz"  # word lists and not-covered questions, embedded (qa/scope_data.py)
QUESTIONS_FILE = "questions.npz"  # written questions, embedded, each with the sentence it asks about


def index_text(chunk: Chunk) -> str:
    """What is embedded and keyword-indexed for a chunk: its heading gives context.

    The cited text is always the verbatim span; only the search sees the heading.
    """
    return f"{chunk.heading}\n{chunk.text}"


@dataclass
class IndexData:
    """Everything a question needs, loaded once."""

    manifest: dict[str, Any]
    documents: dict[str, Document]
    chunks: list[Chunk]
    sentences: list[Sentence]
    sentence_chunks: list[list[int]]  # sentence index -> ids of chunks containing it
    dense: Any  # faiss.Index over chunk vectors
    sentence_vectors: np.ndarray
    bm25: Any  # bm25s.BM25 over chunk keyword tokens
    encoder: OnnxEncoder
    vocabulary: dict[str, int]  # surface word -> corpus frequency (for spelling)
    triage_examples: Examples
    scope_vectors: dict[str, np.ndarray]  # "topical" / "everyday" words, "not_covered" questions
    question_vectors: np.ndarray  # written questions (corpus/questions/), embedded
    question_sentences: np.ndarray  # row -> index of the sentence that answers it


def expected_for(settings: Settings, corpus: Corpus) -> store.Expected:
    meta_bytes = (Path(settings.corpus_dir) / METADATA_FILE).read_bytes()
    return store.Expected(
        model_id=model_id(settings.model),
        corpus={d.file: d.sha256 for d in corpus.documents},
        metadata_sha256=file_sha256(meta_bytes),
        chunker=settings.chunker.to_dict(),
        adapt=settings.adapt.to_dict(),
        triage_sha256=examples_sha256(EXAMPLES_DIR),
        scope_sha256=scope_data_sha256(SCOPE_DIR),
        questions_sha256=questions_sha256(settings.corpus_dir),
    )


def question_rows(questions: list[WrittenQuestion], sentences: list[Sentence]) -> tuple[list[str], list[int]]:
    """(text to embed, sentence index) for every written question and each sentence its quote
    overlaps (a quote can span two of the chunker's sentences). Disclaimers count: without
    neighbours of their own they lost every question about them to sentences that had some."""
    by_doc: dict[str, list[int]] = {}
    for i, s in enumerate(sentences):
        by_doc.setdefault(s.doc_id, []).append(i)
    texts: list[str] = []
    rows: list[int] = []
    for wq in questions:
        for i in by_doc.get(wq.doc_id, []):
            s = sentences[i]
            if s.start < wq.end and wq.start < s.end and s.kind in ("body", "byline", "promo", "disclaimer"):
                texts.append(question_text(wq.question))
                rows.append(i)
    return texts, rows


def chunk_corpus(corpus: Corpus, settings: Settings) -> tuple[list[Chunk], list[Sentence]]:
    """All chunks (ids global and dense) and sentences of the corpus."""
    chunks: list[Chunk] = []
    sentences: list[Sentence] = []
    for doc in corpus.documents:
        layout = chunk_document(doc.id, doc.text, doc.title, settings.chunker, first_id=len(chunks))
        chunks.extend(layout.chunks)
        sentences.extend(layout.sentences)
    return chunks, sentences


def is_up_to_date(settings: Settings, corpus: Corpus) -> bool:
    """True when the index matches the corpus, model and chunker and every file checks out."""
    try:
        manifest = store.read_manifest(settings.index_dir)
        store.check_manifest(manifest, expected_for(settings, corpus))
        store.generation_dir(settings.index_dir, manifest, verify=True)
    except Exception:
        return False
    return True


def build(settings: Settings, force: bool = False, progress: bool = True) -> dict[str, Any]:
    """Chunk, embed and index the corpus into ``settings.index_dir``.

    Returns a report ``{"built": bool, "reason": str, ...}``. Skips the work when
    the index is already up to date, unless ``force``.
    """
    corpus = load_corpus(settings.corpus_dir)
    for name in corpus.unlisted:
        print(f"warning: corpus/{name} is not listed in corpus/metadata.json and is not indexed.",
              file=sys.stderr)
    index_dir = Path(settings.index_dir)
    with store.build_lock(index_dir):
        if not force and is_up_to_date(settings, corpus):
            return {"built": False, "reason": "index is up to date", "index_dir": str(index_dir)}
        t0 = time.perf_counter()
        chunks, sentences = chunk_corpus(corpus, settings)

        import faiss

        from .embedding import SentenceTransformerEncoder

        written, warnings = load_questions(settings.corpus_dir, corpus)
        for w in warnings:
            print(f"warning: {w}", file=sys.stderr)
        chunk_texts = [index_text(c) for c in chunks]
        trained = training_questions(written)
        embed_with, adapted = adapted_model(settings.model, training_pairs(trained, corpus), settings.adapt,
                                            progress=progress,
                                            passages=passage_owners(trained, chunks, chunk_texts))
        print(f"Loading embedding model {model_id(settings.model)}"
              f"{' (adapted)' if adapted else ''} ...", file=sys.stderr)
        encoder = SentenceTransformerEncoder(embed_with)
        print(f"Embedding {len(chunks)} passages and {len(sentences)} sentences ...", file=sys.stderr)
        chunk_vecs = encoder.encode(chunk_texts, progress=progress)
        sent_vecs = encoder.encode([s.text for s in sentences], progress=progress)
        triage_texts, triage_labels = example_texts(EXAMPLES_DIR)
        print(f"Embedding {len(triage_texts)} labelled triage messages and sentences ...", file=sys.stderr)
        triage_vecs = encoder.encode(triage_texts, progress=progress)
        scope_texts = {**word_lists(SCOPE_DIR),
                       "not_covered": [question_text(q) for q in not_covered_questions(SCOPE_DIR)]}
        print(f"Embedding {sum(map(len, scope_texts.values()))} scope words and not-covered questions ...",
              file=sys.stderr)
        scope_vecs = {name: encoder.encode(ts, progress=progress).astype(np.float32)
                      for name, ts in scope_texts.items()}
        q_texts, q_rows = question_rows(written, sentences)
        print(f"Embedding {len(written)} written questions ...", file=sys.stderr)
        q_vecs = encoder.encode(q_texts, progress=progress) if q_texts else np.zeros((0, encoder.dim))

        tmp_dir, gen_name = store.new_generation_dir(index_dir)
        try:
            # Exact below a size threshold, HNSW above (qa/vectors.py, measured in bench/).
            from .vectors import build_dense

            dense = build_dense(chunk_vecs)
            faiss.write_index(dense, str(tmp_dir / DENSE_FILE))
            np.save(tmp_dir / SENTENCES_FILE, sent_vecs)
            with open(tmp_dir / TRIAGE_FILE, "wb") as fh:
                np.savez(fh, vectors=triage_vecs.astype(np.float32),
                         labels=np.array(triage_labels, dtype=str))
            with open(tmp_dir / SCOPE_FILE, "wb") as fh:
                np.savez(fh, **scope_vecs)
            with open(tmp_dir / QUESTIONS_FILE, "wb") as fh:
                np.savez(fh, vectors=q_vecs.astype(np.float32), sentences=np.array(q_rows, dtype=np.int64))
            _write_bm25(tmp_dir / BM25_DIR, [keyword_tokens(t) for t in chunk_texts])
            encoder.export_onnx(tmp_dir / ONNX_FILE, tmp_dir / TOKENIZER_FILE)
            table = {
                "documents": [{k: v for k, v in asdict(d).items() if k != "sha256"}
                              for d in corpus.documents],
                "chunks": [{k: v for k, v in asdict(c).items() if k != "text"} for c in chunks],
                "sentences": [{k: v for k, v in asdict(s).items() if k != "text"}
                              for s in sentences],
            }
            (tmp_dir / CHUNKS_FILE).write_text(json.dumps(table, ensure_ascii=False), encoding="utf-8")
            expected = expected_for(settings, corpus)
            manifest = {
                "format_version": INDEX_FORMAT_VERSION,
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "model": {"id": expected.model_id, "source": settings.model, "dimension": encoder.dim,
                          "max_seq_length": encoder.max_seq_length, "normalized": True,
                          "query_encoder": "onnxruntime",
                          "adapted": {**expected.adapt, "key": adapted}},
                "corpus": {
                    "files": {d.file: {"doc_id": d.id, "sha256": d.sha256,
                                       "original_file": d.original_file}
                              for d in corpus.documents},
                    "metadata_sha256": expected.metadata_sha256,
                },
                "chunker": expected.chunker,
                "triage": {"examples_sha256": expected.triage_sha256,
                           "urgent": sum(1 for label in triage_labels if label),
                           "ordinary": sum(1 for label in triage_labels if not label)},
                "scope": {"sha256": expected.scope_sha256,
                          **{name: len(ts) for name, ts in scope_texts.items()}},
                "questions": {"sha256": expected.questions_sha256, "questions": len(written),
                              "rows": len(q_rows)},
                "counts": {"documents": len(corpus.documents), "chunks": len(chunks),
                           "sentences": len(sentences)},
                "files": store.file_table(tmp_dir),
            }
            store.publish(index_dir, tmp_dir, gen_name, manifest)
        except BaseException:
            import shutil

            shutil.rmtree(tmp_dir, ignore_errors=True)
            raise
        return {"built": True, "reason": "built", "index_dir": str(index_dir),
                "chunks": len(chunks), "sentences": len(sentences),
                "seconds": round(time.perf_counter() - t0, 2)}


def _write_bm25(path: Path, token_lists: list[list[str]]) -> None:
    import bm25s

    bm = bm25s.BM25()
    # An empty token list would make bm25s drop the row; keep ids aligned.
    bm.index([toks or ["_empty_"] for toks in token_lists], show_progress=False)
    bm.save(str(path), show_progress=False)


def load(settings: Settings, verify: bool = True) -> IndexData:
    """Load a built index, refusing a missing, stale or damaged one with a one-line reason."""
    index_dir = Path(settings.index_dir)
    manifest = store.read_manifest(index_dir)
    corpus = load_corpus(settings.corpus_dir)
    expected = expected_for(settings, corpus)
    for attempt in (1, 2):
        store.check_manifest(manifest, expected)
        try:
            gen_dir = store.generation_dir(index_dir, manifest, verify=verify)
            return _load_generation(gen_dir, manifest)
        except Exception as exc:
            # A build that published meanwhile pruned the generation being read: read the new one.
            now = store.current_generation(index_dir)
            if attempt == 1 and now is not None and now != manifest.get("generation"):
                manifest = store.read_manifest(index_dir)
                continue
            if isinstance(exc, QAError):
                raise
            # Any reader failure (numpy EOFError, onnxruntime InvalidProtobuf, tokenizers'
            # plain Exception, ...) means a damaged generation, never a traceback.
            raise IndexCorruptError(
                f"The index in {index_dir / str(manifest.get('generation'))} could not be read "
                f"({type(exc).__name__}); run `{store.REBUILD_CMD}`."
            ) from None
    raise AssertionError("unreachable")  # pragma: no cover


def _load_generation(gen_dir: Path, manifest: dict[str, Any]) -> IndexData:
    import bm25s
    import faiss

    table = json.loads((gen_dir / CHUNKS_FILE).read_text(encoding="utf-8"))
    documents = {d["id"]: Document(**d, sha256=manifest["corpus"]["files"][d["file"]]["sha256"])
                 for d in table["documents"]}
    chunks = [Chunk(**c, text=documents[c["doc_id"]].text[c["start"]:c["end"]])
              for c in table["chunks"]]
    sentences = [Sentence(**s, text=documents[s["doc_id"]].text[s["start"]:s["end"]])
                 for s in table["sentences"]]
    dense = faiss.read_index(str(gen_dir / DENSE_FILE))
    sent_vecs = np.load(gen_dir / SENTENCES_FILE, allow_pickle=False)
    dim = int(manifest["model"]["dimension"])
    if dense.d != dim:
        raise IndexCorruptError(f"The index manifest says the vectors have {dim} dimensions but "
                                f"{DENSE_FILE} has {dense.d}; run `{store.REBUILD_CMD}`.")
    if dense.ntotal != len(chunks) or sent_vecs.shape != (len(sentences), dim):
        raise ValueError("vector counts do not match the chunk table")
    with np.load(gen_dir / TRIAGE_FILE, allow_pickle=False) as npz:
        triage = Examples(vectors=npz["vectors"], labels=tuple(str(x) for x in npz["labels"]))
    if triage.vectors.shape != (len(triage.labels), dim):
        raise ValueError("triage vectors do not match their labels")
    with np.load(gen_dir / SCOPE_FILE, allow_pickle=False) as npz:
        scope_vecs = {name: npz[name] for name in npz.files}
    if any(v.ndim != 2 or v.shape[1] != dim for v in scope_vecs.values()):
        raise ValueError("scope vectors have the wrong dimension")
    with np.load(gen_dir / QUESTIONS_FILE, allow_pickle=False) as npz:
        q_vecs, q_rows = npz["vectors"], npz["sentences"]
    if q_vecs.shape != (len(q_rows), dim) or (len(q_rows) and not 0 <= q_rows.min() <= q_rows.max()
                                              < len(sentences)):
        raise ValueError("written-question vectors do not match the sentences")
    bm = bm25s.BM25.load(str(gen_dir / BM25_DIR), show_progress=False)
    encoder = OnnxEncoder(gen_dir / ONNX_FILE, gen_dir / TOKENIZER_FILE, dim=dim,
                          max_seq_length=int(manifest["model"].get("max_seq_length", 256)))
    by_doc: dict[str, list[Chunk]] = {}
    for c in chunks:
        by_doc.setdefault(c.doc_id, []).append(c)
    sentence_chunks = [[c.chunk_id for c in by_doc.get(s.doc_id, [])
                        if c.start <= s.start and s.end <= c.end] for s in sentences]
    from .textnorm import words

    vocab: dict[str, int] = {}
    for doc in documents.values():
        for w in words(doc.text):
            vocab[w] = vocab.get(w, 0) + 1
    return IndexData(manifest=manifest, documents=documents, chunks=chunks, sentences=sentences,
                     sentence_chunks=sentence_chunks, dense=dense, sentence_vectors=sent_vecs,
                     bm25=bm, encoder=encoder, vocabulary=vocab, triage_examples=triage,
                     scope_vectors=scope_vecs, question_vectors=q_vecs, question_sentences=q_rows)
