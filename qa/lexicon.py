"""Everyday words patients use, mapped to the words the articles use.

Keyed by keyword stem (see ``textnorm.keyword_tokens``); the values are added to
the keyword query with a lower weight. This is vocabulary, not answers: each
entry says that a lay word and an article word name the same thing.
"""

from __future__ import annotations

_GROUPS: list[tuple[list[str], list[str]]] = [
    (["hurt", "hurts", "painful", "pain", "sore", "ouch", "ache", "sting", "agony", "agonising",
      "agonizing", "excruciating", "unbearable"],
     ["pain", "discomfort", "numbing", "sore", "tolerated", "sensations", "pinpricks"]),
    # "cost"/"price" are deliberately absent: the articles give no prices, only a comparison.
    (["expensive", "cheap", "cheaper", "affordable", "pricier", "pricey", "wallet", "budget"],
     ["expensive"]),
    (["treatments", "visits", "appointments", "rounds", "times", "goes"], ["sessions"]),
    (["often", "frequently", "frequency", "apart", "interval", "between", "wait", "gap"],
     ["interval", "apart", "weeks", "months", "between"]),
    (["heal", "healing", "recover", "recovery", "downtime", "off"],
     ["recovery", "downtime", "resume", "healing"]),
    (["sun", "sunlight", "sunbathe", "tan", "tanning", "beach", "outside", "outdoors"],
     ["sun", "sunscreen", "spf", "exposure", "uv"]),
    (["red", "redness", "pink", "flushed"], ["redness"]),
    (["bleed", "bleeding", "blood"], ["bleeding", "pinpoint"]),
    (["deep", "deeper", "depth", "long", "length", "mm", "millimeter", "millimetre"],
     ["depth", "depths", "mm", "deeper"]),
    (["dark", "black", "brown", "ethnic", "ethnicity", "colour", "color", "asian", "olive", "pale",
      "fair", "freckles", "freckly", "white", "tanned"],
     ["complexions", "tones", "types", "ethnicity", "dark", "fair"]),
    (["numb", "numbing", "anesthetic", "anaesthetic", "anesthesia", "lidocaine"],
     ["numbing", "anesthetic", "cream"]),
    (["home", "diy", "myself", "yourself", "kit", "kits"], ["do-it-yourself", "home", "kits"]),
    (["risk", "risks", "danger", "dangerous", "safe", "safety", "complication", "complications",
      "bad", "wrong", "harm", "harmful", "wreck", "ruin"],
     ["risks", "side", "effects", "safe", "complications"]),
    (["result", "results", "improve", "improvement", "difference", "effective", "work", "works"],
     ["results", "improvement", "effective"]),
    (["keloid", "keloids", "hypertrophic", "raised"], ["keloid", "hypertrophic"]),
    (["worse", "worsen", "worsens", "aggravate", "exacerbate"], ["worsen", "excessive"]),
    (["candidate", "suitable", "eligible", "qualify", "shouldn't", "avoid", "can't", "cannot",
      "contraindication", "contraindications", "contraindicated"],
     ["candidates", "suitable", "avoid"]),
    (["laser", "lasers", "fraxel"], ["laser", "lasers", "resurfacing"]),
    (["peel", "peels"], ["chemical", "peels"]),
    (["breakout", "breakouts", "pimple", "pimples", "zit", "zits", "spots", "active"],
     ["active", "acne", "breakouts", "lesions"]),
    (["swollen", "swelling", "puffy", "puff"], ["swelling"]),
    (["tear", "tears", "hole", "holes", "puncture", "punctures", "poke", "pokes", "prick", "pricks",
      "wound", "wounds", "injure", "injury", "injuries", "damage"],
     ["punctures", "injuries", "wounds", "damage", "channels", "perforations"]),
    (["raw", "tender", "stinging", "burning", "sunburn", "sunburned"],
     ["sensitive", "sensitivity", "tender", "sunburn", "redness"]),
    (["cheek", "cheeks", "forehead", "chin", "nose", "jaw"], ["face", "cheekbones", "forehead"]),
    (["fix", "fixed", "fixing", "cure", "cured", "repair", "remove", "removal", "erase", "get rid"],
     ["treat", "repair", "reduce", "remove"]),
    (["book", "booking", "schedule", "consultation"],
     ["schedule", "appointment", "consultation"]),
    (["surgery", "surgical", "surgically", "invasive"], ["surgical", "invasive"]),
    (["pit", "pits", "pitted", "dent", "dents", "dented", "indent", "indented", "holes", "craters",
      "sunken", "shallow", "shallower"],
     ["depressed", "pitted", "atrophic", "sunken", "depth"]),
    (["lump", "lumps", "lumpy", "thick", "raised"], ["hypertrophic", "keloid"]),
    (["bumpy", "bumps", "rough", "soft", "softer", "smooth", "smoother", "even", "silky"],
     ["texture", "smoother", "smooth", "even"]),
    (["dot", "dots", "specks", "speckles", "pinprick", "pinpricks"], ["pinpoint", "bleeding"]),
    (["plump", "plumper", "firm", "firmer", "tight", "tighter", "bouncy", "youthful", "younger",
      "older", "sagging", "saggy", "elastic"],
     ["firmness", "elasticity", "youthful", "collagen"]),
    (["blotchy", "uneven", "patchy", "discolored", "discoloured", "tone", "colour", "color"],
     ["uneven", "tone", "hyperpigmentation"]),
    (["scrub", "scrubs", "exfoliate", "exfoliating", "exfoliant", "harsh", "acid", "acids", "retinoid",
      "retinol"],
     ["exfoliants", "harsh", "products", "irritate"]),
    (["cut", "cuts", "scab", "scabs", "scratch", "scratches", "graze", "grazes", "grazed", "scrape",
      "scrapes", "scraped", "shaving", "nick", "open"],
     ["cuts", "wounds", "abrasions", "open"]),
    (["teen", "teens", "teenager", "teenage", "old", "young", "age", "aged", "elderly", "late"],
     ["age"]),
    (["achy", "ache", "aching", "tender", "sensitive"], ["sore", "tender", "sensitivity"]),
    (["smear", "liquid", "gel", "lotion", "goo", "apply", "applied", "put", "rub"],
     ["serum", "applied", "topical", "application"]),
    (["clinic", "clinics", "salon", "spa", "place", "office", "provider", "doctor", "nurse"],
     ["professional", "provider", "center", "trained"]),
    (["insecure", "embarrassed", "conscious", "confidence", "self", "esteem", "ashamed", "ugly"],
     ["self-esteem", "confidence", "appearance"]),
    (["wimp", "scared", "afraid", "nervous", "anxious", "gentle", "mild", "milder"],
     ["gentle", "discomfort", "tolerated", "minimally"]),
    (["permanent", "forever", "lasting", "vanish", "disappear", "gone", "100"],
     ["lasting", "significant", "improvement", "reduce"]),
    (["grow", "regrow", "replace", "rebuild", "regenerate", "renew", "new"],
     ["new", "collagen", "replaced", "renew"]),
    (["event", "wedding", "party", "holiday", "vacation", "trip", "date"], ["weeks", "results", "time"]),
    (["device", "tool", "machine", "pen", "roller", "stamp", "gadget"],
     ["device", "dermaroller", "dermapen", "pen"]),
    (["step", "steps", "process", "procedure", "walk", "happens", "expect"],
     ["procedure", "session", "process", "expect"]),
    (["fast", "quick", "quickly", "soon", "immediately", "instant", "overnight"],
     ["gradual", "time", "after", "immediately"]),
    (["dark", "darker", "darkened", "brown", "spots", "patches", "marks"],
     ["hyperpigmentation", "marks", "dark"]),
    (["sun", "sunny", "outdoor", "outdoors", "outside", "uv"], ["sun", "exposure", "sunscreen", "uv"]),
    (["routine", "routines", "activities", "life", "office"],
     ["resume", "regular", "activities"]),
    (["bruise", "bruises", "bruising"], ["bruising"]),
    (["makeup", "foundation", "cover"], ["makeup"]),
    (["collagen", "elastin", "regrow", "rebuild"], ["collagen", "elastin", "production"]),
    (["serum", "serums", "products", "creams", "cream", "moisturizer", "moisturiser", "toner",
      "toners", "skincare", "lotions"],
     ["serum", "serums", "products", "moisturiser", "cream"]),
    (["long", "last", "minutes", "hours", "duration", "take"], ["minutes", "takes"]),
    (["doctor", "dermatologist", "derm", "professional", "provider", "practitioner", "specialist"],
     ["professional", "dermatologist", "provider", "qualified"]),
    (["name", "names", "called", "aka"], ["names", "called", "referred"]),
    (["pore", "pores"], ["pores", "pore"]),
    (["wrinkle", "wrinkles", "lines", "aging", "ageing"], ["wrinkles", "fine", "lines"]),
    (["pigment", "pigmentation", "hyperpigmentation", "spots", "marks", "discoloration"],
     ["hyperpigmentation", "marks"]),
    (["prp", "vampire", "plasma", "platelet"], ["prp", "platelet", "plasma"]),
    (["infection", "infected", "bacteria", "germs", "sterile", "hygiene", "clean"],
     ["infection", "bacteria", "sterile", "hygiene"]),
    (["medicine", "medicines", "medication", "medications", "meds", "ibuprofen", "aspirin", "advil",
      "nsaid", "nsaids", "pills", "painkillers"],
     ["inflammatory", "medicines"]),
    (["wash", "washing", "cleanse", "cleanser", "water"], ["wash", "water", "cleansers", "cleanse"]),
    (["drink", "drinking", "hydrate", "hydrated", "hydration", "fluids"], ["hydrated", "hydration"]),
    (["uncomfortable", "discomfort", "tender", "sensitive"], ["discomfort", "sensitivity", "tender"]),
    (["absorb", "absorbs", "absorption", "sink", "soak", "penetrate", "penetrates", "penetration"],
     ["absorption", "penetrate", "penetration", "channels"]),
    (["purpose", "deliberate", "deliberately", "intentional", "intentionally", "controlled"],
     ["controlled", "micro-injuries", "healing"]),
    (["maintenance", "maintain", "yearly", "annually", "touch", "touchup", "touchups"],
     ["maintenance", "year", "months"]),
]


def _stems(ws: list[str]) -> list[str]:
    from .textnorm import keyword_tokens

    out: list[str] = []
    for w in ws:
        out.extend(keyword_tokens(w))
    return out


def build_expansions() -> dict[str, set[str]]:
    """Stem -> extra stems to add to a keyword query."""
    table: dict[str, set[str]] = {}
    for triggers, extra in _GROUPS:
        extra_stems = set(_stems(extra))
        for t in _stems(triggers):
            table.setdefault(t, set()).update(extra_stems - {t})
    return table
