"""The corpus: five articles kept byte-for-byte, honest metadata, and a loader that refuses bad files."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from qa.adapt import training_questions
from qa.config import ROOT
from qa.corpus import ASKED_DIR, QUESTIONS_DIR, Corpus, load_corpus, load_questions, question_files
from qa.errors import CorpusError

CORPUS = ROOT / "corpus"
SHARED = ROOT.parent / "shared" / "corpus"

EXPECTED_IDS = {
    "say-goodbye", "can-microneedling-help", "comprehensive-approach", "micro-needling-overview",
    "non-invasive-method",
}
PUBLISHERS = {
    "comprehensive-approach": "MTSPen.com",
    "non-invasive-method": "Elite Medical Skin and Laser Center",
}
# What the metadata may say about an article; anything else (url, author, date) would be invented.
ALLOWED_KEYS = {"id", "title", "title_is_headline", "publisher", "file", "original_file"}


def _metadata() -> list[dict]:
    return json.loads((CORPUS / "metadata.json").read_text(encoding="utf-8"))["documents"]


@pytest.fixture()
def corpus_copy(tmp_path: Path) -> Path:
    """A private copy of corpus/ that a test may damage."""
    dest = tmp_path / "corpus"
    shutil.copytree(CORPUS, dest)
    return dest


def test_corpus_folder_holds_exactly_the_five_listed_articles(corpus: Corpus) -> None:
    assert {d.id for d in corpus.documents} == EXPECTED_IDS
    assert corpus.unlisted == ()
    on_disk = {p.name for p in CORPUS.iterdir() if p.is_file() and not p.name.startswith(".")}
    assert on_disk == {d.file for d in corpus.documents} | {"metadata.json"}


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"{SHARED} is absent (no ../shared beside the checkout), "
                    "so the originals cannot be compared")
@pytest.mark.parametrize("entry", _metadata(), ids=lambda e: e["id"])
def test_article_is_byte_identical_to_the_shared_original(entry: dict) -> None:
    ours = (CORPUS / entry["file"]).read_bytes()
    original = (SHARED / entry["original_file"]).read_bytes()
    assert ours == original, f"corpus/{entry['file']} differs from {SHARED / entry['original_file']}"


def test_metadata_lists_id_title_file_and_original_file() -> None:
    entries = _metadata()
    assert len(entries) == 5
    for e in entries:
        for key in ("id", "title", "file", "original_file"):
            assert isinstance(e.get(key), str) and e[key].strip(), f"{e.get('id')}: {key} missing"
        assert set(e) <= ALLOWED_KEYS, f"{e['id']} has invented fields {set(e) - ALLOWED_KEYS}"
        assert (CORPUS / e["file"]).is_file()
        assert e["original_file"] != e["file"]
    assert len({e["id"] for e in entries}) == 5
    assert len({e["file"] for e in entries}) == 5
    assert len({e["original_file"] for e in entries}) == 5


def test_publisher_only_where_the_article_names_one(corpus: Corpus) -> None:
    for doc in corpus.documents:
        assert doc.publisher == PUBLISHERS.get(doc.id), doc.id
        if doc.publisher:
            assert doc.publisher in doc.text, f"{doc.id} does not itself name {doc.publisher}"


def test_headline_titles_are_the_articles_own_headlines(corpus: Corpus) -> None:
    for doc in corpus.documents:
        if doc.title_is_headline:
            lines = [ln.strip() for ln in doc.text.splitlines()]
            assert doc.title in lines, f"{doc.id}: title {doc.title!r} is not a line of the article"


def test_loaded_text_is_the_verbatim_file_with_its_checksum(corpus: Corpus) -> None:
    for doc in corpus.documents:
        raw = (CORPUS / doc.file).read_bytes()
        assert doc.text == raw.decode("utf-8")
        assert doc.sha256 == hashlib.sha256(raw).hexdigest()


def test_unlisted_file_is_reported_and_not_loaded(corpus_copy: Path) -> None:
    (corpus_copy / "notes.txt").write_text("Microneedling notes that nobody listed.\n", encoding="utf-8")
    loaded = load_corpus(corpus_copy)
    assert loaded.unlisted == ("notes.txt",)
    assert len(loaded.documents) == 5
    assert all(d.file != "notes.txt" for d in loaded.documents)


def test_missing_listed_file_is_refused_naming_it(corpus_copy: Path) -> None:
    (corpus_copy / "say-goodbye.txt").unlink()
    with pytest.raises(CorpusError, match=r"say-goodbye\.txt") as err:
        load_corpus(corpus_copy)
    assert "missing" in str(err.value)


def test_non_utf8_file_is_refused_naming_it(corpus_copy: Path) -> None:
    # "Café" in Latin-1: 0xE9 is not valid UTF-8 on its own.
    (corpus_copy / "non-invasive-method.txt").write_bytes(b"Micro needling at the caf\xe9.\n")
    with pytest.raises(CorpusError, match=r"non-invasive-method\.txt") as err:
        load_corpus(corpus_copy)
    assert "UTF-8" in str(err.value)


@pytest.mark.parametrize("content", [b"", b"\n  \n\t\n"], ids=["zero-bytes", "whitespace-only"])
def test_empty_file_is_refused_naming_it(corpus_copy: Path, content: bytes) -> None:
    (corpus_copy / "comprehensive-approach.txt").write_bytes(content)
    with pytest.raises(CorpusError, match=r"comprehensive-approach\.txt") as err:
        load_corpus(corpus_copy)
    assert "empty" in str(err.value)


def test_missing_or_broken_metadata_is_refused(corpus_copy: Path) -> None:
    meta = corpus_copy / "metadata.json"
    meta.write_text("{not json", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"metadata\.json"):
        load_corpus(corpus_copy)
    meta.unlink()
    with pytest.raises(CorpusError, match=r"metadata\.json"):
        load_corpus(corpus_copy)


def test_corpus_errors_are_one_line(corpus_copy: Path) -> None:
    (corpus_copy / "say-goodbye.txt").write_bytes(b"")
    with pytest.raises(CorpusError) as err:
        load_corpus(corpus_copy)
    assert "\n" not in str(err.value)


# -- written questions (corpus/questions/): search data beside the articles -------------------------

def test_every_article_has_written_questions_with_verbatim_quotes(corpus: Corpus) -> None:
    files = question_files(CORPUS)
    written = [p for p in files if p.parent.name != ASKED_DIR]
    assert {p.stem for p in written} == EXPECTED_IDS
    docs = corpus.by_id()
    for path in files:
        lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        asked = path.parent.name == ASKED_DIR
        assert len(lines) >= 15, path.name
        for item in lines:
            assert {"quote", "questions"} <= set(item) <= {"quote", "questions", "adapt"}
            assert item["quote"] in docs[path.stem].text, (path.name, item["quote"][:60])
            assert len(item["questions"]) >= (1 if asked else 3) and all(q.strip() for q in item["questions"])
            # The asked questions are neighbours only: the model is never trained on them.
            assert not asked or item["adapt"] is False
    questions, warnings = load_questions(CORPUS, corpus)
    assert warnings == []
    assert len(questions) >= 500


def test_unusable_written_questions_are_skipped_with_a_warning(corpus_copy: Path) -> None:
    qdir = corpus_copy / QUESTIONS_DIR
    shutil.rmtree(qdir / ASKED_DIR)  # only the files written below
    good = '{"quote": "Micro-Needling goes by several different names.", "questions": ["other names?"]}'
    bad = '{not json\n{"quote": "A sentence no article has.", "questions": ["x?"]}\n'
    (qdir / "micro-needling-overview.jsonl").write_text(good + "\n" + bad, encoding="utf-8")
    (qdir / "no-such-article.jsonl").write_text(good + "\n", encoding="utf-8")
    questions, warnings = load_questions(corpus_copy, load_corpus(corpus_copy))
    overview = [q for q in questions if q.doc_id == "micro-needling-overview"]
    assert [q.question for q in overview] == ["other names?"]
    text = load_corpus(corpus_copy).by_id()["micro-needling-overview"].text
    assert text[overview[0].start:overview[0].end] == "Micro-Needling goes by several different names."
    assert any("micro-needling-overview.jsonl: 2 line(s) skipped" in w for w in warnings)
    assert any("no-such-article.jsonl names no listed article" in w for w in warnings)


def test_neighbour_only_questions_load_but_are_not_training_pairs(corpus_copy: Path) -> None:
    qdir = corpus_copy / QUESTIONS_DIR
    quote = "Micro-Needling goes by several different names."
    lines = [{"quote": quote, "questions": ["other names?"]},
             {"quote": quote, "questions": ["is it called anything else"], "adapt": False},
             {"quote": quote, "questions": ["x?"], "adapt": "no"}]
    (qdir / "micro-needling-overview.jsonl").write_text(
        "\n".join(json.dumps(x) for x in lines), encoding="utf-8")
    # The asked questions (corpus/questions/asked/) load after the written ones, the same way.
    shutil.rmtree(qdir / ASKED_DIR)
    (qdir / ASKED_DIR).mkdir()
    asked = {"quote": quote, "questions": ["what else do ppl call it"], "adapt": False}
    (qdir / ASKED_DIR / "micro-needling-overview.jsonl").write_text(json.dumps(asked), encoding="utf-8")
    questions, warnings = load_questions(corpus_copy, load_corpus(corpus_copy))
    overview = [(q.question, q.adapt) for q in questions if q.doc_id == "micro-needling-overview"]
    assert overview == [("other names?", True), ("is it called anything else", False),
                        ("what else do ppl call it", False)]
    assert [q.question for q in training_questions(questions) if q.doc_id == "micro-needling-overview"] \
        == ["other names?"]
    assert any("micro-needling-overview.jsonl: 1 line(s) skipped" in w for w in warnings)
