"""Meaning-based symptom reading: the second half of urgent triage (``qa/safety.py``).

Patterns catch the usual words for urgent symptoms; people also describe them in
words no pattern lists ("blood keeps coming through the gauze", "the pain is off
the charts"). Each sentence of a message is compared, with the embedding model,
in two ways:

- with short first-person descriptions of urgent symptoms and of the ordinary,
  expected after-effects and general questions that share their words (below);
- with labelled patients' messages (``qa/data/triage/``: urgent ones, and lookalikes
  about ordinary after-effects, general questions and past or other people's stories),
  embedded when the index is built.

A sentence nearer an urgent description (or urgent message) than any ordinary one,
and close to it in its own right, raises its concern. Thresholds were calibrated on
the labelled messages, leaving one set out at a time (docs/decisions.md).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .embedding import Encoder
from .safety import reading_text

# concern -> first-person descriptions of it (the concern names match qa/safety.py).
URGENT: dict[str, tuple[str, ...]] = {
    "infection": (
        "I have a fever and chills after the treatment",
        "pus is coming out of the treated skin",
        "the treated area is oozing yellow or green fluid",
        "the redness is spreading and the skin is hot to touch",
        "red streaks are spreading from the treated area",
        "the wound smells bad and is weeping",
        "a hot, swollen, painful lump is growing on my face",
        "I feel ill and shivery and my face is red, swollen and sore",
        "my face looks infected",
    ),
    "allergic reaction": (
        "my lips and tongue are swelling",
        "my throat feels tight and is closing up",
        "I am struggling to breathe",
        "it is hard to swallow and my throat is swollen",
        "I am covered in hives and itchy welts",
        "an itchy rash is spreading all over my body",
        "my face swelled up suddenly after the cream",
        "I think I am having an allergic reaction",
    ),
    "bleeding that will not stop": (
        "the bleeding will not stop",
        "blood keeps soaking through the gauze",
        "I have been bleeding for hours",
        "the bleeding stops and then starts again, on and off for hours",
    ),
    "severe or worsening pain": (
        "the pain is severe and unbearable",
        "the pain gets worse every day",
        "the pain is so bad I cannot sleep",
        "my face is burning more and more each day",
    ),
    "eye or vision problems": (
        "my vision is blurry",
        "I have double vision",
        "my eye is swollen shut and I cannot open it",
        "my eye hurts badly after the treatment near it",
        "I lost some sight in one eye",
    ),
    "a medical emergency": (
        "I fainted after the treatment",
        "I have chest pain",
        "my heart is racing and I feel faint",
        "I feel confused and dizzy",
        "he is not responding and I cannot wake him",
        "I keep blacking out",
        "I have pain in my chest and I am sweating",
    ),
    "skin changing colour": (
        "the treated skin is turning grey, purple or black",
    ),
}

# Expected after-effects and questions that share the urgent descriptions' words.
ORDINARY: tuple[str, ...] = (
    "my skin is a bit red like a mild sunburn",
    "my face is slightly swollen the next day",
    "there were tiny pinpoint spots of blood during the treatment",
    "my skin feels tight and dry",
    "my skin is flaking and peeling a little",
    "it stings a little when I put products on",
    "my face is a little tender",
    "my skin is itchy while it heals",
    "it is a bit sore but getting better",
    "I got a few small spots after the treatment",
    "is this normal after microneedling",
    "is that an expected or normal reaction after the treatment",
    "will I bleed during microneedling",
    "does microneedling hurt",
    "can microneedling cause an infection",
    "how do I avoid infection afterwards",
    "what are the side effects and risks",
    "what are the warning signs of a bad reaction",
    "what counts as an emergency",
    "how long does the redness and swelling last",
    "is it safe near the eyes",
    "what should I do if I get a fever afterwards",
    "I had an infection last year, can I still have it",
    "my friend had a bad reaction at a salon",
    "I wear glasses or contact lenses",
    "is the numbing cream painful",
    "how painful is it",
    "I have a skin condition such as psoriasis or eczema",
    "can you prescribe me a medicine",
    "how many sessions will I need",
    "my face feels hot like a sunburn a few hours after the session",
    "my skin feels raw and sore right after the treatment",
    "am I going to bleed during or after the treatment",
    "do the needle holes let germs into the skin",
    "could the treatment give me dark patches on my skin",
    "I have a few spots or a breakout, should I still have the treatment",
    "how is it different from a chemical peel or laser",
    "I am nervous about having the treatment near my eyes",
    "I am worried about what could go wrong before my appointment",
)

MIN_WORDS = 3
MAX_PARTS = 12  # sentences read per message (a pasted essay has many)
_SPLIT = re.compile(r"(?<=[.!?;])\s+|\n+|\s+(?:but|and then|also|plus)\s+")

EXAMPLES_DIR = Path(__file__).resolve().parent / "data" / "triage"
# The labelled messages' categories, as the concerns above name them.
CATEGORY_CONCERN = {
    "infection": "infection", "allergy": "allergic reaction", "bleeding": "bleeding that will not stop",
    "pain": "severe or worsening pain", "eye": "eye or vision problems",
    "emergency": "a medical emergency", "skin_dying": "skin changing colour",
}
# Nearest labelled urgent message this much nearer than the nearest ordinary one, and at
# least this similar itself. Leaving one of the sets out: margins 0.05-0.08 and floors
# 0.45-0.55 gave the same recall; 0.05/0.55 flagged 0-1 of the dev questions.
EXAMPLE_MARGIN = 0.05
EXAMPLE_FLOOR = 0.55
# A description's reading is dropped when the nearest ordinary message is this much nearer
# than the nearest urgent one. Leaving one set out at a time, no urgent message is lost down
# to 0.005 and one is at 0; 0.015 keeps a margin (false alarms 19 -> 16 against 0.05, and none
# left on the tuning question sets; docs/decisions.md).
EXAMPLE_VETO = 0.015


def message_parts(text: str) -> list[str]:
    """The sentences of a message worth reading on their own (not the message itself)."""
    # Fragments of one or two words ("rare ones?") carry too little meaning to judge.
    parts = [p for p in (s.strip() for s in _SPLIT.split(text)) if len(p.split()) >= MIN_WORDS]
    return [p for p in dict.fromkeys(parts) if p != text][:MAX_PARTS]


@dataclass(frozen=True)
class Examples:
    """Embedded labelled messages: a concern per row, ``""`` for an ordinary one."""

    vectors: np.ndarray
    labels: tuple[str, ...]


def example_files(directory: Path = EXAMPLES_DIR) -> list[Path]:
    """The labelled message files, in a stable order."""
    return sorted(directory.glob("*.jsonl"))


# Bump when the text a labelled message is embedded as changes (``safety.reading_text``,
# ``message_parts``): the index's embedded messages are then stale.
READING_VERSION = 5


def examples_sha256(directory: Path = EXAMPLES_DIR) -> str:
    """One checksum over every labelled message file and the way they are read (for the manifest)."""
    h = hashlib.sha256(f"reading {READING_VERSION}\0".encode())
    for path in example_files(directory):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def example_texts(directory: Path = EXAMPLES_DIR) -> tuple[list[str], list[str]]:
    """The texts to embed for the labelled messages (as triage reads them), and each one's label.

    An urgent message counts as a whole (its other sentences may be ordinary); an
    ordinary message counts as a whole and sentence by sentence, as messages are read.
    """
    texts: list[str] = []
    labels: list[str] = []
    for path in example_files(directory):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            text = reading_text(item["text"])
            if item["urgent"]:
                texts.append(text)
                labels.append(CATEGORY_CONCERN[item["category"]])
            else:
                more = message_parts(text)
                texts.extend([text, *more])
                labels.extend([""] * (1 + len(more)))
    return texts, labels


@dataclass(frozen=True)
class SymptomReading:
    """The nearest urgent text's concern and its margin over the nearest ordinary one."""

    concern: str
    margin: float
    similarity: float = 0.0  # to that urgent text


def _nearest(vecs: np.ndarray, urgent: np.ndarray, ordinary: np.ndarray, labels: list[str],
             floor: float) -> tuple[SymptomReading, float]:
    """The strongest urgent reading over ``vecs`` (a message and its sentences), and the best
    margin of any of them however far it is from every urgent text."""
    sims = vecs @ urgent.T
    margins = sims.max(1) - (vecs @ ordinary.T).max(1)
    # Only a sentence close to an urgent text counts: far from both lists, a margin is noise.
    floored = np.where(sims.max(1) >= floor, margins, -1.0)
    best = int(np.argmax(floored))
    j = int(np.argmax(sims[best]))
    return SymptomReading(labels[j], float(floored[best]), float(sims[best, j])), float(margins.max())


class SymptomModel:
    """Compares a message's sentences with urgent and ordinary descriptions and messages."""

    def __init__(self, encoder: Encoder, examples: Examples | None = None,
                 margin: float = 0.0, floor: float = 0.50):
        self.encoder = encoder
        self.margin = margin  # over the nearest ordinary description
        self.floor = floor  # least similarity to the urgent description itself
        self.labels = [c for c, texts in URGENT.items() for _ in texts]
        self._urgent = encoder.encode([t for texts in URGENT.values() for t in texts])
        self._ordinary = encoder.encode(list(ORDINARY))
        # Labelled messages join the descriptions as neighbours to compare with.
        self._ex_labels: list[str] = list(self.labels)
        self._ex_urgent, self._ex_ordinary = self._urgent, self._ordinary
        if examples is not None and len(examples.labels):
            is_urgent = np.array([bool(label) for label in examples.labels])
            self._ex_urgent = np.vstack([self._urgent, examples.vectors[is_urgent]])
            self._ex_ordinary = np.vstack([self._ordinary, examples.vectors[~is_urgent]])
            self._ex_labels += [label for label in examples.labels if label]

    @staticmethod
    def texts(text: str) -> list[str]:
        """What ``concerns`` encodes for a message: it and its sentences (none if too short)."""
        return [text, *message_parts(text)] if len(text.split()) >= MIN_WORDS else []

    def concerns(self, text: str) -> tuple[str, ...]:
        """The concern a message describes by meaning, or ``()``.

        Vectors go through the encoder's query cache when it has one: the retriever has
        usually encoded the same text already, and greetings ("thanks.") repeat.
        """
        texts = self.texts(text)
        if not texts:
            return ()
        encode = getattr(self.encoder, "encode_cached", self.encoder.encode)
        vecs = encode(texts)
        near, margin = _nearest(vecs, self._ex_urgent, self._ex_ordinary, self._ex_labels, EXAMPLE_FLOOR)
        coarse, _ = _nearest(vecs, self._urgent, self._ordinary, self.labels, self.floor)
        if near.margin > EXAMPLE_MARGIN:
            return (near.concern,)
        # The descriptions alone are a coarse reading: it stands unless the labelled messages
        # nearest to this one are clearly ordinary.
        return (coarse.concern,) if coarse.margin > self.margin and margin > -EXAMPLE_VETO else ()
