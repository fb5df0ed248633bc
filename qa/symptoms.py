"""Meaning-based symptom reading: the second half of urgent triage (``qa/safety.py``).

Patterns catch the usual words for urgent symptoms; people also describe them in
words no pattern lists ("blood keeps coming through the gauze", "the pain is off
the charts"). Each sentence of a message is compared, with the embedding model,
to short first-person descriptions of urgent symptoms and to descriptions of the
ordinary, expected after-effects and general questions that share their words.
A sentence nearer an urgent description than any ordinary one, and close to it in
its own right (thresholds calibrated on the triage sets in tests/data/; see
docs/decisions.md), raises that description's concern. These are descriptions of
symptoms, not of expected questions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .embedding import Encoder

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
)

MIN_WORDS = 3
MAX_PARTS = 12  # sentences read per message (a pasted essay has many)
_SPLIT = re.compile(r"(?<=[.!?;])\s+|\n+|\s+(?:but|and then|also|plus)\s+")


@dataclass(frozen=True)
class SymptomReading:
    """The best urgent description's concern and its margin over the nearest ordinary one."""

    concern: str | None
    margin: float
    similarity: float = 0.0  # to that urgent description


class SymptomModel:
    """Compares a message's sentences with urgent and ordinary symptom descriptions."""

    def __init__(self, encoder: Encoder, margin: float = 0.0, floor: float = 0.50):
        self.encoder = encoder
        self.margin = margin  # over the nearest ordinary description
        self.floor = floor  # least similarity to the urgent description itself
        self.labels = [c for c, texts in URGENT.items() for _ in texts]
        self._urgent = encoder.encode([t for texts in URGENT.values() for t in texts])
        self._ordinary = encoder.encode(list(ORDINARY))

    def read(self, text: str) -> SymptomReading:
        """The strongest urgent reading over the message and its sentences.

        Vectors go through the encoder's query cache when it has one: the retriever has
        usually encoded the same text already, and greetings ("thanks.") repeat.
        """
        if len(text.split()) < MIN_WORDS:
            return SymptomReading(None, -1.0)
        # Fragments of one or two words ("rare ones?") carry too little meaning to judge.
        parts = [p for p in (s.strip() for s in _SPLIT.split(text)) if len(p.split()) >= MIN_WORDS]
        parts = [p for p in dict.fromkeys(parts) if p != text][:MAX_PARTS]
        encode = getattr(self.encoder, "encode_cached", self.encoder.encode)
        vecs = encode([text, *parts])
        urgent = vecs @ self._urgent.T
        margins = urgent.max(1) - (vecs @ self._ordinary.T).max(1)
        # Only a sentence close to an urgent description counts: far from both lists,
        # a margin is noise.
        margins = np.where(urgent.max(1) >= self.floor, margins, -1.0)
        best = int(np.argmax(margins))
        j = int(np.argmax(urgent[best]))
        return SymptomReading(self.labels[j], float(margins[best]), float(urgent[best, j]))

    def concerns(self, text: str) -> tuple[str, ...]:
        """The concern a message describes by meaning, or ``()``."""
        r = self.read(text)
        return (r.concern,) if r.concern and r.margin > self.margin else ()
