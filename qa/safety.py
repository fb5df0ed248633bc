"""Input validation and urgent-symptom triage: the checks that run before retrieval.

Triage reads the patient's own words for signs that need a clinician now
(infection, allergic reaction, bleeding that will not stop, severe or worsening
pain, eye and vision problems, fainting, chest pain or confusion, skin changing
colour), by pattern and by meaning (``qa/symptoms.py``).
Recall comes first: a described symptom is urgent unless the sentence is plainly a
general question about risks ("can it cause an infection?"), and ordinary words
(bleed, hurt, red, swelling) alone never are.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
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

EYES = "eye or vision problems"
_SYMPTOMS: dict[str, list[str]] = {
    "infection": [
        r"\bpus\b", r"\bpussy\b", r"\booz(e|es|ing)\b", r"\b(yellow|green|cloudy|smelly)\w* "
        r"(discharge|fluid|crust|stuff|gunk|goo)", r"\bdischarge\b", r"\bfever\w*", r"\bchills\b",
        r"\bhigh temp", r"\btemperature of\b", r"\bred(ness)? (is |keeps |has )?(spread|spreading)",
        r"\bspreading (redness|rash|red)", r"\bred (streaks?|lines?|tracks?)\b", r"\bstreaks?\b",
        r"\b(hot|warm|burning) to (the )?touch", r"\b(hot|warm|burning)(,| and) (red|swollen)\b",
        r"\b(red|swollen)(,| and) (hot|warm)\b",
        # Redness or swelling that grows: "red, hot and getting bigger", "the swollen patch is spreading".
        r"\b(red\w*|swell\w*|swollen|hot|warm|patch|area|lump|bump)\b[^.?!]{0,40}\b(getting|got|gotten|"
        r"grow\w*|grown) (bigger|larger|wider)\b"
        r"|\b(spread\w*|expand\w*)\b[^.?!]{0,30}\b(red\w*|swell\w*|swollen|hot|warm)\b"
        r"|\b(red\w*|swell\w*|swollen|hot|warm|crust\w*|sores?|spots|bumps|patch\w*)\b[^.?!]{0,40}"
        r"\b(spread\w*|expand\w*)\b"
        r"|\b(puffy|swollen|red)\b[^.?!]{0,12}\b(and )?"
        r"(?<!bit )(?<!slightly )(?<!little )(?<!mildly )(?<!kinda )(hot|warm)\b"
        r"(?! (water|shower|bath|compress|weather|day|room|towel|flannel|drink|tea))|\bhoney[- ]colou?red\b"
        r"|\b(red\w*|swell\w*|swollen|puff\w*)\b[^.?!]{0,30}\b((doubled|tripled) in size|"
        r"twice as (big|large|wide)|(more|worse|bigger) (each|every|by the) (day|hour)|day by day)",
        # A fever in other words ("i'm burning up"; a face burning up is a sensation); pus in other
        # words ("yellow heads", "a lump full of fluid").
        r"\b(i'?m|im|i am|i feel|feeling|been|i was) burning up\b",
        r"\byellow ?heads?\b", r"\bpustules?\b", r"\bpus[- ]filled\b",
        r"\b(lump|bump|spot|swelling|blister)\b[^.?!]{0,30}\bfull of\b",
        r"\bweep(ing|s|y)\b", r"\bgunk", r"\b(shivery|shivering|shivers|feverish|rigors)\b",
        r"\b(green|greenish|yellow|yellowish)\b[^.?!]{0,40}\b(coming out|oozing|leaking|fluid|discharge)"
        r"|\b(coming out|oozing|leaking)\b[^.?!]{0,40}\b(green|greenish|yellow|yellowish)\b",
        r"\binfected\b",
        # "infection" the noun is a report only when someone has it ("i think i've got an infection",
        # "is this an infection?"); "is infection one of them", "what about infection" ask in general.
        r"\b(have|has|got|getting|develop\w*|caught|is this|is that|it'?s|its|this is|looks like|"
        r"like an?|think|signs? of)( an?| some| a bad| a nasty| an? \w+)? infection\b",
        r"\babscess", r"\bboils?\b", r"\bcellulitis\b", r"\bindurat\w*",
        r"\b(progressive|spreading|expanding|increasing) (erythema|redness|swelling)\b",
        r"\b(temp|temperature|thermometer)\b[^.?!]{0,20}\b(3[89]|4[01]|10[0-4])(\.\d)?\b",
    ],
    "allergic reaction": [
        r"\b(lips?|tongue|throat|mouth|eyelids?)\b[^.?!]{0,30}\b(swell\w*|swollen|puff\w*|tight\w*|"
        r"closing|itch\w*)", r"\bswollen (lips?|tongue|throat|mouth|eyes?|eyelids?)\b",
        r"\bhives\b", r"\bwelts\b", r"\b(trouble|difficulty|hard|hard time|struggling|cant|can't|"
        r"cannot|unable to) (to )?breath", r"\bshort(ness)? of breath", r"\bwheez",
        r"\banaphyla", r"\ballergic reaction\b", r"\bbreathing (is )?(hard|difficult|trouble)",
        r"\b(face|eyes?) (is |are )?swell\w* shut\b", r"\bcatch (my|his|her|their) breath\b",
        r"\b(lips?|tongue|mouth|face|eyelids?)\b[^.?!]{0,30}\b(blow\w* up|blown up|balloon\w*)",
        r"\bwhistl\w*\b[^.?!]{0,30}\bbreath|\bbreath\w*\b[^.?!]{0,30}\bwhistl\w*",
    ],
    "bleeding that will not stop": [
        r"\bbleed\w* [^.?!]{0,20}(won'?t|wont|will not|doesn'?t|does not|didn'?t|did not|hasn'?t|has "
        r"not|isn'?t|is not|not) (stop|stopping|slow)", r"\b(can'?t|cant|cannot|unable to) stop "
        r"(the )?bleed", r"\bkeeps? (on )?bleeding\b", r"\bstill bleed(s|ing)\b",
        r"\bbleeding (a lot|heavily|profusely|badly|everywhere|non ?stop)", r"\bblood everywhere\b",
        r"\b(won'?t|wont|will not|doesn'?t|does not|didn'?t|did not|hasn'?t|has not|isn'?t|not) "
        r"stop(ped)? bleeding",
        r"\bsoak(ed|ing|s)?\b[^.?!]{0,15}\b(through|thru|the)\b", r"\bheavy bleeding\b",
        r"\b(pouring|gushing|streaming|running) (with )?(again|out|blood)\b",
        # Still going after pressing on it, or tissues soaked red: bleeding that is not named.
        r"\b(pressed|pressing|pressure|held|holding)\b[^.?!]{0,40}\b(still|keeps?|won'?t stop|wont stop)\b",
        r"\btissues?\b[^.?!]{0,20}\b(all red|soaked|bloody|full of blood|red through)\b",
    ],
    "severe or worsening pain": [
        r"\b(severe|intense|extreme|unbearable|excruciating|horrible|terrible|agonizing|worst)\w* "
        r"(pain|burning|ache)", r"\bpain\w* [^.?!]{0,25}(getting|gets|got|is getting|keeps getting|"
        r"growing) worse", r"\bworsening pain\b", r"\bpain is (unbearable|severe|excruciating)",
        r"\bthrobbing\b", r"\bunbearabl", r"\bexcruciating\b", r"\bin (absolute |complete )?agony\b",
        r"\b(hurts?|hurting|pain\w*|sore|burn\w*)\b[^.?!]{0,30}\b(so bad|really bad|so much|"
        r"worse|unbearabl\w*|can'?t sleep)", r"\bworse than (yesterday|before|last)",
    ],
    EYES: [
        r"\b(vision|eyesight|sight|visual|acuity)\b", r"\bblurr(y|ed|ing)\b", r"\bdouble vision\b",
        r"\b(curtain|floaters?|flashes of light)\b", r"\bwhat i can see\b",
        r"\b(can'?t|cant|cannot) see\b(?! (much |any |a |the )?(change|difference|improvement|results?|"
        r"progress))",
        # eyes "a bit swollen" the morning after are puffy, not an eye problem
        r"\beye\w* [^.?!]{0,20}(pain|hurt\w*|"
        r"(?<!bit )(?<!slightly )(?<!little )(?<!mildly )(swell\w*|swollen)|red|bleed\w*|burn\w*)",
        r"\bin (my|the) eye\b",
        r"\b(dim|hazy|foggy|cloudy|smudgy|fuzzy|misty)\b[^.?!]{0,30}\beyes?\b"
        r"|\beyes?\b[^.?!]{0,30}\b(dim|hazy|foggy|cloudy|smudgy|fuzzy|misty)\b",
    ],
    "a medical emergency": [
        # "fainted", "I feel faint" — not "a faint bluish mark".
        r"\bchest pain\b", r"(?<!nearly )(?<!almost )\bfaint(ed|ing)\b",
        r"\b(feel|feeling|felt|feels|i'?m|im|was|went|go|going|going to|gonna|about to|might)"
        r"( really| so| a bit| very)? faint\b",
        r"\bpassed out\b",
        r"\bunconscious\b", r"\bseizure", r"\bcollaps(e|ed)\b", r"\bconfusion\b",
        # Confused as a state ("she seems confused"), not puzzled by something ("I got confused
        # by the term", "confused about the aftercare").
        r"\b(feel\w*|felt|seem\w*|look\w*|acting|act|became|becoming|getting|gets|went|is|was|are|were|"
        r"s|hes|shes|he'?s|she'?s|they'?re|theyre|very|more|and|,)\s+"
        r"(a bit |a little |really |very |so |quite |more |and )?confused\b"
        r"(?!\s+(about|by|with|over|as to|why|what|which|how|whether|if|because|on)\b)",
        r"\bdisoriented\b", r"\bslurr\w*", r"\bdroop\w*", r"\btwitch\w*", r"\bconvuls\w*",
        r"\bheart (is |was )?(racing|pounding)\b", r"\bpalpitations?\b",
        r"\b(had|having|has) a fit\b", r"\bshaking all over\b", r"\b(not responding|unresponsive)\b",
        r"\bmuddled\b", r"\b(can'?t|cant|cannot) think (straight|clearly)\b", r"\bjerk(ing|s)\b",
        r"\b(isn'?t|isnt|not|won'?t|wont) (responding|waking)\b|\b(can'?t|cant|cannot) wake\b",
        r"\bblack(ing|ed|s)? out\b",
        r"\bchest\b[^.?!]{0,25}\b(pain|pressure|tight\w*|hurts?|crushing|heavy)\b"
        r"|\b(pain|pressure|tightness|crushing)\b[^.?!]{0,15}\bchest\b",
        r"\bwords?\b[^.?!]{0,20}\b(wrong|jumbled|slurred|garbled)\b",
    ],
    # Skin starved of blood (a blocked vessel) changes colour: dusky, grey, blue or black.
    "skin changing colour": [
        r"\bblister\w*", r"\b(peel\w*|com\w* off|slough\w*)\b[^.?!]{0,20}\bsheets?\b",
        r"\b(going|gone|turning|turned|looks?|looking|gone all)\b[^.?!]{0,20}\b(black|grey|gray|greyish|"
        r"grayish|dusky|bluish|purplish|blue|purple)\b", r"\bmottled\b", r"\b(lacy|net-?like|web-?like)\b",
        r"\b(blue\w*|grey\w*|gray\w*|purpl\w*|black|dusky)\b[^.?!]{0,15}\b(tinge|patch|area|pattern|web|"
        r"blotch|colou?r)",
        r"\b(white|pale)\b[^.?!]{0,30}\bcold\b|\bcold\b[^.?!]{0,30}\b(white|pale)\b",
    ],
}
_COMPILED = {k: [re.compile(p) for p in v] for k, v in _SYMPTOMS.items()}
# A symptom word plus a sign that it persists or is severe ("blood ... keeps going",
# "soreness came back really intense"): each alone is ordinary.
_PERSISTING: list[tuple[str, re.Pattern[str], re.Pattern[str]]] = [
    ("bleeding that will not stop", re.compile(r"\b(blood(?! tests?)\w*|bleed\w*|bled|scabs?|trickl\w*)\b"),
     re.compile(r"\b(keeps? (going(?! back)|coming)|still (coming|going|running|dripping)|"
                r"won'?t (quit|stop|let up)|wont (quit|stop|let up)|"
                r"for (ages|hours|over an hour|more than an hour)|over an hour|"
                r"hours later|(whole|all) (afternoon|morning|evening|night|day)|pressing on it|"
                r"pumping|spurting|gushing|pouring|(been|for) hours|start(s|ed|ing)? (up )?again|"
                r"been like (that|this) since|every time i (lift|take|remove|move))\b")),
    ("severe or worsening pain",
     re.compile(r"\b(pain\w*|sore\w*|hurt\w*|ach(e|es|ing|y)|throbb\w*|burn\w*|sting\w*|smart\w*)\b"),
     re.compile(r"\b(really|so|very|super) intense\b|\bcame back\b[^.?!]{0,30}\b(intense|worse|bad|severe)\b"
                r"|\bcan'?t (even )?(touch|sleep|smile|move|chew|eat|open my mouth)\b|\bwinc(e|ing)\b"
                r"|\bmore and more\b|\b(worse|more|stronger|more intense|more painful)( and \w+)? "
                r"((each|every)( single)? day|by the (day|hour)|day by day)\b"
                r"|\binstead of (settling|getting better|improving|healing|"
                r"calming)")),
]

_HEAT = re.compile(r"\b(hot|warm|warmth|heat|burning)\b")
# The treatment was today: "had it done this afternoon", "my session was a few hours ago".
_SAME_DAY = re.compile(r"\b(had it done|done|treatment|session|appointment|appt|needled|microneedl\w*)\b"
                       r"[^.?!]{0,30}\b(today|this (morning|afternoon|evening)|tonight|earlier today|"
                       r"(a few|few|couple of|couple|\d+) (hours|hrs) ago)\b")
# On the day of the treatment "and now" is simply the present, not a sign returning.
_AND_NOW = re.compile(r"\band now\b")
COLOUR = "skin changing colour"
# How skin looks over time, not a change since the treatment ...
_COSMETIC = re.compile(r"\b(dull\w*|sallow|tired|lately|all the time|complexion|light(s|ing)|fade|pigment\w*|"
                       r"(left )?from (old )?(acne|breakouts?|pimples?|spots)|"
                       r"in (photos|pictures|pics|selfies|the mirror)|for (years|ages|months)|"
                       r"old (breakouts?|scars?|acne|marks?|spots?|pimples?))\b")
# ... unless the message also says it is new or feels wrong.
_ACUTE = re.compile(r"\b(cold|numb|since|today|tonight|yesterday|this (morning|afternoon|evening)|"
                    r"hours? (ago|after|later|since)|"
                    r"after (the|my|his|her) (session|treatment|appointment|appt)|suddenly|turned|turning|"
                    r"going|gone)\b")

# The writer's own words for themself; and who an "if" can be about ("if my lips swell", "if a client
# calls ..."): shared by the readings below.
_ME = r"i|i'?m|im|i'?ve|ive|me|my|mine"
_IF_WHO = (r"i|i'?ve|ive|i'?m|im|i'?d|you|u|it|its|it'?s|my|they|there|someone|somebody|anyone|a person|"
           r"people|(a|the|our) (client|patient|customer)s?|clients|patients")

# Signs that the person is describing what is happening to them now.
_PRESENT = re.compile(
    # "i have sensitive skin" is a trait, not something happening
    r"\b(i have(?! a history)(?! (sensitive|dry|oily|dark|fair|light|olive|combination|normal|acne[- ]prone) "
    r"skin)(?! (a lot of |lots of |many |some |bad |severe |loads of )?allergies)"
    r"(?! (bad|poor|weak|terrible|awful) (eyesight|vision|eyes))|"
    r"i'?ve (got|had|been having|noticed)|ive (got|had|been having|noticed)|"
    r"i'?ve been (feeling|having|getting|\w+y)|"
    r"i got|i'?m having|i am having|i'?m getting|there is|there'?s|it'?s|its|"
    # ("now i'm paranoid" is a state of mind, not a sign)
    r"now(?! (?:i'?m|im|i am) (?:a bit |so |really |kinda |super |just )?(?:paranoid|worried|scared|nervous|"
    r"anxious|terrified|freaked|freaking|curious|wondering|thinking|considering|tempted|hesitant))|"
    r"since|ago|yesterday|today|tonight|last night|this morning|still|keeps? \w+ing|started|"
    r"getting worse|right now|help me|what (do|should) (i|we) do(?! (if|when)\b)|should (i|we) go|"
    # The writer's own skin described as it is: "my face is swollen", "my cheek has yellow stuff",
    # "mine is hot" (a question around it does not make it hypothetical).
    r"(?<!will )(?<!would )(?<!could )my (face|cheeks?|skin|lips?|eyes?|eyelids?|jaw|jawline|chin|forehead|"
    r"nose|neck|throat|tongue|mouth|temples?|whole face|treated \w+) (is|are|has|have|feels?|looks?|went|got|"
    r"turned|keeps?)|mine (is|are|has|looks?|feels?)|"
    # "... if my lips are swelling up": a symptom going on now, even inside a conditional.
    r"(is|are) (swelling|bleeding|oozing|spreading|throbbing|weeping|blistering|closing)|"
    r"(hasn'?t|hasnt|haven'?t|havent|has not|have not) (stopped|gone down|settled|improved|eased|healed))\b"
)
# A question about risks in general, a hypothetical, or prevention: not a description.
_HYPOTHETICAL = re.compile(
    r"^(can|could|does|do|will|would|is it possible|is there|are there|what are|"
    r"what is the risk|what (kind|sort|type)s? of|how (long|do|can|should|to)|what if|(and )?what about|"
    r"what happens|in case|should i worry|is it safe)\b|\bwhen (should|do) i (call|contact|worry|see|go)\b"
    r"|\bwhat would\b|\bwould i\b|\bjust so i know\b|\bis (an?|it|there) [^.?!]{0,30}\bpossible\b"
    r"|\blook like\?|\bwhat does (it|that) mean\b|^(is|are) [^.?!]*\b(common|usual|likely)\?"
    r"|^what (symptoms?|signs?)\b|\bbefore i (do|book|have|get|go|start)\b|\bwhat'?s your (guidance|advice)\b"
    r"|\bconsidered (ab)?normal\b|\bhorror stor(y|ies)\b|\bread(ing)? (a|an|about|online|somewhere)\b"
    r"|\bif (" + _IF_WHO + r")\b"
    r"|\b(risk|chance|likelihood|odds) of\b|\bside effects?\b|\bheard (it|that|about|of)\b"
    r"|^is [^.?!]{0,30}\bsafe\b|\bwhat (should|do|would|can) (i|we|you|u) do (if|when)\b"
    r"|\b(is|will) (this|it|that) (going to|gonna) (be|hurt|feel|sting)\b"
    r"|\b(am i|will i|are we|will we) (going to|gonna) (be|look|come out|bleed|feel|see)\b"
    r"|^how \w+ will (my|it|i|the)\b"
    r"|\b(avoid|prevent|reduce|lower|minimi[sz]e)\b"
    r"|^what (does|do|would|should) [^.?!]{0,30}\blook like\b|\bwhat to (watch|look) (out )?for\b"
    r"|\bwhat'?s the difference\b|\bdifference between\b"
    r"|\bhow (likely|common|often|rare)\b|^(what'?s|whats|what is) the deal with\b"
    r"|^is (it|microneedling|needling|this|that) [^.?!]{0,30}\b(dangerous|risky|bad)\b"
    r"|\bis (it|that|this|any \w+) (always|ever|usually|normally) (a |an )?"
    r"(bad|good|normal|ok|okay|sign|dangerous)\b"
    r"|\b(does|do|did) (that|this|it) (happen|occur)\b"
    r"|^what (do|should|would) (we|i) (tell|say to|advise) (clients|patients|people|them)\b"
    r"|\bat what (temp|temperature|point)\b|\b(hypothetically|theoretically|in theory|worst[- ]case)\b"
    r"|^what (do|does)(?![^.?!]*\b(" + _ME + r")\b)[^.?!]{0,40}\bmean\b[^.?!]*[.?!]*$"
)
# "no fever", "not hot or anything", "doesn't get infected": a symptom said to be absent.
# Negated persistence stays ("will not stop", "not responding", "isn't getting better").
_NEGATED = re.compile(
    r"\b(no|not|never|without|nor|nothing|doesn'?t|don'?t|didn'?t|isn'?t|wasn'?t|aren'?t|haven'?t|hasn'?t)"
    r"(?! (stop|stops|stopped|stopping|slow|slowing|responding|breathing|able|getting|improving|settling|"
    r"going|healing|helps|works|"
    r"letting|clotting|easing|working|waking|better|know|recogni[sz]e|remember|respond)\b"
    r"|( have| got| see)? (any|them|those|that|it|any of (those|that|them|these))"
    r"(?= *([,.!?;]|$|but\b|and\b|just\b)))"
    r"( (a|any|really|even|too|very|that|so|the|get|got|have|had|feel|been|means|at all|red|yellow|green|"
    r"high|bad))?( \w+)"
    r"( (or|and|nor) \w+)?")
# "vision fine", "breathing is ok": a symptom said to be absent the other way round.
_FINE = re.compile(r"\b(vision|eyesight|sight|eyes?|breathing|throat|lips?|tongue|temp|temperature|"
                   r"pain|bleeding)( (is|are|was|were|seems?|feels?|looks?|all))?"
                   r"( (totally|completely|perfectly|absolutely|totes|100%))? (fine|ok|okay|normal|"
                   r"good|perfect|unaffected|clear)\b")
# How scars look, by comparison: "kinda like little streaks", "like craters".
_SIMILE = re.compile(r"\b(kinda |kind of |sort of |almost |a bit )?like "
                     r"((?!(red|green|yellow|purple|black|blue|grey|gray)\b)\w+ ){0,2}"
                     r"(streaks?|lines|scratch\w*|craters?|holes|dents|tracks|pits|stripes)\b")
# A wh-question that names nobody ("what leaves a mark after a bad breakout?"): about skin in
# general, so only the patterns read it, never the meaning.
_IMPERSONAL = re.compile(r"^(what|why|how|which|where|when|who)\b")
_MORE_SENTENCES = re.compile(r"[.!?]\s+\S")
_PERSONAL = re.compile(r"\b(" + _ME + r"|i'?d|we|us|our|he|she|his|her|him|they|them|their|you|u|ur|your)\b")
# Background told in passing ("had filler there last month too") does not end the story.
_ASIDE = re.compile(r"\b(too|also|as well)\b")
# Signs that a symptom is over, long past, or someone else's.
_RESOLVED = re.compile(
    # "i don't have any" of the signs just named
    r"\bi (don'?t|dont|do not|haven'?t|havent|have not) (have|got|see)( any| them| those| that| it| any of "
    r"(those|that|them|these))(?= *([,.!?;]|$|but\b|and\b|just\b))|\bnone of (those|that|them|these)\b|"
    r"\b(all )?(cleared|cleared up|fine|better|settled|healed|resolved|going down)\b[^.?!,]{0,12}"
    r"\b(now|up|since|already)\b"
    r"|\b(it|it'?s|its|they|that|the \w+) (has |had |must have |must've )?"
    r"(stopped|settled|went down|cleared)\b"
    r"|\b(nearly|almost|all|long|it'?s|its|that'?s|thats|has|have|had|is|are|was|were)"
    r"( completely| totally| fully)? gone\b"
    r"(?=\s*(now|away|already|by|but|and|just|$|[,.!]))"
    r"|\b(calming|settling|easing|going|gone|cooled( right)?) down\b"
    r"(?! (my|the|to|towards|into|his|her|their))"
    r"|(?<!not )(?<!n't )(?<!nt )\b(fading|easing off|settling|improving|getting better|recovered|went away|"
    r"cleared up)\b"
    r"|\bsorted (itself|themselves) out\b|\b(was|got|been) sorted\b|\b(it|they) (go|goes|went) away\b"
    r"|\bless than (yesterday|before)\b|\b(barely|hardly) (noticeable|there|visible)\b"
    r"|\b\d+ ?% (gone|better)\b"
    r"|\bstopped (straight away|quickly|on (its|it'?s) own|by itself|after a|in a few|within|as soon as)\b"
    r"|\b(she'?s|he'?s|i'?m|im|they'?re) (fine|ok|okay|better) now\b")
_PAST = re.compile(r"\b(\w+ )?(years?|yrs?|months?|mths?) ago\b|\b(ages|long) ago\b|\bhistory of\b"
                   r"|\bbefore \d+ (months?|years?)\b|\bused to\b|\bin ages\b|\blast (year|month)\b"
                   r"|\bas a (kid|child|teen\w*)\b|\bback in\b|\b(in|was|like|around) (19|20)\d\d\b"
                   r"|\blast time\b"
                   # "a piercing got infected once": one time, in the past
                   r"|\b(got|was|were|had|went|did|happened)\b[^.?!,]{0,30}\bonce\s*([.!?,]|$)"
                   r"|\bwhen i was (a |younger|little|\d+)"
                   r"|\bin (jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)\w*\b"
                   # there for years and unchanged: how a scar is, not something happening
                   r"|\b(been (there|like (that|this)|that way)|had (it|them|this|that|these)) (for )?"
                   r"(\d+|a few|few|many|several|a couple of|couple of) (years?|yrs?)\b|\bnever chang\w*")
_OTHER_PERSON = re.compile(r"\bmy (friend|cousin|sister|brother|mum|mom|mother|dad|father|partner|wife|"
                           r"husband|boyfriend|girlfriend|aunt|uncle|colleague|daughter|son|mate|flatmate|"
                           r"housemate|roommate|bestie|bff|gran|nan|grandma|grandad|niece|nephew)\b"
                           r"|\b(a friend|a mate)\b"
                           # someone met or seen online: "saw a tiktok of a girl whose face ...",
                           # "a girl at my work said ..."
                           r"|\b(a|this|some|one) (girl|guy|lad|bloke|woman|man|lady|person|client|patient|"
                           r"coworker|colleague)"
                           r"('?s| whose| who| at| from| i know| on)\b"
                           r"|\b(tiktok|youtube|instagram|reddit|forum|video|reel)s?\b")
_FIRST_PERSON = re.compile(r"\b(" + _ME + r")\b")
# "just" as in "just had it done", not "just for views" or "just bad luck".
_NOW = re.compile(r"\b(now|today|tonight|right now|"
                  r"just (now|\w+ed|had|got|did|done|came|went|woke|took|left|began|saw|felt|ate|put|been)|"
                  r"currently|at the moment|this (morning|afternoon|evening)|since|still|can'?t|cant|"
                  r"(won'?t|wont)(?! happen)|there'?s|there (is|are)|(he|she|they) (is|are)|"
                  r"what (do|should) (i|we) do|help (me|us|him|her)|please help|"
                  r"(is|are|isn'?t|isnt|aren'?t|he'?s|hes|it'?s|its|"
                  r"she'?s|shes|they'?re|theyre|keeps?) (not )?\w+ing)\b")
# ... unless the message also says it is still going on.
_ONGOING = re.compile(r"\b(still (bleeding|hurts?|hurting|swollen|red|hot|oozing|weeping|going|"
                      r"getting|spreading|coming)|keeps? (getting|going|spreading|coming)|getting worse|"
                      r"won'?t (stop|quit|let up)|wont (stop|quit|let up)|right now|worse (now|today)|"
                      r"more and more|instead|rather than better|\w+ing again|"
                      r"(become|becoming|got|gotten|is|are|getting|grown|growing) (\w+ )?worse|"
                      r"c[ao]me back|coming back|returned|flared|start(s|ed|ing)? (up )?again|stop start|"
                      r"(went|gone|got|turned|going|getting) (bad|worse|red|redder|swollen|hot) again|"
                      r"(but|and) (now|today|tonight)(?! (it'?s|its|i'?m|im) (fine|ok|okay|better|gone)))\b")
# The start of a conditional clause ("if my lips swell"): what it describes is not happening.
_CONDITIONAL = re.compile(r"\bif (" + _IF_WHO + r") \w+")
# When a question is about, said before it ("after my session are there any meds ...?").
_LEAD = re.compile(r"^(after|before|following|post|once|during|the day after|the night before) [^,?.!]{0,30}?"
                   r",? (?=(can|could|does|do|will|would|is|are|should|what|how|when)\b)")
# A conditional about someone else is hypothetical as a whole: "if a client calls saying their lips
# are swelling, ..." describes no one now.
_IF_SOMEONE = re.compile(r"\bif (a|the|my|our|one of (my|our)) (client|patient|customer|person)s?\b[^.?!,]*"
                         r"|\bif (someone|somebody|anyone|people|clients|patients)\b[^.?!,]*")
# "what do i do" asked after a conditional ("if my lips swell after, what do i do?") asks about
# the hypothetical, not about now.
_IF_THEN = re.compile(r"(\bif\b[^.?!,]{0,40}), (then )?what (do|should|would) (i|we) do\b")
# "can i still get microneedling" asks about booking; its "still" says nothing is going on.
_STILL_ASKING = re.compile(r"\b(can|could|should|would|will|do) (i|we|you|u) still\b")
# Asking how serious something is names no sign: "darker patches a week on, is this an
# emergency?" reads by its patches, not by the word emergency.
_HOW_SERIOUS = re.compile(
    r"[,;:-]?\s*\b(?:(?:is|could|would|might) (?:this|that|it) (?:be )?(?:an? )?"
    r"(?:emergency|serious|urgent|dangerous|something (?:serious|to worry about))"
    r"|should i (?:be )?(?:worried|concerned|panicking|panic))\b")
# Where a resolution word reports nothing: "is that the filler settling?" asks (only the
# question's own last part: "all fine now, can i book?" still says it is fine), and
# "instead of settling" or "thought it should be getting better" says the opposite.
_NOT_A_REPORT = re.compile(r"[^.?!,]*\?|\b(instead of|rather than|(meant|supposed) to be|should be|"
                           r"thought it (would|should|was going to)( be)?)( \w+){1,3}"
                           # a question without its question mark: "is that the filler settling"
                           r"|(?:^|(?<=[.!?,]) )(is|are|could|would|will|can|does|do) (that|this|it|they)\b"
                           r"[^.?!]*")


@dataclass(frozen=True)
class Triage:
    """The result of reading a message for urgent symptoms."""

    urgent: bool
    concerns: tuple[str, ...] = ()


def _named(text: str) -> tuple[str, ...]:
    """The concerns whose patterns ``text`` matches."""
    return tuple(k for k, pats in _COMPILED.items() if any(p.search(text) for p in pats))


# How the writer always reacts, not what is happening: "I faint at blood tests", "i go woozy at the
# sight of blood"; and "at the sight of", which is never about eyesight.
_TRAIT = re.compile(
    r"\bi (?:always |usually |normally |tend to |sometimes )?(?:faint|pass out|keel over|"
    r"(?:get|go) (?:a bit |really |super |all )?(?:woozy|dizzy|faint|lightheaded|queasy|pale|white))"
    r" (?:at|around|with|whenever i see|when i see) (?:the )?(?:sight of )?(?:any )?"
    r"(?:blood|needles?|injections?|jabs?|vaccines?|shots?)(?: tests?| draws?)?\b"
    r"|\bat the (?:sight|thought) of\b")


def reading_text(text: str) -> str:
    """The text triage reads: normalised, with symptoms said to be absent, comparisons
    ("scars like little streaks") and the writer's usual reactions ("I faint at blood tests")
    removed."""
    text = _TRAIT.sub(" ", _SIMILE.sub(" ", _FINE.sub(" ", _NEGATED.sub(" ", normalize(text)))))
    # What a removed opening leaves ("i faint at blood tests, will i ...") starts at the question.
    return text.lstrip(" ,;:-")


@dataclass(frozen=True)
class Reading:
    """A message as triage reads it before any reading by meaning."""

    concerns: tuple[str, ...]  # found by pattern
    live: str  # the text left to read by meaning, without "is this serious?" ("" when there is none)


def read(text: str) -> Reading:
    """Triage's pattern reading of a message, and the live text a meaning reading would take.

    A general question or a finished story needs no reading by meaning, whatever it
    describes (``live`` is then empty); nor does a message whose patterns already found a
    concern, nor a one-sentence wh-question that names nobody and says nothing of now.
    """
    norm = reading_text(text)
    bare = _LEAD.sub("", norm)
    asked = _STILL_ASKING.sub(" ", _CONDITIONAL.sub("if", _IF_THEN.sub(r"\1", _IF_SOMEONE.sub("if", norm))))
    if (_HYPOTHETICAL.search(norm) or (bare != norm and _HYPOTHETICAL.search(bare))) \
            and not _PRESENT.search(asked):
        return Reading((), "")
    live = live_text(norm)
    if not live.strip():
        return Reading((), "")
    concerns = _named(live)
    concerns += tuple(k for k, topic, sign in _PERSISTING
                      if k not in concerns and topic.search(live) and sign.search(live))
    if "infection" in concerns and _SAME_DAY.search(live) and not _ONGOING.search(_AND_NOW.sub(" ", live)) \
            and not any(p.search(_HEAT.sub("x", live)) for p in _COMPILED["infection"]):
        # Warmth on the day of the treatment is expected; heat counts from the next day on, or
        # with any other sign (pus, spreading, fever ...).
        concerns = tuple(c for c in concerns if c != "infection")
    if COLOUR in concerns and _COSMETIC.search(live) and not _ACUTE.search(live):
        # "skin looks dull and grey lately", "scars look like black holes in photos": how the skin
        # looks, not a colour change since the treatment; the meaning reading still gets a say.
        concerns = tuple(c for c in concerns if c != COLOUR)
    if concerns or (_IMPERSONAL.search(live) and not _PERSONAL.search(live)
                    and not _MORE_SENTENCES.search(live) and not _NOW.search(live)):
        return Reading(concerns, "")
    return Reading(concerns, _HOW_SERIOUS.sub("", live).strip())


_EYE_COSMETIC = re.compile(r"\b(crow'?s feet|fine lines|lines|wrinkles?|creases?|dark circles|bags|hollows|"
                           r"crinkles) (round|around|under|near|by|beside|at the corners? of) "
                           r"(my |the |her |his )?eyes?\b")
_EYE_SIGN = re.compile(r"\b(vision|see|seeing|sight|blur\w*|blind|double|swell\w*|swollen|pain\w*|hurt\w*|"
                       r"bloodshot|watery|water\w*|sting\w*|burn\w*|itch\w*|shut|close[ds]?|light)\b")


def triage(text: str, symptoms: Callable[[str], tuple[str, ...]] | None = None,
           reading: Reading | None = None) -> Triage:
    """Flag a message that describes symptoms needing a clinician now.

    Symptoms are found by pattern, then by ``symptoms`` (the concerns a normalised
    message describes by meaning: ``SymptomModel.concerns``) for wordings no pattern
    lists. A symptom counts unless the message is plainly a general or hypothetical
    question ("can it cause an infection?", "what if I get a fever?") with no sign that
    it is happening now, or the symptom is over, long past or someone else's story
    (``live_text``). ``reading`` is ``read(text)`` when the caller has it already.
    """
    r = reading or read(text)
    concerns = r.concerns
    if not concerns and r.live and symptoms is not None:
        concerns = symptoms(r.live)
        if EYES in concerns and _EYE_COSMETIC.search(r.live) and not _EYE_SIGN.search(r.live):
            # "fine lines round my eyes" is how the skin there looks: the meaning reading hears eyes.
            concerns = tuple(c for c in concerns if c != EYES)
    return Triage(bool(concerns), concerns)


# Where a message can turn from what is over to what is happening now: sentence ends and
# contrasts ("the redness is going down but my lips are swelling").
_CLAUSE = re.compile(r"(?<=[.!?;])\s+|\n+|[,;]?\s+(?=(?:but|however|although|though|and now|"
                     r"and then|then|except|apart from|only now)\b)")


def _over(clause: str) -> bool:
    """A clause saying its symptoms are over ("it stopped", "all cleared up") or long past
    ("years ago"), unless it also says they go on; within it, the latest word wins ("had
    settled, then came back" goes on, "came back but stopped straight away" is over)."""
    ongoing = [m.end() for m in _ONGOING.finditer(clause)]
    said = _NOT_A_REPORT.sub(lambda m: " " * len(m.group(0)), clause)
    resolved = [m.start() for m in _RESOLVED.finditer(said)]
    if resolved and (not ongoing or max(resolved) > max(ongoing)):
        return True
    return not ongoing and _PAST.search(clause) is not None and not (
        _ASIDE.search(clause) and not _named(clause))


def live_text(norm: str) -> str:
    """The part of a normalised message that may describe what is happening now.

    A clause that says its symptoms are over or long past ends the story told before
    it, so only what follows the last such clause is read ("bled a lot, stopped now" →
    nothing; "the swelling settled. now my throat feels tight" → the throat). A later
    clause saying something came back or goes on ("then it started again") keeps the
    whole message. Someone else's story with no sign of now is not read at all.
    """
    clauses = [c for c in _CLAUSE.split(norm) if c.strip()]
    if _OTHER_PERSON.search(norm) and not _NOW.search(norm):
        # ... though the writer may go on about themselves ("she's fine. i had it yesterday
        # and my vision is blurry").
        clauses = [c for c in clauses if not _OTHER_PERSON.search(c) and _FIRST_PERSON.search(c)]
        norm = " ".join(clauses)
    last_over = max((i for i, c in enumerate(clauses) if _over(c)), default=None)
    if last_over is None:
        return norm
    after = clauses[last_over + 1:]
    if any(_ONGOING.search(c) for c in after):
        return norm
    return " ".join(after)


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
