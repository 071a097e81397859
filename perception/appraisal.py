"""Appraisal of what the user says happened: loss, illness, failure, fear … or good news, with the words as evidence.

A lexicon of phrases (regexes) per kind of event or feeling, each with a signed weight. A
negation just before a phrase turns it round ("I didn't fail", "no longer sick" → relief;
"not happy" → sadness), an intensifier or a downtoner scales it, and what follows "but"
counts more than what precedes it. Medical words ("doctor", "results") are news only
together. It reads one sentence in tens of microseconds: precompiled regexes, no model.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from perception.types import Appraisal

# (category, weight, alternatives); a space in an alternative matches any whitespace.
_LEXICON: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    ("loss", -0.85, (
        "died", "dies", "dying", "passed away", "passed on", "funeral", "miscarriage", "miscarried", "grief",
        "grieving", "widowed", "death", "suicide", "killed", "no longer with us", "(?:he|she)'s gone",
        "lost (?:my|our|his|her|their) (?:mom|mum|mother|dad|father|husband|wife|son|daughter|brother|sister|baby|"
        "grandma|grandmother|grandpa|grandfather|granddad|grandad|nan|uncle|aunt|cousin|best friend|friend|partner|"
        "fianc[eé]e?|dog|cat|pet)",
        "put (?:him|her|my dog|our dog|my cat|our cat) down")),
    ("illness", -0.7, (
        "cancer", "tumou?rs?", "chemo(?:therapy)?", "diagnosed(?: with)?", "dementia", "alzheimer'?s",
        "parkinson'?s", "heart attack", "stroke", "intensive care", "icu", "tested positive", "terminal")),
    ("illness", -0.5, (
        "sick(?! of| and tired)", "ill", "illness", "unwell", "not well", "hospital", "hospitali[sz]ed",
        "surgery", "emergency room", "infection", "disease", "injured", "injury", "in pain", "pain", "lump",
        "seizures?", "chronic", "biopsy", "symptoms", "migraines?", "flu", "fever", "covid", "diagnosis",
        "headaches?", "nausea", "dizzy", "won't go away", "can't shake (?:it|this)",
        "keep(?:ing)? (?:him|her|me|them) (?:in )?overnight", "kept (?:him|her|me|them) (?:in )?overnight",
        "(?:fell|fall|fallen) and (?:hit|hurt|broke)", "hit (?:her|his|my|their) head",
        "heart (?:problems?|condition|trouble)",
        "broke (?:my|his|her) (?:leg|arm|wrist|ankle|hip|back|nose)", "fractured?")),
    ("failure", -0.6, (
        "fail(?:ed|ing|s)?", "flunk(?:ed)?", "rejected", "rejection", "turned down", "fired", "laid off",
        "let go", "sacked", "demoted", "bombed", "dropped out", "kicked out", "failure", "not good enough",
        "(?:didn't|did not|don't|didnt) get (?:the|a|in|into|it|picked|chosen|selected|accepted)",
        "(?:didn't|did not|won't|couldn't|could not) pass",
        "(?:wasn't|was not|weren't|were not) (?:accepted|selected|chosen|picked|good enough)",
        "lost (?:my|the|our) (?:job|contract|case|game|match|house|business|scholarship|place)",
        "messed (?:it |everything )?up", "screwed (?:it |everything )?up", "blew it", "missed the deadline",
        "(?:a|my|big|huge) mistake")),
    ("fear", -0.55, (
        "worr(?:y|ied|ying|ies)", "scared", "afraid", "anxious", "anxiety", "nervous", "frightened",
        "frightening", "scary", "panic(?:king|ked|s)?", "panic attacks?", "dread(?:ing)?", "freaking out",
        "what if", "on edge", "can't stop thinking", "(?:it's|it is|could be|might be) serious",
        "don't know what (?:to do|will happen|i'll do)")),
    ("fear", -0.75, ("terrified", "petrified", "terrifying")),
    ("shame", -0.55, (
        "ashamed", "embarrass(?:ed|ing)", "humiliat(?:ed|ing)", "guilty", "guilt", "my fault",
        "(?:so|really|such an?|i'm|i am|i feel) (?:stupid|idiot|useless|worthless)", "hate myself",
        "let (?:everyone|them|him|her|you|us|my \\w+) down", "regret(?:s|ted)?", "disappointed in myself")),
    ("conflict", -0.5, (
        "argu(?:e|ed|ing|ment|ments)", "fight(?:ing|s)?", "fought", "yell(?:ed|ing|s)?", "shout(?:ed|ing)",
        "scream(?:ed|ing)", "divorc(?:e|ed|ing)", "separat(?:ed|ing)", "broke up", "break(?:ing)? up",
        "breakup", "split up", "dumped", "cheat(?:ed|ing)", "betray(?:ed|al)", "tension",
        "kick(?:ed|ing|s)? (?:me|us|him|her|them) out",
        "under (?:a lot of )?strain", "strained", "toxic", "abusive", "bull(?:ied|ying)", "hates? me",
        "blam(?:e|ed|es|ing) me", "falling out", "fell out", "(?:isn't|is not|aren't|not|won't|stopped) "
        "(?:speaking|talking) to (?:me|each other|us)")),
    ("anger", -0.55, (
        "angry", "furious", "mad (?:at|about)", "so mad", "pissed(?: off)?", "frustrat(?:ed|ing)", "fed up",
        "sick of", "sick and tired", "infuriat(?:ed|ing)", "unfair", "outraged", "livid", "hate(?:s|d)?")),
    ("anger", -0.35, ("annoyed", "annoying", "irritat(?:ed|ing)")),
    ("loneliness", -0.55, (
        "lonely", "loneliness", "(?:all|so|feel|felt|feeling|completely|very|totally) alone", "on my own",
        "isolated", "nobody", "no one", "no friends", "invisible",
        "(?:don't|do not|didn't) (?:really )?have (?:any |many |real )?(?:friends|anyone|anybody)",
        "(?:nobody|no one|anyone) to talk to", "the only one (?:who|that|taking|doing|left)",
        "left out", "miss(?:ing)? (?:him|her|them|home|my \\w+)", "homesick",
        "forgot (?:my birthday|about me|me)", "ignor(?:e|es|ed|ing) me",
        "(?:don't|doesn't|won't|never|didn't) (?:listen|listens|talk|talks) to me")),
    ("strain", -0.45, (
        "stress(?:ed|ful)?", "overwhelm(?:ed|ing)", "exhaust(?:ed|ing)", "burn(?:ed|t) out", "burnout",
        "drained", "tired", "worn out", "pressure", "struggl(?:e|ed|es|ing)", "can(?:'t|not) cope",
        "can't (?:do this|take it|take this|handle it|handle this|keep up)", "too much", "falling apart",
        "(?:bad|rough|long|hard|tough|terrible|awful|horrible|crappy|shitty|stressful) "
        "(?:day|week|month|year|time|night|few days|couple of weeks)",
        "a lot going on", "can't sleep", "(?:haven't|have not|barely|hardly) slept", "insomnia", "workload",
        "overtime", "deadlines?", "swamped", "hectic", "crazy busy", "juggling")),
    ("money", -0.5, (
        "broke(?! up| down| my| his| her| the| into| out| it| a| our| their| in)", "debts?", "bills",
        "can(?:'t|not) afford", "evict(?:ed|ion)", "bankrupt(?:cy)?", "overdra(?:wn|ft)", "loans?",
        "money (?:worries|problems|trouble|is tight)", "tight on money", "(?:lost|losing) (?:all )?(?:my|our) savings",
        "unemployed", "out of work", "no money", "paycheck to paycheck",
        "(?:can't|cannot|couldn't|won't be able to|unable to) (?:pay|make) (?:the |my |our )?(?:rent|bills|mortgage|payments)",
        "behind on (?:the )?(?:rent|bills|payments|mortgage)")),
    ("sadness", -0.5, (
        "sad", "sadness", "unhappy", "depress(?:ed|ing|ion)", "miserable", "heartbroken", "heartbreaking",
        "broke my heart", "devastat(?:ed|ing)", "gutted", "upset", "cr(?:y|ied|ying)", "in tears", "tears",
        "(?:feeling|feel|felt|so|been|pretty|really) (?:down|low|blue)", "hopeless", "empty", "numb", "awful",
        "terrible", "horrible", "worst", "(?:feel|feeling|felt) lost", "not (?:okay|ok|fine)", "hurt(?:s|ing)?",
        "pointless", "what's the point", "giv(?:e|ing) up", "disappoint(?:ed|ing|ment)", "let down",
        "(?:it's|it has|it's been|has been|been|so|really|very) (?:hard|tough|difficult|rough)")),
    ("sadness", -0.35, ("bad", "worse", "not great", "not good")),
    ("setback", -0.4, (
        "broke down", "broken", "stolen", "robbed", "accident", "crash(?:ed)?", "cancel(?:l)?ed", "flooded",
        "went wrong", "didn't work out", "fell through", "problems?", "trouble", "delayed", "ruined",
        "lost (?:my|our) (?:keys|wallet|phone|bag|passport|luggage)", "towed",
        "missed (?:my|the|her|his|our|their) (?:[\\w']+ )?(?:wedding|birthday|funeral|graduation|party|interview|exam)",
        "missed (?:my|the) (?:flight|train|bus)")),
    ("good_news", 0.7, (
        "got the job", "got a job", "got hired", "hired", "promoted", "promotion", "a raise",
        "passed (?:my|the|all|both|it|with)", "graduat(?:ed|ing|ion)", "engaged", "(?:got|getting) married",
        "wedding", "won", "winning", "accepted", "got in(?:to)?", "admitted to", "pregnant", "having a baby",
        "(?:new|had a|the) baby", "gave birth", "was born", "finally (?:finished|done|did it|made it)",
        "good news", "great news", "best news", "all clear", "came back (?:clear|fine|normal|negative|good|okay|ok)",
        "benign", "cancer[- ]free", "in remission", "recovered", "(?:feeling|getting|got|gotten) better", "healed",
        "bought (?:a|our|my) (?:house|home|flat|car|apartment)", "new (?:house|home|flat|apartment|puppy|kitten)",
        "adopted", "scholarship", "award", "first place", "aced", "nailed (?:it|the)", "bonus",
        "paid off (?:my|the|our|all)(?: [\\w']+)? (?:loans?|debts?|mortgage|car|credit cards?)",
        "went (?:well|great|really well|so well)", "it worked", "succeeded", "reunited", "made up with",
        "(?:got|we got|i got) (?:the|an?) (?:house|apartment|flat|offer|grant|contract|place)")),
    ("good_news", 0.6, ("passed(?! away| out| on| by| through)", "birthday", "vacation", "holiday", "puppy", "kitten")),
    ("good_news", 0.35, ("new job", "moving in", "moved in")),
    ("joy", 0.55, (
        "happy", "happier", "glad", "excit(?:ed|ing)", "thrilled", "delighted", "proud", "grateful", "thankful",
        "overjoyed", "ecstatic", "can't wait", "looking forward", "lovely", "wonderful", "amazing", "fantastic",
        "great", "awesome", "fun", "enjoy(?:ed|ing)?", "celebrat(?:e|ed|ing)", "blessed", "lucky", "best day",
        "perfect", "beautiful")),
    ("joy", 0.35, ("love(?:d|s)?", "nice", "good", "relaxed", "peaceful", "better")),
    ("relief", 0.45, ("relieved", "relief", "phew", "thank god", "thank goodness", "nothing (?:serious|wrong|to worry about)")),
    ("minimizing", 0.0, (
        "i'm (?:fine|okay|ok|alright|all right|good)", "i am (?:fine|okay|ok|alright|all right|good)",
        "it's (?:fine|okay|ok|nothing|all good)", "no big deal", "not a big deal", "doesn't matter",
        "it is what it is", "whatever", "don't worry about me", "i'll (?:be )?(?:fine|okay|ok|alright)",
        "i'll (?:survive|manage)", "i'm used to it", "never mind")),
)

_MEDICAL = re.compile(
    r"(?<![\w'])(doctors?|doctor's|gp|physician|results|tests?|scans?|mri|ct scan|x-?rays?|blood ?work|"
    r"blood tests?|appointment|specialist|oncologist|cardiologist|neurologist|clinic|check-?up|follow-?up|"
    r"referral)(?![\w'])")
MEDICAL_WEIGHT = -0.4
"""Two medical words together ("doctor … results") are worrying news even without a word of feeling."""

_NEGATOR = re.compile(r"(?:(?<![\w'])(?:not|no|never|without|hardly|cannot|nothing|no longer)|n't)"
                      r"(?P<after>(?:\s+[\w']+){0,2})\s*$")
# "can't stop worrying", "not only sad", "never been so happy": the negator does not turn the feeling round.
_NOT_NEGATING = re.compile(r"^\s+(stop|help|only|wonder|matter|just|been so|felt so|been this|felt this|even)\b")
_INTENSIFIER = re.compile(r"(?<![\w'])(really|so|very|extremely|incredibly|totally|completely|absolutely|deeply|"
                          r"super|truly|terribly|awfully|utterly|seriously)\s+(?:[\w']+\s+)?$")
_DOWNTONER = re.compile(r"(?<![\w'])(a bit|a little|slightly|kind of|kinda|sort of|somewhat|a tad|a little bit)"
                        r"\s+(?:[\w']+\s+)?$")
_CONTRAST = re.compile(r"(?<![\w'])(but|however|though|yet|although|except)(?![\w'])")
_CLAUSE_START = re.compile(r"[.!?;]|(?<![\w'])(but|however|although|though)(?![\w'])")
INTENSIFY = 1.3
SOFTEN = 0.6
BEFORE_CONTRAST = 0.5
AFTER_CONTRAST = 1.5
NEGATED_MISFORTUNE = 0.5
"""A negated misfortune is a relief, but weaker than good news: "I didn't fail" is not "I aced it"."""
NEGATED_GOOD = 0.8
REPEAT = 0.5
"""A second phrase of the same kind adds half its weight: evidence piles up, it does not multiply."""
SATURATION = 0.3
"""valence = s / sqrt(s² + SATURATION): one clear phrase gives about ±0.7, several approach ±1."""
_TURNED = {"good_news": "failure", "joy": "sadness", "relief": "sadness"}


def _compile(alternatives: tuple[str, ...]) -> re.Pattern[str]:
    body = "|".join(a.replace(" ", r"\s+") for a in alternatives)
    return re.compile(rf"(?<![\w'])(?:{body})(?![\w'])")


_PATTERNS = tuple((category, weight, _compile(alternatives)) for category, weight, alternatives in _LEXICON)


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    category: str
    weight: float
    phrase: str
    negated: bool = False


def _matches(text: str) -> list[_Hit]:
    """Non-overlapping lexicon hits, longest first where two overlap ("passed away" beats "passed")."""
    found = [_Hit(m.start(), m.end(), category, weight, " ".join(m.group(0).split()))
             for category, weight, pattern in _PATTERNS for m in pattern.finditer(text)]
    found.sort(key=lambda h: (-(h.end - h.start), h.start))
    taken: list[_Hit] = []
    for hit in found:
        if all(hit.end <= t.start or hit.start >= t.end for t in taken):
            taken.append(hit)
    return sorted(taken, key=lambda h: h.start)


def _modified(text: str, hit: _Hit) -> _Hit:
    """The hit after negation, intensifiers and downtoners just before it (within its clause)."""
    before = text[:hit.start]
    boundary = max((m.end() for m in _CLAUSE_START.finditer(before)), default=0)
    before = before[boundary:]
    weight = hit.weight
    negation = _NEGATOR.search(before)
    if negation is not None and not _NOT_NEGATING.match(negation.group("after") or "") and hit.category != "minimizing":
        category = _TURNED.get(hit.category, "relief")
        factor = NEGATED_GOOD if weight > 0 else NEGATED_MISFORTUNE
        return _Hit(hit.start, hit.end, category, -weight * factor, f"not {hit.phrase}", negated=True)
    if _INTENSIFIER.search(before):
        weight *= INTENSIFY
    elif _DOWNTONER.search(before):
        weight *= SOFTEN
    return _Hit(hit.start, hit.end, hit.category, weight, hit.phrase)


def _medical(text: str, hits: list[_Hit]) -> _Hit | None:
    """Two separate medical words ("the doctor called about my results") and no good news: worrying medical news.

    Adjacent words are one term: "my scan results" alone is not news yet.
    """
    if any(h.weight > 0 for h in hits):
        return None
    words = [m for m in _MEDICAL.finditer(text)]
    terms = sum(1 for i, m in enumerate(words) if i == 0 or text[words[i - 1].end():m.start()].strip())
    if terms < 2 and not (words and any(h.category in ("illness", "fear") for h in hits)):
        return None
    phrase = ", ".join(dict.fromkeys(m.group(0) for m in words))
    return _Hit(words[0].start(), words[-1].end(), "illness", MEDICAL_WEIGHT, phrase)


def appraise(text: str) -> Appraisal:
    """The appraisal of ``text``: valence in -1..1 (0 when nothing was recognised), categories and evidence."""
    text = text.replace("\u2019", "'").lower()
    hits = [_modified(text, h) for h in _matches(text)]
    medical = _medical(text, hits)
    if medical is not None:
        hits.append(medical)
        hits.sort(key=lambda h: h.start)
    if not hits:
        return Appraisal()
    contrast = max((m.start() for m in _CONTRAST.finditer(text)), default=-1)
    seen: set[str] = set()
    score = magnitude = 0.0
    by_category: dict[str, float] = {}
    for hit in hits:
        weight = hit.weight
        if contrast >= 0 and any(h.start > contrast for h in hits) and any(h.start < contrast for h in hits):
            weight *= AFTER_CONTRAST if hit.start > contrast else BEFORE_CONTRAST
        if hit.category in seen:
            weight *= REPEAT
        seen.add(hit.category)
        score += weight
        magnitude += abs(weight)
        by_category[hit.category] = by_category.get(hit.category, 0.0) + abs(weight)
    valence = score / math.sqrt(score * score + SATURATION) if score else 0.0
    categories = tuple(sorted(by_category, key=lambda c: -by_category[c]))
    evidence = tuple(dict.fromkeys(part for h in hits if not h.negated for part in h.phrase.split(", ")))
    negated = tuple(dict.fromkeys(h.phrase for h in hits if h.negated))
    return Appraisal(valence=round(valence, 4), intensity=round(min(1.0, magnitude), 4), categories=categories,
                     evidence=evidence, negated=negated)
