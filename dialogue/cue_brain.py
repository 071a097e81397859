"""The ``cue`` brain: a transparent rule policy over the fused cues with rotating reply templates (a baseline, no LLM).

A reply to the end of a user turn is an acknowledgement fitting the user's mood, a
reflection of their key phrase with the pronouns shifted ("I'm tired of my job" →
"you're tired of your job"), and an open question; a personal question ("Should I
quit?") gets a reflection of the question and a supportive, honest answer. The mood
comes from the emotion state over the conversation: what the words say happened (the
appraisal), earlier turns, the face and the voice. A smile over sad words is masking,
never joy, and no reply is cheerful while the recent conversation is negative. A word the
recognizer was unsure of is never said back, and an utterance mostly unsure is asked for again.
"""
from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter
from dataclasses import dataclass
from typing import AsyncIterator

from dialogue.unsure import repeats, unsure_share, unsure_words
from dialogue.reflection import is_question, reflect, reflect_question, sentences
from dialogue.settings import BrainSettings, PolicySettings
from dialogue.types import Acknowledgement, BrainDelta, BrainView
from perception.appraisal import appraise
from perception.sentiment import SentimentAnalyzer
from perception.types import TextCue

logger = logging.getLogger(__name__)

_FIRST_PERSON = re.compile(r"\b(i|i'm|i've|i'll|i'd|me|my|mine|myself|we|us|our)\b", re.I)
_SOCIAL_QUESTION = re.compile(r"\bhow (are|r) (you|u)\b|\bhow('s| is) it going\b|\bhow have you been\b", re.I)
_GREETING = re.compile(r"^(hi|hello|hey|hiya|howdy|good (morning|afternoon|evening)|greetings)\b[\s,!.]*(there\b)?[\s,!.]*",
                       re.I)
_FAREWELL = re.compile(r"\b(bye|goodbye|good night|see you|talk to you later|gotta go|have to go)\b", re.I)
_THANKS = re.compile(r"^(thanks|thank you|thank u|cheers)\b", re.I)
_ASKS_US = re.compile(r"\b(do|would) you think\b", re.I)

RECENT_SHARE = 0.25
"""An earlier turn still counts as recent while it keeps this share of its weight (two turns back by default)."""
NEGATIVE_TURN = -0.3
_NEGATIVE_LABELS = frozenset({"sad", "angry", "anxious", "tired"})
_AROUSED_LABELS = frozenset({"angry", "anxious"})
_SMILE_EXPRESSIONS = frozenset({"happy", "smile", "smiling", "joy", "happiness"})
_SAD_EXPRESSIONS = frozenset({"sad", "angry", "fear", "disgust", "anxious", "contempt", "sadness", "anger"})
_HEAVY_MOODS = frozenset({"sad", "upset"})
_LIGHT_MOODS = frozenset({"happy", "pleased", "neutral"})
_POSITIVE_EVENTS = frozenset({"good_news", "joy", "relief"})
"""A reply is glad only when the words say something good happened or was felt, not for a friendly tone alone."""

# Per mood: (acknowledgements, reflections with {p}, open questions, the agent's emotion).
_TEMPLATES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], str]] = {
    "happy": (("That's wonderful news!", "Oh, that's great to hear!", "How lovely!"),
              ("So {p}!", "It sounds like {p}.", "I love hearing that {p}."),
              ("How are you going to celebrate?", "What part of it makes you happiest?",
               "How did it feel when it happened?"), "happy"),
    "pleased": (("That's nice to hear.", "I'm glad to hear that.", "That sounds nice."),
                ("So {p}.", "It sounds like {p}.", "I like hearing that {p}."),
                ("What do you enjoy most about it?", "How did that come about?", "What's been the best part?"),
                "warm"),
    "tempered": (("That's some good news, at least.", "I'm glad there's something good in all this.",
                  "That's a bit of good news amid everything."),
                 ("It sounds like {p}.", "So {p}.", "I hear that {p}."),
                 ("How are you feeling about it, with everything else going on?", "What does it mean for you right now?",
                  "How are you holding up overall?"), "warm"),
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
                "I see a smile, though what you're going through sounds heavy.",
                "You're keeping a brave face, but this sounds difficult."),
               ("It sounds like {p}.", "I hear that {p}.", "So {p}."),
               ("How are you really feeling about it?", "Is it weighing on you more than it shows?",
                "What's it like for you underneath?"), "concerned"),
    "guarded": (("You say it's okay, but you seem a little down.",
                 "Your words sound fine, though you seem a bit low.",
                 "It sounds alright, but I sense it might not be."),
                ("It sounds like {p}.", "I hear that {p}.", "So {p}."),
                ("How are you really doing?", "Is something else on your mind?",
                 "Do you want to talk about how it really feels?"), "concerned"),
    "gentle": (("Okay, I'm with you.", "Sure, we can talk about that.", "I'm here."),
               ("So {p}.", "It sounds like {p}.", "You're saying {p}."),
               ("How are you holding up, with everything going on?", "How are you feeling right now?",
                "Is what you told me earlier still on your mind?"), "calm"),
    "neutral": (("I see.", "Okay, I'm with you.", "Thanks for telling me."),
                ("So {p}.", "It sounds like {p}.", "You're saying {p}."),
                ("Can you tell me more?", "How do you feel about that?", "What happened next?"), "curious"),
}
_QUESTION_ACKS = {
    "heavy": ("That's a hard thing to be weighing.", "That's a big question, and it makes sense you're asking it.",
              "That sounds like a tough decision."),
    "light": ("That's a good question.", "Let's think about it together.", "That's worth thinking through."),
}
_QUESTION_REFLECTIONS = ("It sounds like {p}.", "So {p}.", "I hear that {p}.")
_GREETINGS = ("Hello! It's good to {sense} you.", "Hi there! I'm glad you're here.", "Hey! Nice to {sense} you.")
_GREETING_ASKS = ("How are you feeling today?", "How has your day been?", "What's on your mind today?")
_HOW_ARE_YOU = ("I'm doing well, thank you for asking.", "I'm good, thanks for asking.", "I'm fine, thank you.")
_HOW_ARE_YOU_ASKS = ("How are you?", "How about you?", "And how are you feeling?")
_FAREWELLS = ("Goodbye! It was lovely talking with you.", "Take care! I'm here whenever you want to talk.",
              "Bye for now, and look after yourself.")
_GENTLE_FAREWELLS = ("Take care of yourself. I'm here whenever you want to talk.",
                     "Goodbye for now, and be gentle with yourself.", "Look after yourself; I'm here if you need me.")
_THANKS_REPLIES = ("You're very welcome.", "Anytime, I'm glad to be here.", "Of course, happy to listen.")
_THANKS_ASKS = ("Is there anything else on your mind?", "How are you feeling now?", "What else is going on?")
_HONEST_FACT = ("Good question, but I'm a simple rule-based baseline, so I can't look up facts or answer that.",
                "To be honest, I'm only a simple rule-based baseline and can't answer questions like that.",
                "I wish I could help, but I'm a simple rule-based baseline without real knowledge.")
_HONEST_FACT_ASKS = ("What got you wondering about it?", "Is there something behind the question you'd like to talk about?",
                     "What would you do with the answer?")
_HONEST_ADVICE = ("I'm only a simple rule-based baseline, so I can't decide for you, but what does your gut tell you?",
                  "As a simple rule-based baseline I can't give real advice, but what feels right to you?",
                  "I'm a simple rule-based baseline, so I can't answer that for you, but which way are you leaning?")
_CHECK_INS = ("I noticed you've gone quiet.", "You've been quiet for a little while.", "I'm still here with you.")
_CHECK_IN_RECALLS = ("Earlier you said {p}.", "I keep thinking about how {p}.", "You mentioned that {p}.")
_CHECK_IN_ASKS = ("How are you feeling right now?", "Would it help to talk about it?",
                  "Take your time; is there anything you'd like to share?")
_ASK_AGAIN = {
    "light": ("Sorry, I didn't quite catch that. Could you say it again?",
              "I missed some of that. Could you say it once more?",
              "Sorry, I couldn't make that out. What did you say?"),
    "gentle": ("I'm sorry, I didn't quite catch that, and I want to understand. Could you say it again?",
               "I'm listening, but I missed some of what you said. Would you say it once more, in your own time?",
               "Sorry, I couldn't make all of that out. Could you tell me again?"),
}


def _words_cue(view: BrainView, text: str) -> TextCue:
    """The turn's word cue: the runtime's when it is for this text, else the same analysis made here."""
    if view.text_cue is not None and view.text_cue.text.replace("\u2019", "'").strip() == text:
        return view.text_cue
    return SentimentAnalyzer().analyze(text, view.t)


def _sure_reflection(text: str, phrase: str, unsure: tuple[str, ...]) -> str:
    """``phrase`` (the reflection of ``text``) unless it repeats an unsure word; then the first sentence's reflection
    that repeats none ('' when none does): a misheard word is never said back."""
    if not repeats(phrase, unsure):
        return phrase
    return next((p for s in sentences(text) if (p := reflect(s)) and not repeats(p, unsure)), "")


@dataclass(frozen=True)
class Reading:
    """What the rules make of the cues: the mood category, the agent emotion that fits it, and the evidence used."""
    mood: str
    emotion: str
    valence: float
    arousal: float
    words: float
    smiling: bool
    recent_negative: bool = False

    @property
    def light(self) -> bool:
        """A light mood, and nothing heavy said lately: a reply may be glad or casual."""
        return self.mood in _LIGHT_MOODS and not self.recent_negative


def read_cues(view: BrainView, text: str) -> Reading:
    """Classify the user's state from the conversation's emotion state, the face, the voice and the words of ``text``."""
    cue = _words_cue(view, text) if text else None
    words = cue.valence if cue is not None else 0.0
    categories = cue.appraisal.categories if cue is not None else ()
    face = view.face
    expression = (face.expression or "").lower() if face is not None else ""
    smiling = face is not None and face.face_present and (
        bool(face.smiling) or expression in _SMILE_EXPRESSIONS or (face.valence or 0.0) > 0.3)
    face_negative = face is not None and face.face_present and (
        expression in _SAD_EXPRESSIONS or (face.valence or 0.0) < -0.3)
    state = view.emotion
    label = state.label if state is not None else ""
    valence = state.valence if state is not None else words
    arousals = [a for a in (state.arousal if state else None, view.voice.arousal if view.voice else None)
                if a is not None]
    arousal = max(arousals) if arousals else 0.0
    recent_negative = state is not None and any(
        n.turns_ago >= 1 and n.weight >= RECENT_SHARE and n.valence <= NEGATIVE_TURN for n in state.turns)
    masking = state.masking if state is not None else smiling and words <= -0.2
    guarded = state.guarded if state is not None else face_negative and words >= 0.3

    if masking:
        mood = "masked"
    elif guarded:
        mood = "guarded"
    elif words <= -0.25 or (face_negative and words < 0.3) or (
            (valence <= -0.3 or label in _NEGATIVE_LABELS) and not recent_negative):
        # What is said or shown now; a state darkened only by earlier turns gets the gentle replies below.
        aroused = label in _AROUSED_LABELS or arousal > 0.3 or "anger" in categories
        mood = "upset" if aroused else "sad"
    elif words >= 0.3 and _POSITIVE_EVENTS & set(categories):
        news = "good_news" in categories  # congratulations are for news, not for a pleasant remark
        mood = "tempered" if recent_negative else "happy" if news else "pleased"
    elif recent_negative or (state is not None and state.conversation_valence <= NEGATIVE_TURN):
        mood = "gentle"
    else:
        mood = "neutral"
    agent_emotion = _TEMPLATES[mood][3]
    if mood == "happy" and not (smiling or arousal > 0.2 or label in ("happy", "surprised")):
        agent_emotion = "warm"
    elif mood == "neutral" and smiling:
        agent_emotion = "warm"
    return Reading(mood=mood, emotion=agent_emotion, valence=valence, arousal=arousal, words=words, smiling=smiling,
                   recent_negative=recent_negative)


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
        SentimentAnalyzer().analyze("warming up", 0.0)

    async def aclose(self) -> None:
        return None

    async def respond(self, view: BrainView) -> AsyncIterator[BrainDelta]:
        decision, emotion, sentences_out = self.decide(view)
        yield BrainDelta(decision=decision)  # type: ignore[arg-type]
        if decision == "wait":
            return
        yield BrainDelta(emotion=emotion)
        for i, sentence in enumerate(sentences_out):
            await asyncio.sleep(0)
            yield BrainDelta(text=sentence if i == 0 else " " + sentence)

    def decide(self, view: BrainView) -> tuple[str, str, list[str]]:
        """(decision, agent emotion, sentences) for ``view``; advances the template rotation."""
        text = view.transcript.text.replace("\u2019", "'").strip() if view.transcript is not None else ""
        if view.trigger == "backchannel":
            reading = read_cues(view, text)
            phrase = self._use("backchannel", self.policy.backchannel_phrases)
            quiet = {"happy": "warm", "pleased": "warm", "neutral": "neutral"}.get(reading.mood, "calm")
            return "backchannel", quiet, [phrase]
        if view.trigger == "proactive":
            return self._check_in(view)
        if not text or not re.search(r"\w", text):
            return "wait", "neutral", []
        if unsure_share(view.transcript, self.settings.unsure_below) > self.settings.unsure_share:
            return "respond", *self._ask_again(read_cues(view, ""))
        reading = read_cues(view, text)
        logger.debug("cue brain reading %s for %r", reading, text)
        return "respond", *self._reply(view, text, reading)

    def acknowledgement(self, view: BrainView) -> Acknowledgement | None:
        """The opening a reply of this mood would have ("I'm so sorry.", "That's wonderful news!"), to say at once
        while a slower brain composes the rest; None when there is nothing to acknowledge."""
        text = view.transcript.text.replace("\u2019", "'").strip() if view.transcript is not None else ""
        if not re.search(r"\w", text):
            return None
        reading = read_cues(view, text)
        if any(is_question(s) for s in sentences(text)):
            heavy = reading.mood in _HEAVY_MOODS or reading.mood in ("masked", "guarded")
            return Acknowledgement(self._use("question", _QUESTION_ACKS["heavy" if heavy else "light"]),
                                   "calm" if heavy else "warm")
        acks, _, _, emotion = _TEMPLATES[reading.mood]
        return Acknowledgement(self._use(f"ack:{reading.mood}", acks), reading.emotion or emotion)

    def _use(self, category: str, options: tuple[str, ...]) -> str:
        choice = self._pick(category, options)
        self._uses[category] += 1
        return choice

    def _reply(self, view: BrainView, text: str, reading: Reading) -> tuple[str, list[str]]:
        light = reading.light
        greeting = _GREETING.match(text)
        rest = text[greeting.end():].strip() if greeting else text
        if greeting and (len(rest.split()) < 3 or _SOCIAL_QUESTION.search(rest)):
            sense = "see" if view.face is not None and view.face.face_present else "hear from"
            hello = self._use("greeting", _GREETINGS).format(sense=sense)
            emotion = "happy" if light else "warm"
            if _SOCIAL_QUESTION.search(rest):
                return emotion, [hello, self._use("how_are_you", _HOW_ARE_YOU), _HOW_ARE_YOU_ASKS[0]]
            return emotion, [hello, self._pick("greeting", _GREETING_ASKS)]
        if _SOCIAL_QUESTION.search(text) and len(text.split()) <= 6:
            return "warm", [self._pick("how_are_you", _HOW_ARE_YOU), self._use("how_are_you", _HOW_ARE_YOU_ASKS)]
        if _FAREWELL.search(text) and len(text.split()) <= 8:
            return "warm", [self._use("farewell", _FAREWELLS if light else _GENTLE_FAREWELLS)]
        if _THANKS.match(text) and len(text.split()) <= 6:
            return "warm", [self._pick("thanks", _THANKS_REPLIES), self._use("thanks", _THANKS_ASKS)]

        questions = [s for s in sentences(rest) if is_question(s)]
        phrase = reflect(rest)
        personal = [q for q in questions if _FIRST_PERSON.search(q) or (
            (_ASKS_US.search(q) or appraise(q).categories) and reflect_question(q))]
        if questions and not phrase and not personal:
            return "apologetic", [self._pick("fact", _HONEST_FACT), self._use("fact", _HONEST_FACT_ASKS)]
        unsure = unsure_words(view.transcript, self.settings.unsure_below)
        phrase = _sure_reflection(rest, phrase, unsure)
        if personal:
            return self._answer_question(rest, phrase, reading, unsure)
        acks, reflections, asks, _ = _TEMPLATES[reading.mood]
        out = [self._pick(reading.mood, acks)]
        if phrase:
            out.append(self._pick(reading.mood, reflections).format(p=phrase))
        out.append(self._pick(reading.mood, asks))
        self._uses[reading.mood] += 1
        return reading.emotion, out

    def _answer_question(self, text: str, phrase: str, reading: Reading,
                         unsure: tuple[str, ...]) -> tuple[str, list[str]]:
        """A personal question gets no exclamation: a calm acknowledgement, its reflection, honest support."""
        if reading.mood in ("masked", "guarded"):
            ack = self._pick(reading.mood, _TEMPLATES[reading.mood][0])
        else:
            ack = self._pick("question", _QUESTION_ACKS["heavy" if reading.mood in _HEAVY_MOODS else "light"])
        out = [ack]
        if phrase:
            out.append(self._pick(reading.mood, _TEMPLATES[reading.mood][1]).format(p=phrase).replace("!", "."))
        elif (question := reflect_question(text)) and not repeats(question, unsure):
            out.append(self._pick("question", _QUESTION_REFLECTIONS).format(p=question))
        out.append(self._pick("advice", _HONEST_ADVICE))
        for category in ("question", "advice", reading.mood):
            self._uses[category] += 1
        emotion = {"happy": "warm", "neutral": "warm", "pleased": "warm"}.get(reading.mood, reading.emotion)
        return emotion, out

    def _ask_again(self, reading: Reading) -> tuple[str, list[str]]:
        """Most words were unsure: say so and ask again, gently while the conversation is heavy."""
        if reading.light:
            return "warm", [self._use("ask_again", _ASK_AGAIN["light"])]
        return reading.emotion, [self._use("ask_again", _ASK_AGAIN["gentle"])]

    def _check_in(self, view: BrainView) -> tuple[str, str, list[str]]:
        text = view.transcript.text.strip() if view.transcript is not None else ""
        last_user = next((t.text for t in reversed(view.history) if t.role == "user"), "")
        reading = read_cues(view, text or last_user)
        emotion = "calm" if reading.mood == "upset" else "concerned"
        out = [self._pick("check_in", _CHECK_INS)]
        said = text or last_user
        phrase = _sure_reflection(said, reflect(said), unsure_words(view.transcript, self.settings.unsure_below))
        if phrase:
            out.append(self._pick("check_in", _CHECK_IN_RECALLS).format(p=phrase))
        out.append(self._pick("check_in", _CHECK_IN_ASKS))
        self._uses["check_in"] += 1
        return "respond", emotion, out
