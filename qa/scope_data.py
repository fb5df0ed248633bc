"""Reference data the scope decision compares with (``qa/data/scope/``), embedded by ``qa build``.

- ``topical.txt`` / ``everyday.txt``: words a question may use that the articles never do, as
  topics the articles cannot cover (medicines, other conditions, body areas, procedures, money,
  places, food ...) or as everyday chat (run, order, desk, photos, might ...).
- ``not_covered.jsonl``: questions people ask that the five articles do not answer, one
  ``{"question", "topic"}`` per line; ``not_covered_asked.jsonl``: the tuning splits'
  out-of-scope and adversarial questions as they were asked (``python -m bench.asked_data``).
- ``names.txt``: names of medicines, procedures and body areas (a subset of the topical words)
  that make a question out of scope when it asks about them (``qa.scope.asks_about_a_name``);
  ``conditions.txt``: medical conditions that make it out of scope when named at all
  (``qa.scope.names_a_condition``). Both are read as words, never embedded.

All but ``not_covered_asked.jsonl`` are in our own words, never copied from an evaluation set;
some categories were added after tuning splits showed them missing (docs/decisions.md records
which and why). The held-out ``test`` split and the clean tuning splits are never used.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

SCOPE_DIR = Path(__file__).resolve().parent / "data" / "scope"
WORD_LISTS = ("topical", "everyday")
NOT_COVERED_FILES = ("not_covered.jsonl", "not_covered_asked.jsonl")  # the second may be absent
NAMES_FILE = "names.txt"
CONDITIONS_FILE = "conditions.txt"


def word_lists(directory: Path = SCOPE_DIR) -> dict[str, list[str]]:
    """Each labelled word list (``topical``, ``everyday``): one word or term per line."""
    return {name: [w.strip() for w in (directory / f"{name}.txt").read_text(encoding="utf-8").splitlines()
                   if w.strip()]
            for name in WORD_LISTS}


def _listed_words(path: Path) -> frozenset[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip().lower() for w in lines if w.strip() and not w.startswith("#"))


def treatment_names(directory: Path = SCOPE_DIR) -> frozenset[str]:
    """Names of medicines, other procedures and body areas the articles never mention
    (``names.txt``), read as words: what a question may be about rather than mention in passing."""
    return _listed_words(directory / NAMES_FILE)


def condition_names(directory: Path = SCOPE_DIR) -> frozenset[str]:
    """Medical conditions the articles never mention (``conditions.txt``), read as words."""
    return _listed_words(directory / CONDITIONS_FILE)


def not_covered_questions(directory: Path = SCOPE_DIR,
                          files: tuple[str, ...] = NOT_COVERED_FILES) -> list[str]:
    """Questions the articles do not answer (from ``files`` that exist)."""
    lines = [line for name in files if (directory / name).is_file()
             for line in (directory / name).read_text(encoding="utf-8").splitlines()]
    return [json.loads(line)["question"] for line in lines if line.strip()]


def scope_data_sha256(directory: Path = SCOPE_DIR) -> str:
    """One checksum over the word lists and the not-covered questions (for the index manifest)."""
    h = hashlib.sha256()
    for name in (*(f"{n}.txt" for n in WORD_LISTS), *NOT_COVERED_FILES):
        if (directory / name).is_file():
            h.update(name.encode() + b"\0" + (directory / name).read_bytes() + b"\0")
    return h.hexdigest()
