"""The cue brain, specified by examples: what it decides, which emotion it shows and what its reply must say."""
from __future__ import annotations

import asyncio

import pytest

from dialogue.cue_brain import CueBrain, read_cues
from dialogue.settings import BrainSettings, PolicySettings
from dialogue.types import AGENT_EMOTIONS, BrainDelta, BrainView, DialogueTurn
from perception.fusion import EmotionFusion
from perception.sentiment import SentimentAnalyzer
from perception.settings import FusionSettings
from perception.types import Appraisal, EmotionState, FaceCue, TextCue, Transcript, TurnNote, VoiceCue, Word


def emotion(label: str, valence: float, arousal: float, *conflicts: str, masking: bool = False,
            guarded: bool = False, earlier: float | None = None) -> EmotionState:
    turns = (TurnNote(5.0, 0, valence, 1.0),) + ((TurnNote(1.0, 1, earlier, 0.5),) if earlier is not None else ())
    return EmotionState(t=5.0, valence=valence, arousal=arousal, label=label, confidence=0.7, conflicts=conflicts,
                        masking=masking, guarded=guarded, turns=turns)


SMILE = FaceCue(t=5.0, face_present=True, smiling=True, expression="happy", valence=0.6)
FROWN = FaceCue(t=5.0, face_present=True, smiling=False, expression="sad", valence=-0.5)
LOUD = VoiceCue(t=5.0, start=1.0, end=4.0, energy_db=-12.0, pitch_median_hz=220.0, pitch_range_semitones=9.0,
                speaking_rate_wps=3.5, energy_rel=0.5, pitch_rel=0.4, rate_rel=0.3, arousal=0.7)


def view(text: str | None, state: EmotionState | None = None, face: FaceCue | None = None,
         voice: VoiceCue | None = None, **kw: object) -> BrainView:
    transcript = Transcript(text, 1.0, 4.0) if text is not None else None
    return BrainView(t=5.0, transcript=transcript, emotion=state, face=face, voice=voice, **kw)  # type: ignore[arg-type]


def collect(brain: CueBrain, v: BrainView) -> list[BrainDelta]:
    async def run() -> list[BrainDelta]:
        return [d async for d in brain.respond(v)]
    return asyncio.run(run())


def reply(brain: CueBrain, v: BrainView) -> tuple[str | None, str | None, str]:
    deltas = collect(brain, v)
    decision = next((d.decision for d in deltas if d.decision), None)
    mood = next((d.emotion for d in deltas if d.emotion), None)
    return decision, mood, "".join(d.text for d in deltas if d.text)


# (transcript, emotion state, face, voice) -> (decision, agent emotion, words the reply must contain)
TABLE = [
    ("I just got the job I wanted!", emotion("happy", 0.7, 0.5), SMILE, None,
     "respond", "happy", ["you just got the job you wanted"]),
    ("We finally finished the house renovation.", emotion("neutral", 0.35, -0.2), None, None,
     "respond", "warm", ["you finally finished the house renovation"]),
    ("I'm so tired of my job.", emotion("sad", -0.55, -0.3), None, None,
     "respond", "concerned", ["you're so tired of your job"]),
    ("I am furious, my landlord kept my deposit.", emotion("angry", -0.6, 0.7), None, LOUD,
     "respond", "calm", ["you are furious"]),
    ("Honestly I feel like nobody listens to me.", None, None, None,
     "respond", "concerned", ["you feel like nobody listens to you"]),
    ("Um, so my sister is moving to Canada next month.", emotion("neutral", 0.0, 0.0), None, None,
     "respond", "curious", ["your sister is moving to Canada next month", "?"]),
    ("My dog died last week.", emotion("sad", -0.4, -0.1, "face:positive vs words:negative", masking=True), SMILE,
     None, "respond", "concerned", ["smil", "your dog died last week"]),
    ("I'm fine, everything is great.", emotion("sad", -0.4, -0.4, guarded=True), FROWN, None,
     "respond", "concerned", ["seem", "you're fine"]),
    ("My sister got engaged!", emotion("happy", 0.3, 0.2, earlier=-0.7), SMILE, None,
     "respond", "warm", ["good", "your sister got engaged"]),
    ("What are you up to this weekend?", emotion("sad", -0.3, 0.0, earlier=-0.7), None, None,
     "respond", "apologetic", ["simple rule-based baseline"]),
    ("We talked about the garden.", emotion("neutral", -0.1, 0.0, earlier=-0.7), None, None,
     "respond", "calm", ["you talked about the garden", "?"]),
    ("Hello!", None, SMILE, None, "respond", "happy", ["Hello", "see you", "?"]),
    ("Hi, how are you?", None, None, None, "respond", "happy", ["thank", "How are you?"]),
    ("What's the capital of France?", None, None, None, "respond", "apologetic", ["simple rule-based baseline"]),
    ("Should I quit my job?", emotion("anxious", -0.4, 0.5), None, None,
     "respond", "calm", ["you're wondering whether you should quit your job", "simple rule-based baseline", "?"]),
    ("Do you think I should call her?", None, SMILE, None,
     "respond", "warm", ["you're wondering whether you should call her", "?"]),
    ("Thank you so much.", None, None, None, "respond", "warm", ["welcome"]),
    ("Okay, bye!", None, None, None, "respond", "warm", ["Goodbye"]),
]


@pytest.mark.parametrize("text, state, face, voice, decision, agent_emotion, must", TABLE,
                         ids=[row[0] for row in TABLE])
def test_reply_table(text, state, face, voice, decision, agent_emotion, must):
    got_decision, got_emotion, said = reply(CueBrain(), view(text, state, face, voice))
    assert (got_decision, got_emotion) == (decision, agent_emotion), said
    for words in must:
        assert words in said, said
    assert "<" not in said and "{" not in said


def test_replies_differ_across_inputs():
    brain = CueBrain()
    replies = [reply(brain, view(text, state, face, voice))[2] for text, state, face, voice, *_ in TABLE]
    assert len(set(replies)) == len(replies)


def test_the_reply_has_acknowledgement_reflection_and_open_question_streamed_in_pieces():
    deltas = collect(CueBrain(), view("I'm worried about my exam tomorrow.", emotion("anxious", -0.4, 0.5)))
    assert deltas[0].decision == "respond" and deltas[1].emotion in AGENT_EMOTIONS
    pieces = [d.text for d in deltas[2:]]
    assert all(p is not None for p in pieces) and len(pieces) == 3
    assert "you're worried about your exam tomorrow" in pieces[1]
    assert pieces[2].strip().endswith("?")
    assert pieces[1].startswith(" ") and pieces[2].startswith(" ")


def test_consecutive_replies_of_one_kind_rotate_templates():
    brain = CueBrain()
    first = reply(brain, view("I'm so tired of my job.", emotion("sad", -0.5, -0.3)))[2]
    second = reply(brain, view("I'm so tired of my job.", emotion("sad", -0.5, -0.3)))[2]
    assert first != second
    assert "you're so tired of your job" in first and "you're so tired of your job" in second


def test_same_seed_and_inputs_give_the_same_replies_and_seeds_differ():
    inputs = [view("I'm so tired of my job.", emotion("sad", -0.5, -0.3)), view("Hello!"), view("My cat is sick.")]
    a, b, c = CueBrain(seed=3), CueBrain(seed=3), CueBrain(seed=4)
    assert [reply(a, v) for v in inputs] == [reply(b, v) for v in inputs]
    assert [reply(a, v) for v in inputs] != [reply(c, v) for v in inputs]


def test_empty_transcript_waits_without_speaking():
    for text in (None, "", "   ", "..."):
        deltas = collect(CueBrain(), view(text))
        assert deltas == [BrainDelta(decision="wait")]


def test_proactive_check_in_is_gentle_and_recalls_what_was_said():
    history = (DialogueTurn("user", "My mom is in the hospital again.", 1.0), DialogueTurn("agent", "Oh no.", 2.0))
    decision, mood, said = reply(CueBrain(), BrainView(t=20.0, trigger="proactive", emotion=emotion("sad", -0.6, -0.3),
                                                       history=history, silence_s=9.0))
    assert (decision, mood) == ("respond", "concerned")
    assert "your mom is in the hospital again" in said and "quiet" in said and said.endswith("?")
    _, mood, _ = reply(CueBrain(), BrainView(t=20.0, trigger="proactive", emotion=emotion("anxious", -0.5, 0.6)))
    assert mood == "calm"


def test_backchannel_says_one_policy_phrase_in_rotation():
    brain = CueBrain(policy=PolicySettings(backchannel_phrases=("Uh-huh.", "Go on.")))
    said = []
    for _ in range(3):
        deltas = collect(brain, view("and then I", trigger="backchannel"))
        assert deltas[0].decision == "backchannel"
        said.append("".join(d.text for d in deltas if d.text))
    assert said == ["Uh-huh.", "Go on.", "Uh-huh."]


def test_a_stale_text_cue_is_not_used_for_another_transcript():
    stale = TextCue(t=1.0, text="I love this!", valence=0.9, positive=0.8, negative=0.0, neutral=0.2)
    assert reply(CueBrain(), view("My car broke down and I failed the test.", text_cue=stale))[1] == "concerned"
    fresh = TextCue(t=1.0, text="It was a day.", valence=0.8, positive=0.8, negative=0.0, neutral=0.2,
                    appraisal=Appraisal(valence=0.8, categories=("joy",), evidence=("day",)))
    assert reply(CueBrain(), view("It was a day.", text_cue=fresh))[1] == "warm"


def test_empty_backchannel_phrases_are_rejected():
    with pytest.raises(ValueError, match="backchannel_phrases"):
        CueBrain(policy=PolicySettings(backchannel_phrases=()))


def test_the_brain_protocol_lifecycle():
    brain = CueBrain()
    asyncio.run(brain.warm_up())
    asyncio.run(brain.aclose())
    assert brain.name == "cue"


def converse(texts: list[str], face: FaceCue = SMILE) -> list[tuple[str | None, str | None, str]]:
    """The turns through the real word analysis and fusion, as the runtime feeds the brain."""
    from dataclasses import replace

    brain, fusion, history, replies = CueBrain(), EmotionFusion(FusionSettings()), [], []
    for i, text in enumerate(texts):
        t = 10.0 * (i + 1)
        seen = replace(face, t=t - 1.0)
        fusion.add(seen)
        words = SentimentAnalyzer().analyze(text, t)
        state = fusion.add(words)
        replies.append(reply(brain, BrainView(t=t, transcript=Transcript(text, t - 2.0, t), emotion=state, face=seen,
                                              text_cue=words, history=tuple(history))))
        history += [DialogueTurn("user", text, t), DialogueTurn("agent", replies[-1][2], t + 1.0)]
    return replies


CHEER = ("wonderful", "great to hear", "lovely", "congratulations", "celebrate", "!")


@pytest.mark.parametrize("text", [
    "The doctor called about my results.", "I had a really bad day at work.", "My grandmother died this morning.",
    "My wife and I are fighting all the time.", "I can't afford to fix my car.", "I failed my exam.",
    "Haha, they kicked us out of the apartment.", "My friends forgot my birthday.",
])
def test_a_smiling_user_with_sad_news_is_never_congratulated(text):
    (_, mood, said), = converse([text])
    assert mood == "concerned" and "smil" in said.lower()
    assert not any(c in said for c in CHEER), said


def test_sad_news_two_turns_ago_colours_a_neutral_turn_and_tempers_good_news():
    replies = converse(["My mom was diagnosed with cancer.", "We talked about the garden.",
                        "My cousin had a baby last week!"], face=FaceCue(t=0.0, face_present=True, expression="neutral",
                                                                         expression_confidence=0.9, valence=0.07))
    assert [mood for _, mood, _ in replies] == ["concerned", "calm", "warm"]
    assert "good news" in replies[2][2] and not any(c in replies[2][2] for c in CHEER)


def test_a_personal_question_gets_a_reflective_supportive_answer_not_an_exclamation():
    for text in ("Do you think I should quit?", "Should I move closer to my parents?", "Am I overreacting?"):
        (_, mood, said), = converse([text])
        assert mood in ("warm", "calm", "concerned") and "!" not in said
        assert "you're wondering whether" in said and said.endswith("?")


def test_a_pleasant_remark_is_welcomed_but_not_congratulated():
    (_, mood, said), = converse(["I've been learning to play the guitar."])
    assert mood == "warm" and not any(c in said for c in CHEER)


def test_read_cues_uses_the_runtimes_word_cue_for_the_same_text():
    cue = SentimentAnalyzer().analyze("I got the job!", 1.0)
    assert read_cues(view("I got the job!", text_cue=cue, face=SMILE), "I got the job!").mood == "happy"


def misheard(text: str, *unsure: str, state: EmotionState | None = None) -> BrainView:
    """``text`` as the recognizer gives it: the ``unsure`` words at probability 0.2, the others at 0.95."""
    words = tuple(Word(w, 1.0 + i * 0.3, 1.3 + i * 0.3, 0.2 if w.strip(".,?!").lower() in unsure else 0.95)
                  for i, w in enumerate(text.split()))
    return BrainView(t=5.0, transcript=Transcript(text, 1.0, 4.0, words), emotion=state)


def test_a_reflection_with_a_misheard_word_is_not_said_and_another_move_is_made():
    sad = emotion("sad", -0.5, -0.2)
    text = "My manager created a size of my report in front of everyone."
    _, mood, said = reply(CueBrain(), misheard(text, "created", "a", "size", state=sad))
    assert "created" not in said and "size" not in said and mood == "concerned"
    assert said.endswith("?") and len(said.split(". ")) >= 2  # acknowledged and asked, not left silent
    assert "created a size" in reply(CueBrain(), misheard(text, state=sad))[2]  # heard surely, it is said back


def test_a_sure_sentence_is_reflected_when_the_key_one_was_misheard():
    text = "My manager created a size of my report in front of everyone. I felt so small."
    said = reply(CueBrain(), misheard(text, "created", "a", "size", state=emotion("sad", -0.5, -0.2)))[2]
    assert "you felt so small" in said and "size" not in said


def test_a_misheard_personal_question_is_answered_without_its_reflection():
    said = reply(CueBrain(), misheard("Should I quilt my job?", "quilt", state=emotion("anxious", -0.4, 0.5)))[2]
    assert "quilt" not in said and "simple rule-based baseline" in said


def test_a_mostly_misheard_turn_is_asked_for_again_gently_when_the_mood_is_heavy():
    text = "The bet sad their was nothing left."
    unsure = ("the", "bet", "sad", "their", "was")
    heavy = [reply(CueBrain(seed=s), misheard(text, *unsure, state=emotion("sad", -0.6, -0.3))) for s in range(3)]
    light = [reply(CueBrain(seed=s), misheard(text, *unsure, state=emotion("neutral", 0.1, 0.0))) for s in range(3)]
    assert len({said for *_, said in heavy}) == 3 and len({said for *_, said in light}) == 3
    for decision, mood, said in heavy:
        assert (decision, mood) == ("respond", "concerned") and said.endswith("?") and "bet" not in said
        assert "sorry" in said.lower() or "listening" in said
    for decision, mood, said in light:
        assert (decision, mood) == ("respond", "warm") and said.endswith("?")
    assert not {said for *_, said in heavy} & {said for *_, said in light}


def test_the_unsure_thresholds_are_settings():
    text, unsure = "Eye hiked Ted the lake.", ("eye", "hiked", "ted")
    asks = reply(CueBrain(), misheard(text, *unsure))[2]
    assert "catch" in asks or "missed" in asks or "make that out" in asks
    never_asks = reply(CueBrain(BrainSettings(unsure_share=1.0)), misheard(text, *unsure))[2]
    assert never_asks != asks and "hiked" not in never_asks
    trusting = reply(CueBrain(BrainSettings(unsure_below=0.0)), misheard("My manager created a size.", "created"))[2]
    assert "created a size" in trusting
