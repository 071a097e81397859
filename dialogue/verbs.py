"""A small English verb lexicon: which words are verbs (any form), and the past tense of a base form.

Enough for the reflection rules to tell a clause ("my boss hates me") from a fragment
("my back"), and to turn "did I do" into "you did"; not a general-purpose tagger.
"""
from __future__ import annotations

import functools

_BASE = (
    "accept act add admit afford agree allow answer apologize appear apply argue arrive ask attend avoid bake "
    "believe belong blame borrow bother break breathe bring build burn buy call calm care carry catch cause "
    "celebrate change chat cheat check choose clean close come complain concentrate cook cope cost cough count "
    "cover crash cry cut dance date deal decide delay deserve die disappear disappoint do doubt drink drive "
    "drop earn eat embarrass end enjoy escape expect explain fail fall feel fight figure fill find finish fire "
    "fit fix fly focus follow forget forgive freak freeze get give go graduate grow guess handle hang happen "
    "hate have hear help hide hire hit hold hope hurt ignore imagine improve invite join judge keep kick kill "
    "know land laugh lay learn leave lend let lie like listen live look lose love make manage marry matter mean meet "
    "mess mind miss move need notice offer open overthink owe pack panic pass pay pick plan play pray prepare "
    "pretend promise prove pull push put quit rain reach read realize recover refuse regret relax remember "
    "remind rent reply rest retire return ride ring rise run save say scare scream see seem sell send sleep "
    "settle share shout show sing sit skip sleep slip smile snap sound speak spend stand start stay steal "
    "stop study struggle succeed suffer suggest support suppose survive take talk teach tell test text thank "
    "think throw touch train travel treat trust try turn understand upset visit wait wake walk want warn "
    "waste watch wear win wish wonder work worry write yell").split()
_IRREGULAR_PAST = {
    "be": "was", "begin": "began", "break": "broke", "bring": "brought", "build": "built", "buy": "bought",
    "catch": "caught", "choose": "chose", "come": "came", "cost": "cost", "cut": "cut", "do": "did",
    "drink": "drank", "drive": "drove", "eat": "ate", "fall": "fell", "feel": "felt", "fight": "fought",
    "find": "found", "fly": "flew", "forget": "forgot", "forgive": "forgave", "freeze": "froze", "get": "got",
    "give": "gave", "go": "went", "grow": "grew", "hang": "hung", "have": "had", "hear": "heard", "hide": "hid",
    "hit": "hit", "hold": "held", "hurt": "hurt", "keep": "kept", "know": "knew", "leave": "left", "lend": "lent",
    "lay": "laid", "let": "let", "lie": "lied", "lose": "lost", "make": "made", "mean": "meant", "meet": "met", "pay": "paid",
    "put": "put", "quit": "quit", "read": "read", "ride": "rode", "ring": "rang", "rise": "rose", "run": "ran",
    "say": "said", "see": "saw", "sell": "sold", "send": "sent", "sing": "sang", "sit": "sat", "sleep": "slept",
    "speak": "spoke", "spend": "spent", "stand": "stood", "steal": "stole", "take": "took", "teach": "taught",
    "tell": "told", "think": "thought", "throw": "threw", "understand": "understood", "upset": "upset",
    "wake": "woke", "wear": "wore", "win": "won", "write": "wrote",
    # regular, but the final consonant doubles
    "admit": "admitted", "drop": "dropped", "fit": "fitted", "plan": "planned", "regret": "regretted",
    "skip": "skipped", "slip": "slipped", "snap": "snapped", "stop": "stopped", "panic": "panicked",
}
_IRREGULAR_PARTICIPLE = {
    "be": "been", "begin": "begun", "break": "broken", "choose": "chosen", "do": "done", "drink": "drunk",
    "drive": "driven", "eat": "eaten", "fall": "fallen", "fly": "flown", "forget": "forgotten",
    "forgive": "forgiven", "freeze": "frozen", "get": "gotten", "give": "given", "go": "gone", "grow": "grown",
    "hide": "hidden", "know": "known", "ride": "ridden", "ring": "rung", "rise": "risen", "run": "run",
    "see": "seen", "sing": "sung", "speak": "spoken", "steal": "stolen", "take": "taken", "throw": "thrown",
    "wake": "woken", "wear": "worn", "write": "written",
}
AUXILIARIES = frozenset(
    "am is are was were be been being have has had do does did can could will would shall should may might must "
    "ain't isn't aren't wasn't weren't haven't hasn't hadn't don't doesn't didn't can't cannot couldn't won't "
    "wouldn't shouldn't mustn't gonna wanna gotta".split())
_CONTRACTIONS = ("'m", "'re", "'ve", "'ll", "'d", "n't")


def past(base: str) -> str | None:
    """The past tense of a known base form ("do" → "did", "ruin" → None when unknown)."""
    if base in _IRREGULAR_PAST:
        return _IRREGULAR_PAST[base]
    if base not in _BASE_SET:
        return None
    if base.endswith("e"):
        return base + "d"
    if base.endswith("y") and base[-2:-1] not in "aeiou":
        return base[:-1] + "ied"
    return base + "ed"


def _third_person(base: str) -> str:
    if base.endswith(("s", "sh", "ch", "x", "z", "o")):
        return base + "es"
    if base.endswith("y") and base[-2:-1] not in "aeiou":
        return base[:-1] + "ies"
    return base + "s"


def _gerund(base: str) -> str:
    if base.endswith("ie"):
        return base[:-2] + "ying"
    if base.endswith("e") and not base.endswith(("ee", "ye", "oe")):
        return base[:-1] + "ing"
    doubled = _IRREGULAR_PAST.get(base, "")
    if doubled.endswith(base[-1] * 2 + "ed"):
        return base + base[-1] + "ing"
    return base + "ing"


_BASE_SET = frozenset(_BASE)


@functools.lru_cache(maxsize=1)
def _forms() -> frozenset[str]:
    forms = set(AUXILIARIES)
    for base in _BASE_SET | set(_IRREGULAR_PAST):
        forms.update((base, _third_person(base), _gerund(base), past(base) or base,
                      _IRREGULAR_PARTICIPLE.get(base, past(base) or base)))
    return frozenset(forms)


def is_verb(word: str) -> bool:
    """Whether ``word`` (any case) is a known verb form or carries a verb contraction ("she's", "can't")."""
    word = word.lower().strip(".,!?;:\"")
    return (word in _forms() or word.endswith(_CONTRACTIONS) or (word.endswith("'s") and len(word) > 2)
            or (len(word) >= 5 and word.endswith("ed")))  # most unlisted "-ed" words are past tenses


def is_base_verb(word: str) -> bool:
    return word.lower() in _BASE_SET or word.lower() in _IRREGULAR_PAST
