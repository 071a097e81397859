"""Reflection: the user's key statement or question said back from the listener's side, in grammatical English.

"I'm tired of my job" → "you're tired of your job"; "Do you think I should quit?" →
"you're wondering whether you should quit". A reflection is a clause with a subject and
a verb, or nothing: a fragment ("thanks for listening to me") is never echoed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from dialogue.verbs import is_base_verb, is_verb, past

MAX_PHRASE_WORDS = 16

_SENTENCE = re.compile(r"[^.!?]+[.!?]*")
_QUESTION_START = re.compile(
    r"^(what|what's|who|who's|when|where|where's|which|why|how|is|are|was|were|do|does|did|can|could|will|would|"
    r"should|shall|have|has|am|tell me)\b", re.I)
# "I think"/"I guess" only lead in when a clause of its own follows ("I think my boss hates me"), not in
# "I think about her every day".
_LEAD_FILLERS = re.compile(
    r"^((um+|uh+|er+|erm+|hmm+|well|so|and|but|oh|okay|ok|yeah|yes|no(?! one)|honestly|basically|actually|like|"
    r"you know|anyway|anyways|also|then|and then|because|cause|'cause|since|although|though|even though|whereas|"
    r"unless|until|just|plus|still|now|look|listen|see|"
    r"(i mean|i guess|i think( that)?|i suppose)(?=[\s,]+(i|i'm|i've|i'll|i'd|my|we|we're|our|it|it's|he|she|"
    r"they|the|this|that|there|things|everything|nobody|nothing)\b))\b[\s,]*)+", re.I)
_INLINE_FILLERS = re.compile(r"(,\s*)?\b(um+|uh+|er+|erm+|hmm+)\b(\s*,)?", re.I)
_ASIDES = re.compile(r",\s*(like|you know|i mean|basically|honestly|actually|literally|kind of|sort of|i guess)\s*,",
                     re.I)
_CLAUSE_SPLIT = re.compile(
    r"\s*[,;:]\s*|\s+[-\u2013\u2014]+\s+|\s+(?=(?:but|because|cause|'cause|although|though|whereas|even though|"
    r"unless|so that)\s)", re.I)
_CONTRAST = re.compile(r"^(but|however|yet)\b", re.I)
_SUBORDINATE = re.compile(r"^(because|cause|'cause|although|though|even though|since|unless|until|so that|whereas)\s",
                          re.I)
_FEELING = re.compile(r"\b(i feel|i'm feeling|i am feeling|i felt|i've been feeling|we feel|we're feeling)\b", re.I)
_STATE = re.compile(r"\b(i'm|i am|i've been|i have been|i was|i've|i have|i had|i can't|i cannot|i don't|i just|"
                    r"i got|i keep|i really|we're|we are|we were|we've|we had)\b", re.I)
_SELF = re.compile(r"\b(i|we)\b", re.I)
_POSSESSIVE = re.compile(r"\b(my|our)\b", re.I)
_SECOND_PERSON = re.compile(r"\b(you|you're|you've|you'll|you'd|your|yours|yourself)\b", re.I)
_EMPTY_CLAUSES = frozenset({
    "i see", "i know", "i guess", "i think", "i mean", "i suppose", "i think so", "i hope so", "i dunno",
    "i don't know", "i'm not sure", "i'm sorry", "i am sorry", "i don't think so", "i wonder", "i guess so",
    "i suppose so", "i hope not", "i think not", "i know right"})
_STARTERS = frozenset(
    "he she they it it's there there's this that that's these those things everything everyone everybody "
    "nothing nobody someone somebody life work school the a an his her their its today yesterday tonight "
    "people mom dad money".split())
"""Words that may open a reflected clause without "I"/"my"; they are lower-cased inside the agent's sentence."""
_NOT_IN_NOUN_PHRASE = frozenset(
    "i me you he she they we it him her them us that which who to of in on at for with about from by and or but "
    "so because if when the a an".split())
_DETERMINERS = frozenset("the a an my our his her their your its this that these those".split())
_SUBORDINATORS = frozenset("when whenever while after before once if since because as".split())
_COPULA_NEXT = frozenset(
    "in at on not so really very been going always still just never sick ill gone back home fine okay ok out "
    "away here there too also being".split())
_GENERIC_YOU = re.compile(r"(^|\b(when|whenever|if|once|until|because|unless)\s+)(you|you're|you've)\b", re.I)
_DANGLING = frozenset(
    "a an the to of and or but so for with about at in on from by my your our their because if when as than "
    "into very really is are was were am be been just like um uh er".split())
_ADVERBS = r"(?:just|really|never|always|still|also|even|only|truly|honestly|actually|so|not|totally|completely|" \
           r"finally|already|kind of|sort of)"

_SHIFT = re.compile(
    r"\b(i am|i was|i wasn't|am i|was i|wasn't i|you are|you were|you weren't|are you|were you|"
    r"i'm|i've|i'll|i'd|we're|we've|we'll|we'd|you're|you've|you'll|you'd|"
    r"myself|ourselves|yourself|mine|ours|yours|my|our|your|me|us|we|i|you)\b", re.I)
_SHIFT_MAP = {
    "i am": "you are", "i was": "you were", "i wasn't": "you weren't", "am i": "are you", "was i": "were you",
    "wasn't i": "weren't you", "you are": "I am", "you were": "I was", "you weren't": "I wasn't",
    "are you": "am I", "were you": "was I",
    "i'm": "you're", "i've": "you've", "i'll": "you'll", "i'd": "you'd",
    "we're": "you're", "we've": "you've", "we'll": "you'll", "we'd": "you'd",
    "you're": "I'm", "you've": "I've", "you'll": "I'll", "you'd": "I'd",
    "myself": "yourself", "ourselves": "yourselves", "yourself": "myself", "mine": "yours", "ours": "yours",
    "yours": "mine", "my": "your", "our": "your", "your": "my", "me": "you", "us": "you", "we": "you", "i": "you",
}
_SUBJECT_CONTEXT = re.compile(r"(^|[,;]|\b(and|but|that|if|when|because|so|what|how|why|where|whether|while|"
                              r"until|unless|since|cause|or))\s*$", re.I)
_YOU_VERB_AGREEMENT = re.compile(rf"\b(you(?:\s+{_ADVERBS}){{0,2}})\s+(am|was|wasn't)\b", re.I)
_I_VERB_AGREEMENT = re.compile(rf"(?<!\bif )(?<!\bwish )\b(I(?:\s+{_ADVERBS}){{0,2}})\s+(are|were|aren't|weren't)\b")
_AGREE_YOU = {"am": "are", "was": "were", "wasn't": "weren't"}
_AGREE_I = {"are": "am", "were": "was", "aren't": "am not", "weren't": "wasn't"}


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` (curly apostrophes straightened)."""
    return [s.strip() for s in _SENTENCE.findall(text.replace("\u2019", "'")) if s.strip()]


def is_question(sentence: str) -> bool:
    return sentence.endswith("?") or (bool(_QUESTION_START.match(sentence)) and not sentence.endswith((".", "!")))


def shift_pronouns(phrase: str) -> str:
    """Swap the speaker's perspective (I → you, my → your, we → you, you → I/me) and fix the verbs that follow."""
    def swap(m: re.Match[str]) -> str:
        word = " ".join(m.group(0).lower().split())
        if word == "you were" and re.search(r"\b(if|wish)\s*$", phrase[:m.start()], re.I):
            return "I were"  # the subjunctive stays: "if you were me" → "if I were you"
        if word != "you":
            return _SHIFT_MAP[word]
        following = re.match(r"\W*(\w[\w']*)", phrase[m.end():])
        is_subject = bool(_SUBJECT_CONTEXT.search(phrase[:m.start()])) or (
            following is not None and is_verb(following.group(1)) and following.group(1).lower() not in ("to",))
        return "I" if is_subject else "me"
    shifted = _SHIFT.sub(swap, phrase)
    shifted = _YOU_VERB_AGREEMENT.sub(lambda m: f"{m.group(1)} {_AGREE_YOU[m.group(2).lower()]}", shifted)
    return _I_VERB_AGREEMENT.sub(lambda m: f"{m.group(1)} {_AGREE_I[m.group(2).lower()]}", shifted)


@dataclass(frozen=True)
class _Clause:
    strength: int
    text: str


def _clean(sentence: str) -> str:
    sentence = _ASIDES.sub(" ", sentence)
    sentence = _INLINE_FILLERS.sub(" ", sentence)
    return " ".join(sentence.split())


def _has_verb_after(words: list[str], first: int, within: int) -> bool:
    return any(is_verb(w) for w in words[first:first + within])


def _subject_clause(segment: str) -> _Clause | None:
    """The strongest clause in ``segment`` that starts with a subject and has a verb (None: a fragment)."""
    subordinate = bool(_SUBORDINATE.match(segment))
    segment = _LEAD_FILLERS.sub("", segment).strip()
    if not segment:
        return None
    words = segment.split()
    lower = [w.lower().strip(",") for w in words]
    # "When I got home my dog was sick": the clause right after a leading "when" is not the main one.
    opener = 1 if lower[0] in _SUBORDINATORS else -1
    candidates: list[tuple[int, int]] = []  # (strength, word index where the clause starts)
    for strength, lead in ((5, _FEELING), (4, _STATE), (2, _SELF)):
        for m in lead.finditer(segment):
            index = len(segment[:m.start()].split())
            if _has_verb_after(words, index, 4):
                candidates.append((strength - (2 if index == opener else 0), index))
    for m in _POSSESSIVE.finditer(segment):
        index = len(segment[:m.start()].split())
        if _noun_phrase_then_verb(lower, index):
            if index >= 2 and lower[index - 1] == "and" and lower[index - 2] in ("me", "i"):
                index -= 2  # "me and my brother haven't spoken": the subject is both of them
            candidates.append((3 - (2 if index == opener else 0), index))
    if lower[0] in _STARTERS and _has_verb_after(words, 0, 4):
        candidates.append((1, 0))
    if not candidates:
        return None
    # The earliest subject starts the main clause ("I didn't get the promotion I was hoping for"),
    # unless it only opens a subordinate one ("when I got home, …").
    main = [c for c in candidates if c[1] != opener and (opener > 0 or not _embedded(words, c[1]))]
    if not main:
        return None
    index = min(c[1] for c in main)
    strength = max(c[0] for c in main if c[1] == index)
    clause = " ".join(words[index:])
    if _GENERIC_YOU.search(clause):
        return None  # "it's hard when you lose someone": that "you" is anyone, not the listener
    if _SECOND_PERSON.search(clause):
        strength -= 1  # a clause about the listener is a weaker echo than one about the speaker
    return _Clause(strength - (2 if subordinate else 0), clause)


def _embedded(words: list[str], index: int) -> bool:
    """Whether a subject at ``index`` follows a verb of its own clause ("you were the one I could tell")."""
    return any(is_verb(w) for w in words[:index])


def _noun_phrase_then_verb(lower: list[str], index: int) -> bool:
    """"my boss hates …", "my mom's sick", "my wife and I went …": a short noun phrase after my/our, then a verb."""
    previous = lower[index]
    for end in range(index + 1, min(index + 7, len(lower))):
        word = lower[end]
        if end == index + 1 and word.endswith("'s") and end + 1 < len(lower) and _is_copula_context(lower[end + 1]):
            return True
        if end > index + 1 and previous not in _DETERMINERS and previous != "and" and is_verb(word):
            return True
        if word == "and":
            if end + 1 >= len(lower) or lower[end + 1] not in (_DETERMINERS | {"i", "we", "me"}):
                return False
        elif word in ("i", "we", "me"):
            if previous != "and":
                return False
        elif word in _DETERMINERS:
            if previous != "and":
                return False
        elif word in _NOT_IN_NOUN_PHRASE:
            return False
        previous = word
    return False


def _is_copula_context(following: str) -> bool:
    """Whether "X's" before ``following`` means "X is" ("my mom's in hospital") rather than a possessive."""
    return (following in _COPULA_NEXT or following.endswith(("ing", "ed")) or is_verb(following)
            and following not in _DETERMINERS)


def _finish(clause: str) -> str:
    """Trim to ``MAX_PHRASE_WORDS`` without a dangling end; lower-case an ordinary first word."""
    words = clause.strip(" .!?,;:").split()
    if len(words) > MAX_PHRASE_WORDS:
        words = words[:MAX_PHRASE_WORDS]
        joints = [i for i, w in enumerate(words) if i >= 4 and w.lower() in ("and", "but", "because", "then")]
        if joints:
            words = words[:joints[0]]  # a long turn is cut where its first clause ends, not mid-phrase
        while words and words[-1].lower().strip(",") in _DANGLING:
            words.pop()
    words = [w.strip(",") if i == len(words) - 1 else w for i, w in enumerate(words)]
    if len(words) < 2:
        return ""
    first = words[0]
    if first.lower() in _STARTERS or first.lower() in _SHIFT_MAP or first.lower() in ("my", "our"):
        words[0] = first.lower() if first.lower() != "i" else "I"
    return " ".join(words)


def key_phrase(text: str) -> str:
    """The main clause of the most personal statement in ``text``, pronouns not yet shifted ('' if none)."""
    best: tuple[tuple[int, int, int], str] | None = None
    for index, sentence in enumerate(sentences(text)):
        if is_question(sentence):
            continue
        contrasted = False
        for segment in _CLAUSE_SPLIT.split(_clean(sentence.rstrip(".!?"))):
            segment = (segment or "").strip()
            if not segment:
                continue
            contrasted = contrasted or bool(_CONTRAST.match(segment))
            clause = _subject_clause(segment)
            if clause is None or clause.text.lower().strip(" .!?,") in _EMPTY_CLAUSES:
                continue
            # What follows "but" is what the speaker means most ("I got the promotion, but my dad is in hospital").
            score = (clause.strength + (1 if contrasted else 0), len(clause.text.split()), -index)
            if best is None or score > best[0]:
                best = score, clause.text
    return _finish(best[1]) if best is not None else ""


def reflect(text: str) -> str:
    """The key statement of ``text`` as the agent would say it back ('' when there is none)."""
    return shift_pronouns(key_phrase(text))


_QUESTION_FORMS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p, re.I), form) for p, form in (
    (r"^(?:do|would|don't) you think (?:that )?(?P<rest>(?:i|we|my|our|it|he|she|they|this|that|there)\b.+)$",
     "you're wondering whether {rest}"),
    (r"^(?P<modal>should|could|can|would|will|must|might) (?:i|we) (?P<rest>(?!ask\b).+)$",
     "you're wondering whether you {modal} {rest}"),
    (r"^am i (?P<rest>.+)$", "you're wondering whether you're {rest}"),
    (r"^was i (?P<rest>.+)$", "you're wondering whether you were {rest}"),
    (r"^(?:do|does) (?:i|we) (?P<rest>.+)$", "you're wondering whether you {rest}"),
    (r"^did (?:i|we) (?P<verb>[a-z]+)(?P<rest>.*)$", "you're wondering whether you {verb}{rest}"),
    (r"^is it (?P<rest>.+)$", "you're wondering whether it's {rest}"),
    (r"^was it (?P<rest>.+)$", "you're wondering whether it was {rest}"),
    (r"^(?:is|was) (?:this|that) (?P<rest>.+)$", "you're wondering whether that's {rest}"),
    (r"^what (?:should|can|do|could|would|am) (?:i|we) (?:even |supposed to )?(?P<verb>do|say|tell|write|get|buy|"
     r"expect|choose|bring|wear|cook)\b(?P<rest>.*)$", "you're not sure what to {verb}{rest}"),
    (r"^how (?:do|can|should|could|would|am) (?:i|we) (?:supposed to )?(?P<rest>.+)$",
     "you're wondering how to {rest}"),
    (r"^what if (?P<rest>(?:i|we|my|our|it|he|she|they)\b.+)$", "you're worried about what happens if {rest}"),
))


def reflect_question(text: str) -> str:
    """The user's first personal question as a reflection ("you're wondering whether …"), '' if none fits."""
    for sentence in sentences(text):
        if not is_question(sentence):
            continue
        question = _LEAD_FILLERS.sub("", _clean(sentence.rstrip("?.! "))).strip()
        for pattern, form in _QUESTION_FORMS:
            m = pattern.match(question)
            if m is None:
                continue
            parts = m.groupdict()
            if "verb" in parts and form.startswith("you're wondering whether you {verb}"):
                verb = past(parts["verb"].lower()) if is_base_verb(parts["verb"]) else None
                if verb is None:
                    continue
                parts["verb"] = verb
            parts["rest"] = shift_pronouns(parts.get("rest", ""))
            phrase = _finish(form.format(**{k: v.lower() if k == "modal" else v for k, v in parts.items()}))
            if len(phrase.split()) >= 4:
                return phrase
    return ""
