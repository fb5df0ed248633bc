"""Chunking: exact offsets, whole sentences, full coverage, and the articles' real quirks."""

from __future__ import annotations

import itertools

import pytest

from qa.chunking import Layout, chunk_document, split_sentences
from qa.config import MAX_PASSAGE_CHARS, ChunkerSettings, Settings
from qa.corpus import Corpus, Document
from qa.index import chunk_corpus

DOC_IDS = ["say-goodbye", "can-microneedling-help", "comprehensive-approach", "micro-needling-overview",
           "non-invasive-method"]


@pytest.fixture(scope="module")
def chunker() -> ChunkerSettings:
    return Settings().chunker


@pytest.fixture(scope="module")
def layouts(corpus: Corpus, chunker: ChunkerSettings) -> dict[str, tuple[Document, Layout]]:
    return {d.id: (d, chunk_document(d.id, d.text, d.title, chunker)) for d in corpus.documents}


def _sentence_with(layout: Layout, fragment: str):
    found = [s for s in layout.sentences if fragment in s.text]
    assert len(found) == 1, f"expected one sentence containing {fragment!r}, got {[s.text for s in found]}"
    return found[0]


# ---- invariants on all five articles -------------------------------------------------------------

@pytest.mark.parametrize("doc_id", DOC_IDS)
def test_offsets_round_trip(layouts, doc_id: str) -> None:
    doc, layout = layouts[doc_id]
    assert layout.chunks and layout.sentences
    for c in layout.chunks:
        assert c.doc_id == doc_id
        assert doc.text[c.start:c.end] == c.text
        assert c.text == c.text.strip() and c.text
    for s in layout.sentences:
        assert s.doc_id == doc_id
        assert doc.text[s.start:s.end] == s.text
        assert s.text == s.text.strip() and s.text


@pytest.mark.parametrize("doc_id", DOC_IDS)
def test_no_chunk_is_longer_than_a_passage_may_be(layouts, doc_id: str, chunker) -> None:
    _, layout = layouts[doc_id]
    assert MAX_PASSAGE_CHARS == 800
    assert chunker.max_chars <= 800
    assert max(len(c.text) for c in layout.chunks) <= 800


@pytest.mark.parametrize("doc_id", DOC_IDS)
def test_chunks_start_and_end_on_sentence_boundaries(layouts, doc_id: str) -> None:
    _, layout = layouts[doc_id]
    starts = {s.start for s in layout.sentences}
    ends = {s.end for s in layout.sentences}
    for c in layout.chunks:
        assert c.start in starts, f"chunk {c.chunk_id} starts inside a sentence: {c.text[:60]!r}"
        assert c.end in ends, f"chunk {c.chunk_id} ends inside a sentence: {c.text[-60:]!r}"
        for s in layout.sentences:
            # A sentence is wholly inside a chunk or wholly outside it, never cut.
            overlaps = s.start < c.end and c.start < s.end
            inside = c.start <= s.start and s.end <= c.end
            assert inside or not overlaps, f"chunk {c.chunk_id} cuts the sentence {s.text!r}"


@pytest.mark.parametrize("doc_id", DOC_IDS)
def test_sentences_do_not_overlap(layouts, doc_id: str) -> None:
    _, layout = layouts[doc_id]
    spans = sorted((s.start, s.end) for s in layout.sentences)
    for (_, prev_end), (start, _) in itertools.pairwise(spans):
        assert prev_end <= start


@pytest.mark.parametrize("doc_id", DOC_IDS)
def test_every_character_is_in_a_chunk_heading_or_boilerplate(layouts, doc_id: str) -> None:
    doc, layout = layouts[doc_id]
    covered = [False] * len(doc.text)
    spans = [(c.start, c.end) for c in layout.chunks] + layout.headings + layout.boilerplate
    for a, b in spans:
        covered[a:b] = [True] * (b - a)
    lost = [i for i, ch in enumerate(doc.text) if not ch.isspace() and not covered[i]]
    assert not lost, f"{doc_id}: text in no chunk, heading or boilerplate: {doc.text[lost[0]:lost[0] + 80]!r}"


@pytest.mark.parametrize("doc_id", DOC_IDS)
def test_every_sentence_is_in_some_chunk(layouts, doc_id: str) -> None:
    _, layout = layouts[doc_id]
    for s in layout.sentences:
        assert any(c.start <= s.start and s.end <= c.end for c in layout.chunks), s.text


@pytest.mark.parametrize("doc_id", DOC_IDS)
def test_no_chunk_crosses_a_heading(layouts, doc_id: str) -> None:
    doc, layout = layouts[doc_id]
    for a, b in layout.headings + layout.boilerplate:
        for c in layout.chunks:
            assert not (c.start < b and a < c.end), (
                f"chunk {c.chunk_id} contains the heading/boilerplate {doc.text[a:b]!r}")


def test_chunk_corpus_numbers_chunks_densely_in_corpus_order(corpus: Corpus) -> None:
    chunks, sentences = chunk_corpus(corpus, Settings())
    assert [c.chunk_id for c in chunks] == list(range(len(chunks)))
    order = [d.id for d in corpus.documents]
    assert [c.doc_id for c in chunks] == sorted((c.doc_id for c in chunks), key=order.index)
    texts = corpus.by_id()
    for c in chunks:
        assert texts[c.doc_id].text[c.start:c.end] == c.text
    for s in sentences:
        assert texts[s.doc_id].text[s.start:s.end] == s.text
    assert {c.doc_id for c in chunks} == set(DOC_IDS)


# ---- the articles' real quirks -------------------------------------------------------------------

def test_glued_heading_becomes_a_label_and_a_sentence(layouts) -> None:
    doc, layout = layouts["say-goodbye"]
    i = doc.text.index("Reduces Acne ScarsMicro needling stimulates")
    label = next(s for s in layout.sentences if s.start == i)
    assert label.kind == "label"
    assert label.text == "Reduces Acne Scars"
    body = next(s for s in layout.sentences if s.start == label.end)
    assert body.text == ("Micro needling stimulates collagen production, which helps to reduce the "
                         "appearance of acne scars.")
    assert body.kind == "body"
    # The same glued pattern on the other benefit lines.
    labels = [s.text for s in layout.sentences if s.kind == "label"]
    assert labels == ["Reduces Acne Scars", "Improves Skin Texture", "Increases Product Absorption",
                      "Minimizes Pore Size", "Reduces Hyperpigmentation"]
    # A label is never separated from the sentence it introduces.
    for lab in (s for s in layout.sentences if s.kind == "label"):
        nxt = next(s for s in layout.sentences if s.start == lab.end)
        assert any(c.start <= lab.start and nxt.end <= c.end for c in layout.chunks), lab.text


def test_missing_space_after_full_stop_still_splits(layouts) -> None:
    _, layout = layouts["comprehensive-approach"]
    first = _sentence_with(layout, "tend to respond most favorably to microneedling")
    assert first.text.endswith("microneedling treatments.")
    second = _sentence_with(layout, "These include ice pick scars")
    assert second.text == "These include ice pick scars, boxcar scars, and rolling scars."
    assert second.start == first.end  # glued: no space between them
    third = _sentence_with(layout, "It is essential for patients with these types of scarring")
    assert third.text.startswith("It is essential")
    assert _sentence_with(layout, "based on individual skin types").text.endswith("scar characteristics.")


def test_decimals_do_not_split(layouts) -> None:
    _, layout = layouts["comprehensive-approach"]
    s = _sentence_with(layout, "2.5mm are recommended")
    assert s.text == ("Typically, needle depths ranging from 1mm to 2.5mm are recommended depending on "
                      "the severity of the scarring:")


def test_vs_does_not_split(layouts) -> None:
    doc, layout = layouts["say-goodbye"]
    heading = "Micro Needling vs. Other Acne Scar Treatments"
    a = doc.text.index(heading)
    assert (a, a + len(heading)) in layout.headings
    assert split_sentences(heading, 0, len(heading)) == [(0, len(heading))]


def test_bullet_items_are_sentences(layouts) -> None:
    _, layout = layouts["comprehensive-approach"]
    items = ["1mm: Ideal for superficial acne marks or fine lines.",
             "1.5mm: Suitable for moderate atrophic scarring.",
             "2mm – 2.5mm: Best used for deeper pitted acne scarring."]
    for item in items:
        s = _sentence_with(layout, item)
        assert s.text.lstrip("• ") == item
        assert s.kind == "body"
        assert s.heading == "Optimal Needle Depths for Effective Scar Treatment"
    # The three items are three different sentences.
    assert len({_sentence_with(layout, item).start for item in items}) == 3


def test_page_furniture_is_boilerplate(layouts) -> None:
    doc, layout = layouts["comprehensive-approach"]
    furniture = [doc.text[a:b] for a, b in layout.boilerplate]
    assert furniture == ["Blog", "author-avatar", "Leave a Reply"]
    for c in layout.chunks:
        for word in ("author-avatar", "Leave a Reply"):
            assert word not in c.text


def test_about_section_is_a_byline(layouts) -> None:
    doc, layout = layouts["comprehensive-approach"]
    a = doc.text.index("About San")
    assert (a, a + len("About San")) in layout.headings
    byline = [s for s in layout.sentences if s.start > a]
    assert byline and all(s.kind == "byline" for s in byline)
    assert byline[0].text.startswith("At MTSPen.com, I provide comprehensive guides")
    mts = [c for c in layout.chunks if "At MTSPen.com" in c.text]
    assert mts and all(c.kind == "byline" for c in mts)
    assert all(c.kind == "body" for c in layout.chunks if c.end <= a)


def test_disclaimer_paragraph_is_a_disclaimer(layouts) -> None:
    doc, layout = layouts["micro-needling-overview"]
    a = doc.text.index("Disclaimer: As always")
    tail = [s for s in layout.sentences if s.start >= a]
    assert len(tail) == 3
    assert all(s.kind == "disclaimer" for s in tail)
    assert all(s.kind != "disclaimer" for s in layout.sentences if s.start < a)
    for c in layout.chunks:
        if c.start >= a:
            assert c.kind == "disclaimer"
        else:
            assert c.end <= a and c.kind == "body", "a chunk mixes the disclaimer with article text"


HEADINGS = {
    "say-goodbye": [
        "Say Goodbye to Acne Scars with Micro Needling", "Understanding Acne Scars and their Causes",
        "How Micro Needling Works to Treat Acne Scars", "Benefits of Micro Needling for Acne Scars",
        "Who is a Good Candidate for Micro Needling?", "What to Expect During a Micro Needling Treatment",
        "Aftercare and Recovery for Micro Needling", "How Many Sessions are Needed for Optimal Results?",
        "Micro Needling vs. Other Acne Scar Treatments", "Potential Risks and Side Effects of Micro Needling",
        "Achieving Clearer Skin with Micro Needling"],
    "can-microneedling-help": [
        "Can Microneedling Help Reduce Acne Scars Effectively?", "What is Microneedling?",
        "How Does Microneedling Affect Acne Scars?", "What Can You Expect During a Microneedling Session?",
        "Aftercare and Results: What to Know", "Are There Any Risks Involved?",
        "Is Microneedling Your Solution to Acne Scars?"],
    "comprehensive-approach": [
        "Microneedling for Acne Scars: A Comprehensive Approach",
        "Microneedling for Treating Acne Scars: An In-Depth Guide",
        "Understanding Acne Scars adn Their Response too Microneedling",
        "Optimal Needle Depths for Effective Scar Treatment",
        "Enhancing Results with Complementary Treatments",
        "Chemical peels", "Platelet-Rich Plasma (PRP)", "Topical Serums", "Conclusion", "About San"],
    "micro-needling-overview": [],
    "non-invasive-method": [
        "Micro Needling as a Non-Invasive Method to Treat Acne Scars",
        "Micro Needling: Non-Invasive Treatment that Works", "Why Does This Work for Acne Scars?",
        "Who Can Undergo Micro Needling?", "Is Micro Needling Right for You?"],
}


@pytest.mark.parametrize("doc_id", DOC_IDS)
def test_exactly_the_real_headings_are_headings(layouts, doc_id: str) -> None:
    """Article text mistaken for a heading would silently drop out of every passage."""
    doc, layout = layouts[doc_id]
    assert [doc.text[a:b] for a, b in layout.headings] == HEADINGS[doc_id]


def test_headings_are_found(layouts) -> None:
    doc, layout = layouts["say-goodbye"]
    headings = [doc.text[a:b] for a, b in layout.headings]
    assert "How Many Sessions are Needed for Optimal Results?" in headings
    assert "Potential Risks and Side Effects of Micro Needling" in headings
    sessions = _sentence_with(layout, "three to six sessions")
    assert sessions.heading == "How Many Sessions are Needed for Optimal Results?"
    # An article with no headings at all is one section under its title.
    doc2, layout2 = layouts["micro-needling-overview"]
    assert layout2.headings == []
    assert {s.heading for s in layout2.sentences} == {doc2.title}


def test_curly_quotes_and_dashes_stay_inside_sentences(layouts) -> None:
    _, layout = layouts["comprehensive-approach"]
    s = _sentence_with(layout, "atrophic scars—characterized by their sunken appearance—tend")
    assert s.text.startswith("Among these, atrophic scars")
    _, layout = layouts["say-goodbye"]
    s = _sentence_with(layout, "activates fibroblasts – cells responsible")
    assert s.text.startswith("These tiny punctures stimulate collagen production in two ways")
    assert s.text.endswith("penetrate deeper into the skin.")


def test_questions_and_unpunctuated_endings(layouts) -> None:
    _, layout = layouts["can-microneedling-help"]
    assert _sentence_with(layout, "But does it really work?").text == "But does it really work?"
    _, layout = layouts["say-goodbye"]
    s = _sentence_with(layout, "at least SPF 30")
    assert s.text.endswith("is also recommended to protect the skin")  # no full stop in the source


# ---- split_sentences on crafted strings ----------------------------------------------------------

def _split(text: str) -> list[str]:
    return [text[a:b] for a, b in split_sentences(text, 0, len(text))]


@pytest.mark.parametrize(("text", "expected"), [
    ("One sentence. Another one.", ["One sentence.", "Another one."]),
    ("Does it hurt? Not much! Really.", ["Does it hurt?", "Not much!", "Really."]),
    ("It helps treatments.These include peels.", ["It helps treatments.", "These include peels."]),
    ("Use a 2.5mm needle. Then rest.", ["Use a 2.5mm needle.", "Then rest."]),
    ("Laser vs. peel is a choice. Both work.", ["Laser vs. peel is a choice.", "Both work."]),
    ("Use serums, e.g. Vitamin C serum. Then wait.", ["Use serums, e.g. Vitamin C serum.", "Then wait."]),
    ("Visit MTSPen.com for guides. Thanks.", ["Visit MTSPen.com for guides.", "Thanks."]),
    ("It lasts 1-3 days. 2 weeks of SPF follow.", ["It lasts 1-3 days.", "2 weeks of SPF follow."]),
    ("She said “stop.” Then it ended.", ["She said “stop.”", "Then it ended."]),
    ("Wait... Then go.", ["Wait...", "Then go."]),
    ("no final stop here", ["no final stop here"]),
    ("Ends with space.   ", ["Ends with space."]),
    ("lower. case does not start a sentence", ["lower. case does not start a sentence"]),
])
def test_split_sentences_crafted(text: str, expected: list[str]) -> None:
    assert _split(text) == expected


def test_split_sentences_reports_absolute_offsets() -> None:
    text = "HEADER\nFirst one. Second one.\nFOOTER"
    a = text.index("First")
    b = text.index("\nFOOTER")
    spans = split_sentences(text, a, b)
    assert [text[s:e] for s, e in spans] == ["First one.", "Second one."]
    assert spans[0][0] == a and spans[-1][1] == b


def test_split_sentences_of_blank_text_is_empty() -> None:
    assert split_sentences("   \n ", 0, 5) == []


def test_long_unpunctuated_paragraph_is_cut_at_spaces_within_the_limit(chunker) -> None:
    words = " ".join(f"word{i}" for i in range(400))  # ~3,000 chars, no sentence end
    text = f"A Heading\n{words}\n"
    layout = chunk_document("x", text, "Title", chunker)
    assert layout.chunks
    for c in layout.chunks:
        assert len(c.text) <= 800
        assert text[c.start:c.end] == c.text
        assert not c.text.startswith(" ") and c.text.split()[0].startswith("word")
    covered = "".join(text[c.start:c.end] + " " for c in layout.chunks)
    assert set(covered.split()) == set(words.split())


def test_calls_to_action_are_their_own_kind_inside_body_passages(corpus) -> None:
    """'Contact … today to schedule an appointment' stays in its passage but is marked promo."""
    from qa.chunking import chunk_document
    from qa.config import ChunkerSettings

    doc = corpus.by_id()["non-invasive-method"]
    layout = chunk_document(doc.id, doc.text, doc.title, ChunkerSettings())
    promo = [s for s in layout.sentences if s.kind == "promo"]
    assert [s.text for s in promo] == [
        "Contact Elite Medical Skin and Laser Center today to schedule an appointment."]
    assert any(c.start <= promo[0].start and promo[0].end <= c.end and c.kind == "body"
               for c in layout.chunks)
