"""Write the tuning splits' questions as search data, as people asked them.

    python -m bench.asked_data          # rewrites corpus/questions/asked/ and not_covered_asked.jsonl

The answerable questions of ``SEARCH_DATA_SPLITS`` (no history: a follow-up means nothing
alone) become written questions for their gold quotes, neighbours only (``"adapt": false``);
their out-of-scope and adversarial questions become not-covered examples. The triage tuning
sets already serve triage so. Measured before adopting it (docs/decisions.md, session 22): with
dev … dev30 as search data, the clean splits dev31 … dev38 read MRR 0.908 -> 0.922, cite-hit
0.965 -> 0.982, answer-hit 0.956 -> 0.977, abstention 0.990 -> 1.00. ``test`` and the later
splits are never used, so they stay honest measures.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from qa.config import ROOT
from qa.corpus import ASKED_DIR, QUESTIONS_DIR, load_corpus
from qa.evaluate import SEARCH_DATA_SPLITS, load_items
from qa.scope_data import NOT_COVERED_FILES, SCOPE_DIR, not_covered_questions
from qa.store import write_atomic

DATA = ROOT / "tests" / "data"


def asked_data(corpus_dir: Path = ROOT / "corpus") -> tuple[dict[str, list[dict]], list[dict]]:
    """(lines per article for ``questions/asked/``, lines for ``not_covered_asked.jsonl``)."""
    docs = load_corpus(corpus_dir).by_id()
    ours = {q.strip().lower() for q in not_covered_questions(files=NOT_COVERED_FILES[:1])}
    by_quote: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    not_covered: list[dict] = []
    seen: set[str] = set()
    for split in SEARCH_DATA_SPLITS:
        for item in load_items(DATA / f"{split}.jsonl"):
            q = item["question"].strip()
            if item.get("history") or q.lower() in seen:
                continue
            seen.add(q.lower())
            if item["expect"] == "answer":
                for g in item.get("gold", []):
                    by_quote[g["doc"]][g["quote"]].append(q)
            elif item["expect"] == "abstain" and q.lower() not in ours:
                not_covered.append({"question": q, "topic": "asked", "split": split})
    lines = {doc: [{"quote": quote, "questions": qs, "adapt": False}
                   for quote, qs in sorted(quotes.items(), key=lambda kv: docs[doc].text.find(kv[0]))]
             for doc, quotes in sorted(by_quote.items())}
    return lines, not_covered


def _write(path: Path, rows: list[dict]) -> None:
    write_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8"))


def main() -> None:
    lines, not_covered = asked_data()
    folder = ROOT / "corpus" / QUESTIONS_DIR / ASKED_DIR
    folder.mkdir(exist_ok=True)
    for doc, rows in lines.items():
        _write(folder / f"{doc}.jsonl", rows)
    _write(SCOPE_DIR / NOT_COVERED_FILES[1], not_covered)
    print(f"{sum(len(r['questions']) for rs in lines.values() for r in rs)} asked questions for "
          f"{sum(map(len, lines.values()))} quotes; {len(not_covered)} not-covered questions. "
          "Run `qa build` next.")


if __name__ == "__main__":
    main()
