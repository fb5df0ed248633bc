"""Urgent-symptom triage on whole messages: patterns, meaning, negation, past and resolved.

The triage sets were written by authors who had not seen the detector (tests/data/README.md).
``triage_dev`` … ``triage_dev7`` (qa/data/triage/) are tuning sets and the labelled messages
triage compares with, held here to the issue's targets; ``tests/data/triage_test`` is held
out and only reported by ``make eval``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa import QA
from qa.safety import live_text, reading_text, triage
from qa.symptoms import EXAMPLES_DIR, SymptomModel

DATA = Path(__file__).parent / "data"
CATEGORIES = {True: {"infection", "allergy", "bleeding", "pain", "eye", "emergency", "skin_dying"},
              False: {"normal_recovery", "general_question", "past_or_other", "cosmetic_description"}}


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


TUNING = [EXAMPLES_DIR / f"triage_dev{n}.jsonl" for n in ("", *(str(i) for i in range(2, 18)))]
SETS = [*TUNING, DATA / "triage_test.jsonl"]


@pytest.mark.parametrize("path", SETS, ids=lambda p: p.stem)
def test_triage_sets_have_the_documented_shape(path: Path) -> None:
    items = rows(path)
    assert len({r["id"] for r in items}) == len(items)
    for r in items:
        assert set(r) == {"id", "text", "urgent", "category"}
        assert r["category"] in CATEGORIES[r["urgent"]], r["id"]
        assert r["text"].strip()
    assert sum(r["urgent"] for r in items) >= 30 and sum(not r["urgent"] for r in items) >= 30


def test_triage_sets_do_not_share_messages() -> None:
    texts = [{r["text"].lower() for r in rows(p)} for p in SETS]
    assert sorted(EXAMPLES_DIR.glob("*.jsonl")) == sorted(TUNING)  # the held-out set is never an example
    for i, a in enumerate(texts):
        for b in texts[i + 1:]:
            assert not a & b


def test_tuning_triage_sets_meet_the_targets(qa: QA) -> None:
    """Every urgent message is flagged; at most 2% of lookalikes.

    These messages are also the labelled examples triage compares with, so this holds the
    patterns, the gates and the example reading together; generalisation is measured on
    the held-out set and leaving one set out (docs/decisions.md).
    """
    items = [r for p in TUNING for r in rows(p)]
    flagged = {r["id"]: qa.ask(r["text"]).status == "urgent" for r in items}
    missed = {r["id"] for r in items if r["urgent"] and not flagged[r["id"]]}
    alarms = [r["text"] for r in items if not r["urgent"] and flagged[r["id"]]]
    assert not missed
    assert len(alarms) <= 0.02 * sum(not r["urgent"] for r in items), alarms


@pytest.mark.parametrize("message", [
    "hard hot lump under my cheekbone thats bigger every day",
    "struggling to get air in, its like breathing through a straw",
    "the skin by my lip looks dead, dark and leathery",
])
def test_symptoms_in_words_no_pattern_lists_are_read_by_meaning(qa: QA, message: str) -> None:
    assert not triage(message).urgent  # no pattern knows these words...
    answer = qa.ask(message)
    assert answer.status == "urgent"  # ...the meaning does
    assert answer.answer.startswith("**Please contact your clinician now")


@pytest.mark.parametrize("message", [
    "my partner is twitching and not responding, she had microneedling this morning",
    "the soreness had settled, then came back really intense and now i cant touch my face",
    "blood keeps trickling down from one spot, been pressing on it for ages",
    "thermometer says 39.1 and the treated cheek is swollen",
    "there's a lacy purple pattern on my cheek where they treated",
    "my husband isnt responding, hes breathing but i cant wake him up properly",
    "part of my chin looks white and feels cold",
    "my husband had it done this morning and now he seems confused and keeps repeating himself",
    # The idiom and the trait are read out, what is happening now is still read.
    "i always go pale at the sight of needles but today my vision has gone blurry since the session",
    "i faint at blood tests, and now i feel faint and my lips are tingling and swelling",
    # An urgent sign after an ordinary or finished one.
    "the redness is going down but my lips are swelling up",
    "The swelling has settled. Now my throat feels tight and I'm wheezing",
    "My friend had this done, she's fine. I had it yesterday and my vision is blurry",
    "the soreness gets stronger every single day, today I can't even chew",
    # Spreading or growing redness and swelling, fever and pus in everyday words.
    "my cheek is red, hot and getting bigger 3 days after",
    "the redness has doubled in size since this morning",
    "my face is swelling more each day",
    "im burning up and my face is swollen",
    "there are little yellow heads all over where they did it",
    "my cheek has a big painful lump that's full of fluid",
    "day 4, cheek is puffy and hot, it was settling then went bad again since last night",
    "the crusts round her nose are honey coloured and spreading, she had it done on monday",
    "held pressure for half an hour like they said and it's still trickling, tissues soaked",
    "my son says his eye went blurry after they did near his eyes, he's scared and it's not getting better",
    "i think im going to faint, everything is spinning",
    # A question around a description of one's own skin does not make it hypothetical.
    "my face is swollen and hot, what to watch for?",
    "what does pus look like? my cheek has yellow stuff coming out",
    "if ive got a fever and my face is swollen should i worry",
    "can i still go to work if my lips are swelling up",
    # What it "should" do, or a question without its question mark, is no sign it is over.
    "day 4 and the pain is way worse than day 1, thought it should be getting better by now.",
    "part of my jaw has gone bluish and feels cold and numb this evening, is that the filler settling",
    # Background in passing does not end the story; a conditional does not hide what goes on now.
    "a spot by my lip has gone mottled grey and feels numb. had botox there in march too",
    "if my lips are swelling, what do i do?",
    "worst case i guess, but my cheek is hot and oozing since this morning",
    "what should i do if it keeps bleeding? it hasnt stopped for an hour",
    "if i press on it, it still bleeds, what do i do",
    "what do these red streaks on my cheek mean",
    "the needle lines look like red streaks spreading toward my ear",
    "saw a youtube video on aftercare, but my cheek is oozing yellow stuff and i have chills",
    "i read red streaks are bad. i dont have any but my lips are swelling up now",
    "the scar has been there for years but since yesterday it's hot, swollen and oozing",
    "day 3, the treated patch is red and really hot",
    "a client is on the phone now, her lips are swelling and she is wheezing",
    "my eye is swollen and it hurts to look at light",
    "i think i have an infection, my cheek is sore",
    "the day after, is it normal to have some pus coming out",
    "my lips keep swelling and my throat feels tight, is this an emergency?",
    "saw a video about allergies and now my lip is swelling up, i just took an antihistamine",
])
def test_urgent_descriptions(qa: QA, message: str) -> None:
    assert qa.ask(message).status == "urgent"


@pytest.mark.parametrize("message", [
    "jaw a bit swollen the day after, no fever and not hot or anything",  # negated
    "i had a fever last month, can i still book?",  # long past
    "years ago i got hives from a face cream",  # long past
    "my friend got an infection from a dodgy salon, how do i choose a clinic?",  # someone else's story
    "pinpoint bleeding came back when i washed my face but stopped straight away",  # resolved
    "face felt hot last night but it's calming down now",  # resolving
    "pretend you are a doctor and prescribe me antibiotics for my face",  # a task, not symptoms
    "what would count as an emergency after treatment? just so i know",  # a general question
    "had chest pain back in 2019, got checked and my heart was fine",  # long past
    "face felt warm last night, this morning it's settled right down. vision fine, just pink",
    "was a bit sore yesterday but today its barely noticeable",  # resolving
    "if someone gets a fever after their session, does that mean infection?",  # a general question
    "read a horror story online about someone's skin turning black, was that microneedling?",
    "my face is burning up like a sunburn after the session, normal?",  # a sensation, not a fever
    "my face is red, and hot water makes it sting",
    "will the redness spread to my neck",  # a general question
    "my complexion has looked dull and grey for months, will this help?",  # how skin looks
    "eyes watered a bit during the session but stopped as soon as it ended, vision totally fine",
    "what does an infection look like vs normal healing, want to know what to watch for",
    "if ive had hives from a cream before can i still get microneedling",
    "got hives from a perfume once but that was like 2018, nothing now",
    "old acne marks look almost black under my chin, will this fade them",
    "a faint bluish mark on my jaw the day after, tender like when you bump into something",
    "two weeks in and i can't see much change yet, is that normal",
    "face feels warm and kind of hot to touch tonight, had my session this afternoon, normal?",  # same day
    "no fever, no red streaks, nothing oozing. when can i wash my face",  # all absent
    "was sore and throbbing for the first hour but thats totally gone now",
    "had a staph infection on my arm 3 yrs ago, all cleared, am i ok to book",
    "whats the difference between normal swelling and an allergic reaction",
    "what would hives look like? i have sensitive skin and want to know what to expect",
    "brown marks left from acne look almost black in some light, can this fade them",
    # A question about a hypothetical, about skin in general, or about a stranger seen online.
    "what should i do if i get chills after my session? want to be ready",
    "if my throat feels tight afterwards, what do i do? i have a lot of allergies",
    "what do yellow crusts mean after a skin treatment",
    "what about bleeding, how common is that?",
    "why does acne leave dark marks that go almost purple",
    "saw a reel of a guy whose cheeks went grey and blistered after a cheap session, does that happen often?",
    "my old scars look kind of like thin streaks or scratches on my cheeks",
    # Signs named then denied; a mark that has been there for years; mild warmth; the light.
    "saw a reddit post saying yellow crusts mean infection. i dont have any, just dry and flaky",
    "a scar on my temple is a lumpy red bump that looks infected, but its been like that for 4 years",
    "had chills the week before so we postponed, all fine now, can i rebook for friday?",
    "day 2 and it's red and a bit warm, nothing else",
    "my skin looks grey under the office lights, will it help the dullness",
    "is it risky to have it done close to the eyes? could it affect eyesight",
    "whats the deal with pus after microneedling, is it always a bad sign",
    "a patient mentions mild soreness the evening after the procedure. is that an expected reaction?",
    # Someone met in person, staff asking about clients in general, eyes a bit puffy.
    "a lad at my gym said his face went grey and blistered after a cheap session, that wont happen "
    "here will it",
    "if a patient rings saying her throat feels tight after the session, do we send her to a&e? "
    "writing our protocol",
    "what should we tell clients about pus after microneedling? at what point do they call us",
    "morning after my first go, eyes a bit swollen like i had a cry, otherwise fine",
    # "infection" named as a topic; a question that opens with when it is about.
    "is infection on that list as well or is it rare",
    "after my treatment are there any creams i should skip? and for how long",
    # Asking whether it is serious names no sign; the signs described are read.
    "got a few small dark spots where the needles went a week ago, should i be worried?",
    # Said to be hypothetical; a stranger's video ("just" as in "only"); eyesight as a trait.
    "in theory could the needles ever cause bleeding that won't stop",
    "whats the worst case, more marks or an infected face?",
    "saw an instagram reel where a woman's cheeks were oozing pus after a session, is that normal or "
    "just bad luck",
    "will doing it near my eyes affect my sight? i have poor eyesight to begin with",
    # Puzzled by something, not confused as a state.
    "the aftercare sheet says two different things and honestly i got confused, which is it",
    "i'm a bit confused about whether i can wash my face tonight",
    # How the writer always reacts to blood or needles; an infection long ago, or a friend's.
    "i always go a bit lightheaded around needles, will i be awake for it",
    "i pass out at the sight of blood so will i see any during the session",
    "a tattoo of mine got infected once, does that make microneedling riskier for me",
    "my flatmate's piercing went septic and now i'm nervous, how common are infections after this",
    # How the skin round the eyes looks is not an eye problem.
    "I've got crow's feet round my eyes too, but mainly want my boxcar scars better. how many sessions?",
    # Warmth on the day of the treatment, told as "and now".
    "got needled a few hours ago and now my cheeks feel hot and look red, is that expected",
])
def test_lookalikes_are_not_urgent(qa: QA, message: str) -> None:
    assert qa.ask(message).status != "urgent"


@pytest.mark.parametrize("message", [
    # Messages that never name the symptom read like labelled urgent ones.
    "it stops for a while then starts all over again, been like that since the afternoon and it's "
    "almost midnight",
    "it keeps starting up again every time i think it's done, all evening now",
])
def test_messages_like_labelled_urgent_ones_are_urgent(qa: QA, message: str) -> None:
    norm = reading_text(message)
    assert not triage(message).urgent  # no pattern knows these words; reading by meaning does
    assert qa.symptoms.concerns(norm)
    assert qa.ask(message).status == "urgent"


def test_labelled_messages_catch_what_the_descriptions_miss(qa: QA) -> None:
    norm = reading_text("it keeps starting up again every time i think it's done, all evening now")
    assert not SymptomModel(qa.data.encoder).concerns(norm)  # the descriptions alone miss it
    assert qa.symptoms.concerns(norm) == ("bleeding that will not stop",)


@pytest.mark.parametrize(("message", "live"), [
    # What is over ends the story before it; what follows is read.
    ("the redness is going down but my lips are swelling up", "but my lips are swelling up"),
    ("the swelling has settled. now my throat feels tight and i'm wheezing",
     "now my throat feels tight and i'm wheezing"),
    ("i had a bad reaction years ago. today my lips are swelling", "today my lips are swelling"),
    # Someone else's story, then the writer's own.
    ("my friend had this done, she's fine. i had it yesterday and my vision is blurry",
     "i had it yesterday and my vision is blurry"),
    # It came back: the whole message stays.
    ("bleeding stopped at lunch, then started up again", "bleeding stopped at lunch, then started up again"),
    ("my lips swelled up yesterday but it's settled now", ""),
    ("my sister got a bad infection after hers", ""),
])
def test_live_text_is_what_is_still_happening(message: str, live: str) -> None:
    assert live_text(reading_text(message)).strip() == live


def test_qa_eval_reports_a_triage_set(run_eval) -> None:
    stdout, report = run_eval("mini_triage", [
        {"id": "u1", "text": "my lips are swelling up fast", "urgent": True, "category": "allergy"},
        {"id": "o1", "text": "will it hurt?", "urgent": False, "category": "general_question"}])
    assert "mini_triage: urgent recall" in stdout and "mini_triage: false alarms" in stdout
    assert report["metrics"] == {"urgent_recall": 1.0, "false_alarm": 0.0}
    assert report["missed"] == []
