"""The ``cue`` brain: a transparent rule policy over the fused cues with rotating reply templates (a baseline, no LLM).

A reply to the end of a user turn is an acknowledgement fitting the user's mood, a
reflection of their key phrase with the pronouns shifted ("I'm tired of my job" →
"you're tired of your job"), and an open question. The mood comes from the fused
emotion state, the face, the voice and the words; conflicting cues are named gently.
"""
from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter
from dataclasses import dataclass
from typing import AsyncIterator

from dialogue.settings import BrainSettings, PolicySettings
from dialogue.types import BrainDelta, BrainView
from perception.sentiment import vader

logger = logging.getLogger(__name__)

MAX_PHRASE_WORDS = 16

_SENTENCE = re.compile(r"[^.!?]+[.!?]*")
_QUESTION_START = re.compile(
    r"^(what|what's|who|who's|when|where|where's|which|why|how|is|are|was|were|do|does|did|can|could|will|would|"
    r"should|shall|have|has|tell me)\b", re.I)
_FIRST_PERSON = re.compile(r"\b(i|i'm|i've|i'll|i'd|me|my|mine|myself)\b", re.I)
_SOCIAL_QUESTION = re.compile(r"\bhow (are|r) (you|u)\b|\bhow('s| is) it going\b|\bhow have you been\b", re.I)
_GREETING = re.compile(r"^(hi|hello|hey|hiya|howdy|good (morning|afternoon|evening)|greetings)\b[\s,!.]*(there\b)?[\s,!.]*",
                       re.I)
_FAREWELL = re.compile(r"\b(bye|goodbye|good night|see you|talk to you later|gotta go|have to go)\b", re.I)
_THANKS = re.compile(r"^(thanks|thank you|thank u|cheers)\b", re.I)
_LEAD_FILLERS = re.compile(
    r"^((um+|uh+|er+|well|so|and|but|oh|okay|ok|yeah|honestly|basically|actually|like|you know|i mean|i guess|"
    r"i think( that)?)\b[\s,]*)+", re.I)
# Where the main clause of a sentence starts, strongest first: a feeling, a state, "my ...", any "I".
_CLAUSE_LEADS = (
    re.compile(r"\b(i feel|i'm feeling|i am feeling|i felt|i've been feeling)\b", re.I),
    re.compile(r"\b(i'm|i am|i've been|i have been|i was|i've|i have|i had|i can't|i cannot|i don't|i just|i got)\b", re.I),
    re.compile(r"\bmy\b", re.I),
    re.compile(r"\bi\b", re.I),
)
_CLAUSE_END = re.compile(r"[,;:]|\s(but|because|although|though|whereas)\s", re.I)
_NEGATION = re.compile(r"\b(not|no longer|never|isn't|wasn't|aren't|don't|didn't|hardly)\W+(\w+\W+){0,2}$", re.I)
_BAD_NEWS = re.compile(
    r"\b(nobody|no one|lonely|alone|fired|laid off|broke up|dumped|died|passed away|funeral|failed|lost|sick|"
    r"hospital|divorce|rejected|stressed|stressful|exhausted|worried|anxious|scared|afraid|depressed|miserable|"
    r"tired|overwhelmed|hurt|hate)\b", re.I)
_GOOD_NEWS = re.compile(
    r"\b(got the job|got a job|new job|got hired|promoted|promotion|passed|graduated|engaged|married|won|"
    r"accepted|got in|pregnant|new baby|birthday|vacation|holiday|finally finished)\b", re.I)

_SUBJECT_VERBS = frozenset(
    "am are was were can can't could couldn't should would will won't do don't did didn't have had know think "
    "said told make made always never really just want like love get got see understand help seem sound".split())
_SHIFT = re.compile(
    r"\b(i am|i was|you are|you were|i'm|i've|i'll|i'd|you're|you've|you'll|you'd|myself|yourself|mine|yours|"
    r"my|your|me|i|you)\b", re.I)
_SHIFT_MAP = {
    "i am": "you are", "i was": "you were", "you are": "I am", "you were": "I was",
    "i'm": "you're", "i've": "you've", "i'll": "you'll", "i'd": "you'd",
    "you're": "I'm", "you've": "I've", "you'll": "I'll", "you'd": "I'd",
    "myself": "yourself", "yourself": "myself", "mine": "yours", "yours": "mine",
    "my": "your", "your": "my", "me": "you", "i": "you",
}

_NEGATIVE_LABELS = frozenset({"sad", "angry", "anxious", "tired"})
_AROUSED_LABELS = frozenset({"angry", "anxious"})
_SMILE_EXPRESSIONS = frozenset({"happy", "smile", "smiling", "joy", "happiness"})
_SAD_EXPRESSIONS = frozenset({"sad", "angry", "fear", "disgust", "anxious", "contempt", "sadness", "anger"})

# Per mood: (acknowledgements, reflections with {p}, open questions, the agent's emotion).
_TEMPLATES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], str]] = {
    "happy": (("That's wonderful news!", "Oh, that's great to hear!", "How lovely!"),
              ("So {p}!", "It sounds like {p}.", "I love hearing that {p}."),
              ("How are you going to celebrate?", "What part of it makes you happiest?",
               "How did it feel when it happened?"), "happy"),
    "sad": (("I'm so sorry.", "Oh, that sounds really hard.", "That sounds heavy."),
            ("It sounds like {p}.", "I hear that {p}.", "So {p}, and that hurts."),
            ("Do you want to tell me more about it?", "How are you holding up?",
             "What has been the hardest part?"), "concerned"),
    "upset": (("That sounds really stressful.", "I can hear how much this is weighing on you.",
               "That sounds like a lot to deal with."),
              ("It sounds like {p}.", "I hear that {p}.", "So {p}, and that's hard."),
              ("What would help most right now?", "What worries you the most about it?",
               "Do you want to talk it through together?"), "calm"),
    "masked": (("You're smiling, but what you're telling me sounds hard.",
                "I see a smile, though your words sound heavy.",
                "You're keeping a brave face, but this sounds difficult."),
               ("It sounds like {p}.", "I hear that {p}.", "So {p}."),
               ("How are you really feeling about it?", "Is it weighing on you more than it shows?",
                "What's it like for you underneath?"), "warm"),
    "guarded": (("You say it's okay, but you seem a little down.",
                 "Your words sound fine, though you seem a bit low.",
                 "It sounds alright, but I sense it might not be."),
                ("It sounds like {p}.", "I hear that {p}.", "So {p}."),
                ("How are you really doing?", "Is something else on your mind?",
                 "Do you want to talk about how it really feels?"), "warm"),
    "neutral": (("I see.", "Okay, I'm with you.", "Thanks for telling me."),
                ("So {p}.", "It sounds like {p}.", "You're saying {p}."),
                ("Can you tell me more?", "How do you feel about that?", "What happened next?"), "curious"),
}
_GREETINGS = ("Hello! It's good to {sense} you.", "Hi there! I'm glad you're here.", "Hey! Nice to {sense} you.")
_GREETING_ASKS = ("How are you feeling today?", "How has your day been?", "What's on your mind today?")
_HOW_ARE_YOU = ("I'm doing well, thank you for asking.", "I'm good, thanks for asking.", "I'm fine, thank you.")
_HOW_ARE_YOU_ASKS = ("How are you?", "How about you?", "And how are you feeling?")
_FAREWELLS = ("Goodbye! It was lovely talking with you.", "Take care! I'm here whenever you want to talk.",
              "Bye for now, and look after yourself.")
_THANKS_REPLIES = ("You're very welcome.", "Anytime, I'm glad to be here.", "Of course, happy to listen.")
_THANKS_ASKS = ("Is there anything else on your mind?", "How are you feeling now?", "What else is going on?")
_HONEST_FACT = ("Good question, but I'm a simple rule-based baseline, so I can't look up facts or answer that.",
                "To be honest, I'm only a simple rule-based baseline and can't answer questions like that.",
                "I wish I could help, but I'm a simple rule-based baseline without real knowledge.")
_HONEST_FACT_ASKS = ("What got you wondering about it?", "Is there something behind the question you'd like to talk about?",
                     "What would you do with the answer?")
_HONEST_ADVICE = ("I'm only a simple rule-based baseline, so I can't tell you what's right, but I'm listening.",
                  "As a simple rule-based baseline I can't give real advice, but I'm glad you're thinking it through.",
                  "I'm a simple rule-based baseline, so I can't answer that for you, but I can listen.")
_HONEST_ADVICE_ASKS = ("What does your gut tell you?", "What feels right to you?", "Which way are you leaning?")
_CHECK_INS = ("I noticed you've gone quiet.", "You've been quiet for a little while.", "I'm still here with you.")
_CHECK_IN_RECALLS = ("Earlier you said {p}.", "I keep thinking about how {p}.", "You mentioned that {p}.")
_CHECK_IN_ASKS = ("How are you feeling right now?", "Would it help to talk about it?",
                  "Take your time; is there anything you'd like to share?")


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


def _is_question(sentence: str) -> bool:
    return sentence.endswith("?") or (bool(_QUESTION_START.match(sentence)) and not sentence.endswith((".", "!")))


def shift_pronouns(phrase: str) -> str:
    """Swap the speaker's perspective: I → you, my → your, me → you, am → are, and back for "you"."""
    def swap(m: re.Match[str]) -> str:
        word = m.group(0).lower()
        if word != "you":
            return _SHIFT_MAP[word]
        following = re.match(r"\W*(\w[\w']*)", phrase[m.end():])
        starts_clause = m.start() == 0 or phrase[:m.start()].rstrip().endswith((",", ";", "and", "but", "that"))
        is_subject = starts_clause or (following is not None and following.group(1).lower() in _SUBJECT_VERBS)
        return "I" if is_subject else "me"
    return _SHIFT.sub(swap, phrase)


def _clause_start(sentence: str) -> tuple[int, int]:
    """(strength, start) of the main clause: a feeling wins, else the earliest "I ..."/"my ..." (strength 0: none)."""
    feeling = _CLAUSE_LEADS[0].search(sentence)
    if feeling is not None:
        return len(_CLAUSE_LEADS), feeling.start()
    found = [(m.start(), rank) for rank, lead in enumerate(_CLAUSE_LEADS[1:], 1) if (m := lead.search(sentence))]
    if not found:
        return 0, 0
    start, rank = min(found)
    return len(_CLAUSE_LEADS) - rank, start


def key_phrase(text: str) -> str:
    """The main clause of the most personal statement in ``text``, pronouns not yet shifted ('' if none)."""
    best: tuple[tuple[int, int, int], str] | None = None
    for index, sentence in enumerate(_sentences(text.replace("\u2019", "'"))):
        if _is_question(sentence):
            continue
        sentence = _LEAD_FILLERS.sub("", sentence)
        strength, start = _clause_start(sentence)
        score = (strength, len(sentence.split()), -index)
        if best is None or score > best[0]:
            best = score, sentence[start:]
    if best is None:
        return ""
    clause = _LEAD_FILLERS.sub("", best[1].strip())
    cut = _CLAUSE_END.search(clause)
    if cut is not None and len(clause[:cut.start()].split()) >= 3:
        clause = clause[:cut.start()]
    words = clause.strip(" .!?,;:").split()[:MAX_PHRASE_WORDS]
    if len(words) < 2:
        return ""
    first = words[0]
    if first != "I" and (len(first) == 1 or first[1:].islower()):  # sentence case, not a name-like capital
        words[0] = first[0].lower() + first[1:]
    return " ".join(words)


def reflect(text: str) -> str:
    """The key phrase of ``text`` as the agent would say it back ('' when there is none)."""
    return shift_pronouns(key_phrase(text))


def words_valence(text: str) -> float:
    """VADER valence of ``text``, pushed past ±0.4 by news words VADER misses ("I got the job", "nobody")."""
    valence = vader().polarity_scores(text)["compound"]
    for pattern, sign in ((_BAD_NEWS, -1.0), (_GOOD_NEWS, 1.0)):
        for m in pattern.finditer(text):
            if not _NEGATION.search(text[:m.start()]):
                return min(valence, -0.4) if sign < 0 else max(valence, 0.4)
    return valence


@dataclass(frozen=True)
class Reading:
    """What the rules make of the cues: the mood category and the agent emotion that fits it."""
    mood: str
    emotion: str
    valence: float
    arousal: float
    words: float
    smiling: bool


def read_cues(view: BrainView, text: str) -> Reading:
    """Classify the user's state from the fused emotion, face, voice and words of ``text``."""
    if view.text_cue is not None and text and view.text_cue.text.strip() == text:
        words = min(view.text_cue.valence, words_valence(text)) if view.text_cue.valence < 0 else max(
            view.text_cue.valence, words_valence(text))
    else:
        words = words_valence(text) if text else 0.0
    face = view.face
    expression = (face.expression or "").lower() if face is not None else ""
    smiling = face is not None and face.face_present and (
        bool(face.smiling) or expression in _SMILE_EXPRESSIONS or (face.valence or 0.0) > 0.3)
    face_negative = face is not None and face.face_present and (
        expression in _SAD_EXPRESSIONS or (face.valence or 0.0) < -0.3)
    emotion = view.emotion
    label = emotion.label if emotion is not None else ""
    valence = emotion.valence if emotion is not None else words
    arousals = [a for a in (emotion.arousal if emotion else None, view.voice.arousal if view.voice else None)
                if a is not None]
    arousal = max(arousals) if arousals else 0.0

    if smiling and words <= -0.3:
        mood = "masked"
    elif words >= 0.3 and (face_negative or (emotion is not None and emotion.valence <= -0.2)):
        mood = "guarded"
    elif valence <= -0.3 or words <= -0.3 or label in _NEGATIVE_LABELS or face_negative:
        mood = "upset" if label in _AROUSED_LABELS or arousal > 0.3 else "sad"
    elif valence >= 0.3 or words >= 0.3 or label == "happy" or (smiling and words > -0.05):
        mood = "happy"
    else:
        mood = "neutral"
    agent_emotion = _TEMPLATES[mood][3]
    if mood == "happy" and not (smiling or arousal > 0.2 or label in ("happy", "surprised")):
        agent_emotion = "warm"
    return Reading(mood=mood, emotion=agent_emotion, valence=valence, arousal=arousal, words=words, smiling=smiling)


class CueBrain:
    """The rule baseline behind the :class:`dialogue.types.Brain` protocol; deterministic for a seed and inputs.

    Templates rotate per category (a counter per category, offset by ``seed``), so
    consecutive replies of the same kind differ.
    """

    name = "cue"

    def __init__(self, settings: BrainSettings | None = None, policy: PolicySettings | None = None,
                 seed: int = 0) -> None:
        self.settings = settings or BrainSettings()
        self.policy = policy or PolicySettings()
        if not self.policy.backchannel_phrases:
            raise ValueError("PolicySettings.backchannel_phrases is empty: the cue brain needs at least one phrase")
        self.seed = seed
        self._uses: Counter[str] = Counter()

    def _pick(self, category: str, options: tuple[str, ...]) -> str:
        return options[(self.seed + self._uses[category]) % len(options)]

    async def warm_up(self) -> None:
        vader()

    async def aclose(self) -> None:
        return None

    async def respond(self, view: BrainView) -> AsyncIterator[BrainDelta]:
        decision, emotion, sentences = self.decide(view)
        yield BrainDelta(decision=decision)  # type: ignore[arg-type]
        if decision == "wait":
            return
        yield BrainDelta(emotion=emotion)
        for i, sentence in enumerate(sentences):
            await asyncio.sleep(0)
            yield BrainDelta(text=sentence if i == 0 else " " + sentence)

    def decide(self, view: BrainView) -> tuple[str, str, list[str]]:
        """(decision, agent emotion, sentences) for ``view``; advances the template rotation."""
        text = view.transcript.text.replace("\u2019", "'").strip() if view.transcript is not None else ""
        if view.trigger == "backchannel":
            reading = read_cues(view, text)
            phrase = self._use("backchannel", self.policy.backchannel_phrases)
            quiet = {"happy": "warm", "neutral": "neutral"}.get(reading.mood, "calm")
            return "backchannel", quiet, [phrase]
        if view.trigger == "proactive":
            return self._check_in(view)
        if not text or not re.search(r"\w", text):
            return "wait", "neutral", []
        reading = read_cues(view, text)
        logger.debug("cue brain reading %s for %r", reading, text)
        return "respond", *self._reply(view, text, reading)

    def _use(self, category: str, options: tuple[str, ...]) -> str:
        choice = self._pick(category, options)
        self._uses[category] += 1
        return choice

    def _reply(self, view: BrainView, text: str, reading: Reading) -> tuple[str, list[str]]:
        greeting = _GREETING.match(text)
        rest = text[greeting.end():].strip() if greeting else text
        if greeting and (len(rest.split()) < 3 or _SOCIAL_QUESTION.search(rest)):
            sense = "see" if view.face is not None and view.face.face_present else "hear from"
            hello = self._use("greeting", _GREETINGS).format(sense=sense)
            if _SOCIAL_QUESTION.search(rest):
                return "happy", [hello, self._use("how_are_you", _HOW_ARE_YOU), _HOW_ARE_YOU_ASKS[0]]
            return "happy", [hello, self._pick("greeting", _GREETING_ASKS)]
        if _SOCIAL_QUESTION.search(text) and len(text.split()) <= 6:
            return "warm", [self._pick("how_are_you", _HOW_ARE_YOU), self._use("how_are_you", _HOW_ARE_YOU_ASKS)]
        if _FAREWELL.search(text) and len(text.split()) <= 8:
            return "warm", [self._use("farewell", _FAREWELLS)]
        if _THANKS.match(text) and len(text.split()) <= 6:
            return "warm", [self._pick("thanks", _THANKS_REPLIES), self._use("thanks", _THANKS_ASKS)]

        sentences = _sentences(rest)
        questions = [s for s in sentences if _is_question(s)]
        acks, reflections, asks, _ = _TEMPLATES[reading.mood]
        phrase = reflect(rest)
        if questions and not phrase and not any(_FIRST_PERSON.search(q) for q in questions):
            return "apologetic", [self._pick("fact", _HONEST_FACT), self._use("fact", _HONEST_FACT_ASKS)]
        out = [self._pick(reading.mood, acks)]
        if phrase:
            out.append(self._pick(reading.mood, reflections).format(p=phrase))
        if questions:
            out.append(self._pick("advice", _HONEST_ADVICE))
            if not phrase:
                out.append(self._pick("advice", _HONEST_ADVICE_ASKS))
            self._uses["advice"] += 1
        else:
            out.append(self._pick(reading.mood, asks))
        self._uses[reading.mood] += 1
        return reading.emotion, out

    def _check_in(self, view: BrainView) -> tuple[str, str, list[str]]:
        text = view.transcript.text.strip() if view.transcript is not None else ""
        last_user = next((t.text for t in reversed(view.history) if t.role == "user"), "")
        reading = read_cues(view, text or last_user)
        emotion = "calm" if reading.mood == "upset" else "concerned"
        out = [self._pick("check_in", _CHECK_INS)]
        phrase = reflect(text or last_user)
        if phrase:
            out.append(self._pick("check_in", _CHECK_IN_RECALLS).format(p=phrase))
        out.append(self._pick("check_in", _CHECK_IN_ASKS))
        self._uses["check_in"] += 1
        return "respond", emotion, out
