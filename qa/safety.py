"""Input validation and urgent-symptom triage: the checks that run before retrieval.

Triage reads the patient's own words for signs that need a clinician now
(infection, allergic reaction, bleeding that will not stop, severe or worsening
pain, eye and vision problems). Recall comes first: a described symptom is
urgent unless the sentence is plainly a general question about risks ("can it
cause an infection?"), and ordinary words (bleed, hurt, red, swelling) alone
never are.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .schema import Turn
from .textnorm import normalize

MAX_QUESTION_CHARS = 2000
MAX_HISTORY_TURNS = 20
MAX_TURN_CHARS = 8000
# Anything this much over the limit is refused before any text processing, so a pasted
# book costs a length check, not a Unicode normalisation of megabytes.
_HARD_LIMIT = MAX_QUESTION_CHARS * 8

# C0/C1 controls (tab, newline and carriage return are handled first), line/paragraph
# separators, and lone UTF-16 surrogates: JSON can carry "\ud800", which is not encodable
# as UTF-8 and makes the tokenizer and every UTF-8 writer fail.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_HISTORY_KEYS = frozenset({"role", "content", "metadata", "options"})


@dataclass(frozen=True)
class Validated:
    """A clean question and history, or the reason they were refused."""

    question: str
    history: list[Turn]
    error: str | None = None


def clean_text(text: str) -> str:
    """Remove control characters and lone surrogates, normalise to NFC and trim.

    Any script, emoji (with its zero-width joiners), right-to-left or CJK text is kept.
    """
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " "))
    return unicodedata.normalize("NFC", text).strip()


def _too_long(n: int) -> str:
    return (f"Your question is {n:,} characters long; please keep it under "
            f"{MAX_QUESTION_CHARS:,} characters.")


def validate(question: object, history: object = None) -> Validated:
    """Check a question and its history; errors are friendly sentences for the user.

    Never raises: any value for ``question`` or ``history`` gives either a clean
    question and ``Turn`` list, or ``error`` set to one sentence saying what to change.
    """
    if not isinstance(question, str):
        return Validated("", [], "The question must be text.")
    if len(question) > _HARD_LIMIT:
        return Validated(clean_text(question[:MAX_QUESTION_CHARS]), [], _too_long(len(question)))
    q = clean_text(question)
    if not q or not any(ch.isalnum() for ch in q):
        return Validated(q, [], "Please type a question about microneedling for acne scars.")
    if len(q) > MAX_QUESTION_CHARS:
        return Validated(q[:MAX_QUESTION_CHARS], [], _too_long(len(q)))
    turns, err = parse_history(history)
    if err:
        return Validated(q, [], err)
    return Validated(q, turns)


def _content_text(content: object) -> str | None:
    """The text of a message's content: a string, or Gradio's list of content parts.

    Gradio 6 hands a chat function ``[{"type": "text", "text": ...}, {"type": "file", ...}]``;
    text parts are joined and files or components are ignored. ``None`` means a wrong shape.
    """
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return None
    parts = []
    for part in content:
        if isinstance(part, str):
            parts.append(part)
        elif isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
            parts.append(part["text"])
        elif not (isinstance(part, dict) and part.get("type") in ("file", "component")):
            return None
    return "\n".join(parts)


def parse_history(history: object) -> tuple[list[Turn], str | None]:
    """Turn a JSON-like history into ``Turn`` objects, or say what is wrong with it.

    Accepted: ``None`` or a list of ``{"role": "user"|"assistant"|"system", "content": ...}``
    (``content`` a string or Gradio's list of content parts; ``metadata``/``options`` keys
    allowed) or ``Turn`` objects. System messages are dropped (they are not the patient's
    conversation), only the last ``MAX_HISTORY_TURNS`` turns are kept, each cut to
    ``MAX_TURN_CHARS``. Every item's shape is checked, so a wrong one anywhere is reported.
    """
    if history is None:
        return [], None
    if not isinstance(history, list | tuple):
        return [], "The history must be a list of {role, content} messages."
    kept: list[tuple[str, str]] = []
    for i, item in enumerate(history):
        if isinstance(item, Turn):
            item = {"role": item.role, "content": item.content}
        if not isinstance(item, dict) or not item.keys() <= _HISTORY_KEYS:
            return [], f"History item {i + 1} must be an object with 'role' and 'content'."
        role = item.get("role")
        if role not in ("user", "assistant", "system"):
            shown = role if isinstance(role, str | int | float | bool | None) else type(role).__name__
            return [], f"History item {i + 1} has role {str(shown)[:40]!r}; use 'user' or 'assistant'."
        content = _content_text(item.get("content"))
        if content is None:
            return [], f"History item {i + 1} must have text 'content'."
        if role != "system":
            kept.append((role, content))
    turns = [Turn(role=role, content=clean_text(content[:MAX_TURN_CHARS * 2])[:MAX_TURN_CHARS])
             for role, content in kept[-MAX_HISTORY_TURNS:]]
    return turns, None


# --- urgent-symptom triage -------------------------------------------------------------

_SYMPTOMS: dict[str, list[str]] = {
    "infection": [
        r"\bpus\b", r"\bpussy\b", r"\booz(e|es|ing)\b", r"\b(yellow|green|cloudy|smelly)\w* "
        r"(discharge|fluid|crust|stuff|gunk|goo)", r"\bdischarge\b", r"\bfever\w*", r"\bchills\b",
        r"\bhigh temp", r"\btemperature of\b", r"\bred(ness)? (is |keeps |has )?(spread|spreading)",
        r"\bspreading (redness|rash|red)", r"\bred streaks?\b", r"\bstreaks?\b",
        r"\b(hot|warm|burning) (to the touch|and (red|swollen))", r"\b(red|swollen) and (hot|warm)\b",
        r"\binfect(ed|ion)\b", r"\babscess", r"\bboils?\b",
    ],
    "allergic reaction": [
        r"\b(lips?|tongue|throat|mouth|eyelids?)\b[^.?!]{0,30}\b(swell\w*|swollen|puff\w*|tight\w*|"
        r"closing|itch\w*)", r"\bswollen (lips?|tongue|throat|mouth|eyes?|eyelids?)\b",
        r"\bhives\b", r"\bwelts\b", r"\b(trouble|difficulty|hard|hard time|struggling|cant|can't|"
        r"cannot|unable to) (to )?breath", r"\bshort(ness)? of breath", r"\bwheez",
        r"\banaphyla", r"\ballergic reaction\b", r"\bbreathing (is )?(hard|difficult|trouble)",
        r"\b(face|eyes?) (is |are )?swell\w* shut\b",
    ],
    "bleeding that will not stop": [
        r"\bbleed\w* [^.?!]{0,20}(won'?t|wont|will not|doesn'?t|does not|didn'?t|did not|hasn'?t|has "
        r"not|isn'?t|is not|not) (stop|stopping|slow)", r"\b(can'?t|cant|cannot|unable to) stop "
        r"(the )?bleed", r"\bkeeps? (on )?bleeding\b", r"\bstill bleeding\b",
        r"\bbleeding (a lot|heavily|profusely|badly|everywhere|non ?stop)", r"\bblood everywhere\b",
        r"\b(won'?t|wont|will not|doesn'?t|does not|didn'?t|did not|hasn'?t|has not|isn'?t|not) "
        r"stop(ped)? bleeding",
        r"\bsoak(ed|ing) (through|the)", r"\bheavy bleeding\b",
    ],
    "severe or worsening pain": [
        r"\b(severe|intense|extreme|unbearable|excruciating|horrible|terrible|agonizing|worst)\w* "
        r"(pain|burning|ache)", r"\bpain\w* [^.?!]{0,25}(getting|gets|got|is getting|keeps getting|"
        r"growing) worse", r"\bworsening pain\b", r"\bpain is (unbearable|severe|excruciating)",
        r"\bthrobbing\b", r"\bunbearabl", r"\bexcruciating\b",
        r"\b(hurts?|hurting|pain\w*|sore|burn\w*)\b[^.?!]{0,30}\b(so bad|really bad|so much|"
        r"worse|unbearabl\w*|can'?t sleep)", r"\bworse than (yesterday|before|last)",
    ],
    "eye or vision problems": [
        r"\b(vision|eyesight|sight)\b", r"\bblurr(y|ed|ing)\b", r"\bdouble vision\b",
        r"\b(can'?t|cant|cannot) see\b", r"\beye\w* [^.?!]{0,20}(pain|hurt\w*|swell\w*|swollen|"
        r"red|bleed\w*|burn\w*)", r"\bin (my|the) eye\b",
    ],
    "a medical emergency": [
        r"\bchest pain\b", r"(?<!nearly )(?<!almost )\bfaint(ed|ing)?\b", r"\bpassed out\b",
        r"\bunconscious\b", r"\bseizure", r"\bcollaps(e|ed)\b", r"\bconfus(ed|ion)\b",
        r"\bdisoriented\b", r"\bslurr(ing|ed)\b", r"\btwitch\w*", r"\bconvuls\w*",
        r"\bheart (is |was )?(racing|pounding)\b", r"\bpalpitations?\b",
    ],
}
_COMPILED = {k: [re.compile(p) for p in v] for k, v in _SYMPTOMS.items()}

# Signs that the person is describing what is happening to them now.
_PRESENT = re.compile(
    r"\b(i have|i've|ive|i got|i'?m having|i am having|i'?m getting|there is|there'?s|it'?s|its|"
    r"now|since|ago|yesterday|today|tonight|last night|this morning|still|keeps?|started|"
    r"getting worse|right now|help me|what do i do|what should i do|should i go)\b"
)
# A question about risks in general, a hypothetical, or prevention: not a description.
_HYPOTHETICAL = re.compile(
    r"^(can|could|does|do|will|would|is it possible|is there|are there|what are|what is the risk|"
    r"how (likely|common|often|long|do|can|should|to)|what if|what happens|in case|should i worry)\b"
    r"|\bif (i|you|it|my|they|there)\b|\b(risk|chance|likelihood|odds) of\b|\bside effects?\b"
    r"|\b(avoid|prevent|reduce|lower|minimi[sz]e)\b"
)
_CONDITIONAL = re.compile(r"\bif (i|you|it|my|they|there) \w+")


@dataclass(frozen=True)
class Triage:
    """The result of reading a message for urgent symptoms."""

    urgent: bool
    concerns: tuple[str, ...] = ()


def triage(text: str) -> Triage:
    """Flag a message that describes symptoms needing a clinician now.

    A symptom counts unless the message is plainly a general or hypothetical
    question ("can it cause an infection?", "what if I get a fever?") with no sign
    that it is happening now.
    """
    norm = normalize(text)
    concerns = tuple(k for k, pats in _COMPILED.items() if any(p.search(norm) for p in pats))
    if not concerns:
        return Triage(False)
    if _HYPOTHETICAL.search(norm) and not _PRESENT.search(_CONDITIONAL.sub(" ", norm)):
        return Triage(False)
    return Triage(True, concerns)


def urgent_notice(t: Triage, with_passages: bool = True) -> str:
    """The first lines of an urgent answer (the article quotes, if any, follow)."""
    what = ", ".join(t.concerns)
    tail = ("the articles quoted below are general information, not a substitute for being seen."
            if with_passages else "please do not wait for an answer from the articles.")
    return (
        "**Please contact your clinician now, or call your local emergency number if it feels "
        "severe or is getting worse quickly.**\n\n"
        f"What you describe may need prompt medical attention ({what}). This assistant cannot "
        f"assess symptoms, and {tail}"
    )
