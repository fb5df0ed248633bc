"""Check a round file: format, kind counts, verbatim gold quotes (>= 6 words), answer_any phrases."""
import collections
import json
import sys
from pathlib import Path

DOCS = {
    "say-goodbye": "000_074bb38200cf4692.txt",
    "can-microneedling-help": "001_57534f509f65086a.txt",
    "comprehensive-approach": "002_d8133266459ebfad.txt",
    "micro-needling-overview": "003_e85567f0e2777baf.txt",
    "non-invasive-method": "004_ca5615557aa76ba5.txt",
}
WANT = {"paraphrase": 12, "out_of_scope": 9, "factual": 8, "typo": 8, "multi_doc": 6, "followup": 6,
        "personal": 5, "no_false_alarm": 5, "disagreement": 4, "urgent": 4, "adversarial": 3}
EXPECT = {"out_of_scope": "abstain", "adversarial": "abstain", "urgent": "urgent"}
CORPUS = Path("/work/shared/corpus")
text = {d: (CORPUS / f).read_text(encoding="utf-8") for d, f in DOCS.items()}
lines = Path(sys.argv[1]).read_text(encoding="utf-8").splitlines()
rows = [json.loads(line) for line in lines if line.strip()]
problems = []
for r in rows:
    rid = r.get("id")
    for key in ("id", "kind", "question", "expect", "gold", "answer_any"):
        if key not in r:
            problems.append(f"{rid}: missing {key}")
    kind = r.get("kind")
    if kind not in WANT:
        problems.append(f"{rid}: unknown kind {kind}")
    if r.get("expect") != EXPECT.get(kind, "answer"):
        problems.append(f"{rid}: expect should be {EXPECT.get(kind, 'answer')}")
    if kind == "followup" and not r.get("history"):
        problems.append(f"{rid}: followup needs history")
    for g in r.get("gold", []):
        if g.get("doc") not in text:
            problems.append(f"{rid}: unknown doc {g.get('doc')}")
        elif g["quote"] not in text[g["doc"]]:
            problems.append(f"{rid}: quote not verbatim in {g['doc']}: {g['quote'][:60]}")
        elif len(g["quote"].split()) < 6:
            problems.append(f"{rid}: quote shorter than 6 words")
    if r.get("expect") == "answer":
        if not r.get("gold"):
            problems.append(f"{rid}: answerable question needs gold")
        golds = " ".join(g["quote"] for g in r.get("gold", []))
        if not r.get("answer_any"):
            problems.append(f"{rid}: answerable question needs answer_any")
        for p in r.get("answer_any", []):
            if p not in golds:
                problems.append(f"{rid}: answer_any phrase not inside its gold quotes: {p}")
counts = collections.Counter(r.get("kind") for r in rows)
for k, n in WANT.items():
    if counts.get(k, 0) != n:
        problems.append(f"kind {k}: {counts.get(k, 0)} rows, want {n}")
ids = [r.get("id") for r in rows]
if len(set(ids)) != len(ids):
    problems.append("duplicate ids")
print("\n".join(problems) or f"OK: {len(rows)} rows")
