"""Concrete grammar rules a reflection must pass; each problem is named so a failure says what reads wrong.

Independent of the code under test: its own small word lists, no import from dialogue.
"""
from __future__ import annotations

import re

_ADVERB = r"(?:just|really|never|always|still|also|even|only|truly|honestly|actually|so|not|totally|completely|" \
          r"finally|already)"
_AGREEMENT = (
    (re.compile(rf"\byou(?:\s+{_ADVERB}){{0,2}}\s+(am|is|was|wasn't|isn't|has|hasn't|does|doesn't)\b", re.I),
     "you + a verb that needs I/he/she"),
    (re.compile(rf"(?<!\bif )(?<!\bwish )\bI(?:\s+{_ADVERB}){{0,2}}\s+(are|is|were|aren't|isn't|weren't|has|hasn't|"
                r"does|doesn't)\b"), "I + a verb that needs you/he/she"),
    (re.compile(r"(^|\b(and|but|that|because|so)\s+)me\s+(am|are|is|was|were|have|has|do|did|can|will|don't)\b",
                re.I), "'me' as a subject"),
    (re.compile(r"\b(your're|you's|I's|you'm|I're|me's)\b", re.I), "a broken contraction"),
    (re.compile(r"\b(to|with|for|about|at|from|of|by|without)\s+I\b"), "'I' after a preposition"),
)
_FIRST_PERSON = re.compile(r"\b(I|I'm|I've|I'll|I'd|me|my|mine|myself)\b")
_PLURAL_FIRST_PERSON = re.compile(r"\b(we|we're|we've|we'll|we'd|us|our|ours|ourselves)\b", re.I)
_SECOND_PERSON = re.compile(r"\b(you|you're|you've|you'll|you'd|your|yours|yourself)\b", re.I)
_NOT_A_START = frozenset(
    "thanks thank please sorry because cause and but so or to for with about if when like just guess tell let "
    "yeah yes no okay ok oh um uh well anyway hi hello hey since although though while after before until "
    "unless of in on at from by as than then".split())
# A stranded preposition can end an English clause ("the promotion I was hoping for"); these words cannot.
_DANGLING_END = frozenset("a an the and or but my your our their because if when than very is are was were am".split())
_VERB_HINTS = frozenset(
    "am is are was were be been being have has had do does did can could will would shall should may might must "
    "feel felt think thought know knew want wanted need needed keep kept got get go went going make made told said "
    "see saw love hate miss missed lost passed died start started finished seem seems look looks came come broke "
    "break met meet spent spend left leave took take gave give found find sent send brought bring bought buy "
    "taught caught fell fall slept sleep won win ran run sat sit stood stand wrote write drove drive ate eat drank "
    "drink began begin paid pay heard hear put cut hurt quit fight fought cry study worry hope fix need try call "
    "talk work help stay wait lose read stole steal told tell said say".split())
_VERB_SUFFIXES = ("ed", "'s", "'re", "'ve", "'ll", "'d", "'m", "n't", "ing")


def _has_verb(words: list[str]) -> bool:
    for word in words[1:]:
        w = word.lower()
        if w in _VERB_HINTS or w.endswith(_VERB_SUFFIXES) or (w.endswith("s") and not w.endswith("ss")):
            return True
    return words[0].lower().endswith(("'s", "'re", "'ve", "'ll", "'d", "'m", "n't"))


def problems(source: str, reflection: str) -> list[str]:
    """What reads wrong in ``reflection`` (a reflection of ``source``); [] when it passes every rule."""
    if not reflection:
        return []
    found = [name for pattern, name in _AGREEMENT if pattern.search(reflection)]
    words = reflection.split()
    if re.search(r"\bi\b", reflection):
        found.append("a lower-case 'i'")
    if _PLURAL_FIRST_PERSON.search(reflection):
        found.append("a leftover we/us/our")
    mine = len(_FIRST_PERSON.findall(reflection))
    if mine > len(_SECOND_PERSON.findall(source)):
        found.append("a leftover first-person pronoun")
    if len(words) < 2:
        found.append("a single word")
    if words and words[0].lower() in _NOT_A_START:
        found.append(f"a fragment starting with {words[0]!r}")
    if words and words[-1].lower() in _DANGLING_END:
        found.append(f"a dangling {words[-1]!r} at the end")
    if words and not _has_verb(words):
        found.append("no verb")
    if "  " in reflection or " ," in reflection or ",," in reflection or reflection != reflection.strip(" ,.;:!?"):
        found.append("stray spacing or punctuation")
    if words and words[0][0].isupper() and words[0] not in ("I", "I'm", "I've", "I'll", "I'd") \
            and words[0].lower() in ("you", "your", "the", "it", "it's", "my", "he", "she", "they", "there"):
        found.append("a capitalised first word inside a sentence")
    return found
