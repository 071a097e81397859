"""The brain against a real engine: llama-cpp-python's server with the bundled SmolLM2, started by the test suite."""
from __future__ import annotations

import asyncio
from dataclasses import replace

import numpy as np

from dialogue.brains import make_brain
from dialogue.encoding import encode_jpeg
from dialogue.llm_brain import LlmBrain
from dialogue.settings import BrainSettings
from dialogue.types import AGENT_EMOTIONS, DECISIONS, BrainDelta, BrainView, DialogueTurn, Keyframe
from perception.types import Transcript
from tests.llama_server import MODEL_ALIAS, LlamaServer

TURNS = ("Hi there, I just got back from a long day at work.", "My manager criticized my report in front of everyone.",
         "I don't know if I should talk to him about it.")


def settings(server: LlamaServer, **kw: object) -> BrainSettings:
    base = BrainSettings(backend="openai", engine="llama.cpp", model=MODEL_ALIAS, base_url=server.base_url,
                         send_images=False, send_audio=False, max_new_tokens=48, temperature=0.7,
                         first_text_timeout_s=5.0, timeout_s=20.0)
    return replace(base, **kw)  # type: ignore[arg-type]


def converse(brain: LlmBrain, turns: tuple[str, ...] = TURNS) -> list[list[BrainDelta]]:
    """Each turn answered in order, the history growing as the runtime grows it (what was said, both sides)."""
    async def go() -> list[list[BrainDelta]]:
        await brain.warm_up()
        history: list[DialogueTurn] = []
        answers = []
        t = 0.0
        for said in turns:
            t += 5.0
            view = BrainView(t=t, transcript=Transcript(said, t - 3.0, t - 0.5), history=tuple(history),
                             cue_summary="face: visible, neutral")
            deltas = [d async for d in brain.respond(view)]
            answers.append(deltas)
            history.append(DialogueTurn("user", said, t - 0.5))
            reply = "".join(d.text for d in deltas if d.text)
            emotion = next((d.emotion for d in deltas if d.emotion), None)
            if reply:
                history.append(DialogueTurn("agent", reply, t + 2.0, emotion=emotion))
        await brain.aclose()
        return answers
    return asyncio.run(go())


def assert_model_answered(answers: list[list[BrainDelta]]) -> None:
    for deltas in answers:
        assert not [d.note for d in deltas if d.note]  # no fallback, no repair
        assert [d.decision for d in deltas if d.decision][0] in DECISIONS
        emotions = [d.emotion for d in deltas if d.emotion]
        assert len(emotions) == 1 and emotions[0] in AGENT_EMOTIONS


def test_every_turn_is_answered_by_the_model_in_the_grammars_format(llama_server: LlamaServer) -> None:
    brain = make_brain(settings(llama_server, structured="grammar"))
    assert isinstance(brain, LlmBrain)
    answers = converse(brain)
    assert_model_answered(answers)
    assert brain.speed.measured  # the warm-up and the turns timed the engine


def test_every_turn_is_answered_through_a_json_schema(llama_server: LlamaServer) -> None:
    assert_model_answered(converse(make_brain(settings(llama_server, structured="json"))))  # type: ignore[arg-type]


def test_later_turns_reuse_the_servers_cache(llama_server: LlamaServer) -> None:
    brain = make_brain(settings(llama_server))
    assert isinstance(brain, LlmBrain)
    converse(brain, TURNS[:2])
    assert brain.last_prefill_tokens is not None and brain.last_prefill_tokens < 150


def test_image_parts_to_a_text_model_fall_back_with_the_fix_named(llama_server: LlamaServer) -> None:
    brain = make_brain(settings(llama_server, send_images=True))
    frame = Keyframe(t=1.0, jpeg=encode_jpeg(np.full((32, 32, 3), 120, np.uint8)), width=32, height=32)

    async def go() -> list[BrainDelta]:
        view = BrainView(t=2.0, transcript=Transcript("Hello there.", 0.5, 1.5), keyframes=(frame,))
        try:
            return [d async for d in brain.respond(view)]
        finally:
            await brain.aclose()

    deltas = asyncio.run(go())
    note = deltas[0].note or ""
    assert note.startswith("fallback:") and "empty body" in note and "brain.send_images = false" in note
    assert "".join(d.text for d in deltas if d.text)  # the cue brain answered
