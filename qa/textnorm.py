"""Text normalisation, keyword tokenisation and spelling correction.

Both the index and the queries go through ``keyword_tokens`` so that curly
quotes, dashes, case, the corpus's three spellings of "microneedling" and
plural/tense variants all meet on the same stems.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

import Stemmer

_PUNCT = str.maketrans({
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "`": "'",
    "“": '"', "”": '"', "„": '"', "″": '"',
    "–": "-", "—": "-", "―": "-", "−": "-", "‐": "-", "‑": "-",
    "\u00a0": " ", "\u200b": "", "\u200c": "", "\u200d": "", "\ufeff": "",
})
_WS = re.compile(r"\s+")
# The articles write the procedure three ways; patients add more.
_COMPOUNDS = [
    (re.compile(r"\bmicro[\s-]*needl(?:e|es|ing|ling|eing|eling|in)\b"), "microneedling"),
    (re.compile(r"\bmicroneedl(?:e|es|ling|eing|eling|in)\b"), "microneedling"),
    (re.compile(r"\bderma[\s-]*(roller|pen|rolling)\b"), r"derma\1"),
    (re.compile(r"\bpin[\s-]+point\b"), "pinpoint"),
    (re.compile(r"\bplatelet[\s-]*rich[\s-]*plasma\b"), "prp platelet rich plasma"),
    (re.compile(r"\bice[\s-]*pick\b"), "icepick"),
    (re.compile(r"\bbox[\s-]*car\b"), "boxcar"),
    (re.compile(r"\bdown[\s-]+time\b"), "downtime"),
    (re.compile(r"\bsun[\s-]*screen\b"), "sunscreen"),
    (re.compile(r"\bbreak(?:s|ing|in)?[\s-]+out\b"), "breakout"),
    (re.compile(r"\bper[\s-]+cutaneous\b"), "percutaneous"),
    # Text-speak amounts: "48hrs", "2 wks", "30mins" -> the articles' "48 hours" ...
    (re.compile(r"\b(\d+)\s*(?:hrs?|hours?)\b"), r"\1 hours"),
    (re.compile(r"\b(\d+)\s*(?:mins?|minutes?)\b"), r"\1 minutes"),
    (re.compile(r"\b(\d+)\s*(?:wks?|weeks?)\b"), r"\1 weeks"),
    (re.compile(r"\b(\d+)\s*(?:mths?|mos?|months?)\b"), r"\1 months"),
    (re.compile(r"\b1st\b"), "first"),
]
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

STOPWORDS = frozenset("""
a about above after again against all am an and any are aren't as at be because been before per
being below between both but by can can't cannot could couldn't did didn't do does doesn't doing
don't down during each few for from further had hadn't has hasn't have haven't having he he'd
he'll he's her here here's hers herself him himself his how how's i i'd i'll i'm i've if in into
is isn't it it's its itself let's me more most mustn't my myself no nor not of off on once only
or other ought our ours ourselves out over own same shan't she she'd she'll she's should
shouldn't so some such than that that's the their theirs them themselves then there there's
these they they'd they'll they're they've this those through to too under until up very was
wasn't we we'd we'll we're we've were weren't what what's when when's where where's which while
who who's whom why why's with won't would wouldn't you you'd you'll you're you've your yours
yourself yourselves also just get got gonna wanna will really u ur im ive dont doesnt cant
isnt thing things much many lot lots please tell know say said like s
still now actually even ever anyway though tho pls plz ok okay yeah yes hey hi hello thanks thank
gotta lotsa kinda sorta wont whats hows wheres thats theres someone something anything every
getting going go goes went come comes put want way bit quite pretty sure maybe probably basically
literally honestly seriously anti
arent isnt dont doesnt didnt wont cant wasnt werent shouldnt wouldnt couldnt havent hasnt hadnt
youre theyre youve theyve ill id hes shes
""".split())
# Everyday words that still help a search match ("how soon will I see results") but say
# nothing about the topic, so a question is never judged out of scope for using them.
COMMON_WORDS = frozenset("""
normal normally back afterwards afterward instead soon see seen kind kinds away far left place
yesterday today tomorrow usually typically generally exactly right whole use used make makes made
need needs needed feel feels look looks start started long last lasts time times take takes taking took
one ones
happen happens happened happening walk step steps talk talking tell told give gives giving read
reading matter matters decide decides decided seem seems seemed mean means meant show shows showed
finish finished finishing end ends ended sit sits sitting stay stays keep keeps find found try
tried trying think thought wonder wondering worry worried ask asked asking hear heard stuff thing
idea bunch size total site sites route option options choice question questions answer answers
people person someone everybody everyone anybody anyone guy guys friend friends sister brother
mom mum dad mother father wife husband partner girlfriend boyfriend family work job day days week
weeks month months year years hour hours minute minutes morning evening night decent honest odd
clear late early fresh super lazy real true sure big small little huge tiny bad good great best
worst better nice okay fine plus ahead along since until able possible likely unlikely whether
else also mostly pretty kinda sorta totally completely properly ever never always sometimes often
wat wats whats shud cud wud gonna wanna gotta rn b4 u ur r y n nah yep nope lol tbh idk imo btw
piece bigger smaller change changes straight subtle given deciding decide plan plans
""".split())
# Words about the conversation or the sources rather than the topic.
META_WORDS = frozenset("article articles source sources say says said agree agrees disagree "
                       "mention mentions mentioned text author blog context list "
                       "leaflet reader readers summary summarise summarize quote quotes".split())

_stemmer = Stemmer.Stemmer("english")


_SCRIPT = re.compile(r"<(script|style)\b[^>]*>.*?(</\1\s*>|$)", re.I | re.S)
_TAG = re.compile(r"</?[a-z][^>]*>", re.I)


def strip_markup(text: str) -> str:
    """Drop HTML tags and script/style bodies a question may carry (they are not words)."""
    return _TAG.sub(" ", _SCRIPT.sub(" ", text))


def normalize(text: str) -> str:
    """Unicode-normalise, straighten quotes and dashes, lower-case, fold whitespace."""
    text = unicodedata.normalize("NFKC", text).translate(_PUNCT).lower()
    return _WS.sub(" ", text).strip()


def join_compounds(norm: str) -> str:
    """Write multi-word domain terms as one token (``micro needling`` → ``microneedling``)."""
    for pattern, repl in _COMPOUNDS:
        norm = pattern.sub(repl, norm)
    return norm


def question_text(question: str) -> str:
    """A written or not-covered question as it is embedded and trained on (qa/index.py, qa/adapt.py)."""
    return join_compounds(normalize(strip_markup(question)))


def words(text: str) -> list[str]:
    """Normalised surface words, possessives dropped, compounds joined."""
    out = []
    for w in _WORD.findall(join_compounds(normalize(text))):
        if w.endswith("'s"):
            w = w[:-2]
        out.append(w.replace("'", ""))
    return out


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return _stemmer.stemWord(word)


def content_words(text: str) -> list[str]:
    """Surface words that carry meaning (stopwords dropped)."""
    return [w for w in words(text) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]


def keyword_tokens(text: str) -> list[str]:
    """Stemmed content tokens: what the keyword index stores and matches."""
    return [stem(w) for w in content_words(text)]


def damerau_levenshtein(a: str, b: str, limit: int = 3) -> int:
    """Optimal-string-alignment distance, giving up (returning ``limit``) once it exceeds it."""
    if abs(len(a) - len(b)) >= limit:
        return limit
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) >= limit:
            return limit
        prev2, prev = prev, cur
    return min(prev[-1], limit)


# Words seen at least this often in pyspellchecker's English frequency list (subtitles): ~44k
# words, enough to know "scab", "pus", "zits" and "oily" (the model's word list does not),
# while rare entries, where common misspellings hide, stay out.
ENGLISH_MIN_COUNT = 100


@lru_cache(maxsize=1)
def common_english() -> frozenset[str]:
    """Common English words: a real word here is never 'corrected' into a corpus word."""
    from spellchecker import SpellChecker

    counts = SpellChecker(language="en", distance=1).word_frequency.dictionary
    return frozenset(w for w, n in counts.items() if n >= ENGLISH_MIN_COUNT and w.isalpha())


# Chat shorthand that is no English word: read as what it stands for, not as the nearest
# article word ("hrs" is not "has", "wks" not "was", "vit" not "bit", "alot" not "aloe").
CHAT_SHORTHAND = {
    "hrs": "hours", "hr": "hour", "wks": "weeks", "wk": "week", "mins": "minutes", "yrs": "years",
    "yr": "year", "mths": "months", "mnths": "months", "mos": "months", "rly": "really",
    "srsly": "seriously", "hav": "have", "alot": "lot", "vit": "vitamin", "chem": "chemical",
    "tho": "though", "thru": "through", "cuz": "because", "coz": "because", "bc": "because",
    "pls": "please", "plz": "please", "ppl": "people", "abt": "about", "smth": "something",
    "derm": "dermatologist", "derms": "dermatologists", "appt": "appointment", "appts": "appointments",
    "tx": "treatment", "txs": "treatments", "meds": "medicines", "pic": "picture", "pics": "pictures",
}
# Chat fillers that carry no meaning for retrieval (still embedded with the question).
CHAT_FILLERS = frozenset("lol lmao lmfao omg omfg tbh idk imo imho ngl btw fyi jk smh ty thx".split())


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


class SpellCorrector:
    """Maps a misspelt query word to the closest word of the corpus vocabulary.

    Symmetric-delete candidates (one deletion on each side covers insertions,
    deletions, substitutions and transpositions), verified by edit distance.
    Real English words (the embedding model's word list and ``common_english``) are never
    "corrected": ``fever`` is not a typo of ``ever``, ``cost`` of ``most``, nor ``scab`` of
    ``scar``.
    """

    def __init__(self, vocabulary: Iterable[str], dictionary: Iterable[str] = ()):
        self.counts = Counter(w for w in vocabulary if w.isalpha() and len(w) >= 3)
        self.dictionary = frozenset(dictionary)
        self.known_stems = {stem(w) for w in self.counts}
        self._by_delete: dict[str, set[str]] = {}
        for w in self.counts:
            for key in {w} | _deletes(w):
                self._by_delete.setdefault(key, set()).add(w)

    def known(self, word: str) -> bool:
        return word in self.counts

    def is_english(self, word: str) -> bool:
        """A real word (in the dictionary, or an inflection of one): never 'corrected'."""
        if word in self.dictionary:
            return True
        for suffix, repl in (("s", ""), ("es", ""), ("ed", ""), ("ed", "e"), ("d", ""), ("ing", ""),
                             ("ing", "e"), ("ly", ""), ("er", ""), ("ies", "y"), ("ied", "y")):
            if word.endswith(suffix) and len(word) - len(suffix) >= 3 \
                    and word[: -len(suffix)] + repl in self.dictionary:
                return True
        return False

    def correct(self, word: str) -> str | None:
        """The corpus word meant by ``word`` (or, for chat shorthand, the word it stands for), or None
        when it is known or nothing is close."""
        if word in CHAT_SHORTHAND and word not in self.counts:
            return CHAT_SHORTHAND[word]
        if len(word) < 3 or not word.isalpha() or word in self.counts or word in STOPWORDS:
            return None
        if stem(word) in self.known_stems or self.is_english(word):
            return None
        # Short words are only corrected when they are no English word at all ("wrk", "wich").
        max_dist = 1 if len(word) <= 7 else 2
        cands: set[str] = set()
        for key in {word} | _deletes(word):
            cands |= self._by_delete.get(key, set())
        best: tuple[int, bool, int, str] | None = None
        for c in cands:
            d = damerau_levenshtein(word, c, limit=max_dist + 1)
            if d <= max_dist:
                key = (d, c[0] != word[0], -self.counts[c], c)
                if best is None or key < best:
                    best = key
        return best[3] if best else None
