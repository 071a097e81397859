"""LlmBrain over a real chat-completions SSE server: streamed deltas, hidden thinking, and the fallback brain."""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace
from typing import AsyncIterator

import numpy as np
import pytest

from dialogue.brains import make_brain
from dialogue.cue_brain import CueBrain
from dialogue.encoding import encode_jpeg
from dialogue.llm_brain import LlmBrain
from dialogue.openai_backend import OpenAIGenerator
from dialogue.settings import BrainSettings, PolicySettings
from dialogue.transformers_backend import TransformersGenerator
from dialogue.engine_speed import EngineSpeed
from dialogue.types import Acknowledgement, BrainDelta, BrainView, DialogueTurn, GenerationStats, Keyframe, MultimodalPrompt
from perception.types import Transcript
from tests.dialogue.chat_server import ChatServer, Reply, free_port

SETTINGS = BrainSettings(backend="openai", model="tiny-omni", timeout_s=2.0, retries=1, retry_backoff_s=0.01,
                         api_key_env="HS_TEST_UNSET_KEY", structured="none", reasoning="hidden")
VIEW = BrainView(
    t=3.0,
    transcript=Transcript("I'm so tired of work lately.", 0.5, 2.6),
    utterance_audio=np.zeros(16000, np.int16),
    keyframes=(Keyframe(t=2.0, jpeg=encode_jpeg(np.full((48, 64, 3), 90, np.uint8)), width=64, height=48),),
    cue_summary="face: tired; voice: low energy",
)
TAGGED = ("<think>They sound", " tired; be gentle.</think>", "<decision>respond</decision>",
          "<emotion>warm</emotion>", "<response>That sounds", " exhausting.", " Do you want", " to talk?</response>")


def _run(brain: LlmBrain, view: BrainView = VIEW) -> list[tuple[float, BrainDelta]]:
    async def go() -> list[tuple[float, BrainDelta]]:
        try:
            return [(time.perf_counter(), d) async for d in brain.respond(view)]
        finally:
            await brain.aclose()
    return asyncio.run(go())


def _brain(base_url: str, settings: BrainSettings = SETTINGS, fallback: bool = True) -> LlmBrain:
    return LlmBrain(OpenAIGenerator(settings, base_url=base_url), settings, CueBrain(settings) if fallback else None)


def _cue_answer() -> list[BrainDelta]:
    return _cue_answers(1)[0]


def _cue_answers(turns: int) -> list[list[BrainDelta]]:
    """What one cue brain says over that many turns (it varies its wording from turn to turn)."""
    async def go() -> list[list[BrainDelta]]:
        brain = CueBrain(SETTINGS)
        return [[d async for d in brain.respond(VIEW)] for _ in range(turns)]
    return asyncio.run(go())


def test_streams_decision_emotion_and_text_and_keeps_thinking_out_of_speech() -> None:
    with ChatServer(Reply(chunks=TAGGED, interval_s=0.0)) as srv:
        brain = _brain(srv.base_url)
        deltas = [d for _, d in _run(brain)]
    assert deltas[0] == BrainDelta(decision="respond")
    assert deltas[1] == BrainDelta(emotion="warm")
    text = "".join(d.text for d in deltas if d.text)
    assert text == "That sounds exhausting. Do you want to talk?"
    assert not any(d.text and ("tired" in d.text or "gentle" in d.text) for d in deltas)
    assert not any(d.note for d in deltas)
    assert "They sound tired; be gentle." in brain.thinking
    sent = srv.seen[0].body["messages"]
    assert sent[0]["role"] == "system" and "<think>" in sent[0]["content"]
    assert "I'm so tired of work lately." in json.dumps(sent[-1])


def test_first_text_arrives_before_the_server_finishes_the_reply() -> None:
    with ChatServer(Reply(chunks=TAGGED, interval_s=0.1)) as srv:
        timed = _run(_brain(srv.base_url))
    first_text = next(t for t, d in timed if d.text)
    done = srv.seen[0].done_time
    assert done is not None
    assert first_text < done - 0.2  # ~0.4 s of reply still to come when speech could start


def test_timeout_falls_back_to_the_cue_brain() -> None:
    settings = replace(SETTINGS, timeout_s=0.3)
    with ChatServer(Reply(hang_s=30.0)) as srv:
        t0 = time.perf_counter()
        deltas = [d for _, d in _run(_brain(srv.base_url, settings))]
        elapsed = time.perf_counter() - t0
    assert deltas[0].note is not None and deltas[0].note.startswith("fallback: ")
    assert "no data for 0.3 s" in deltas[0].note
    assert deltas[1:] == _cue_answer()
    assert any(d.decision for d in deltas[1:])
    assert elapsed < 3.0


def test_nothing_listening_falls_back() -> None:
    deltas = [d for _, d in _run(_brain(f"http://127.0.0.1:{free_port()}/v1"))]
    assert deltas[0].note is not None and "fallback: " in deltas[0].note and "ConnectError" in deltas[0].note
    assert deltas[1:] == _cue_answer()


def test_an_empty_reply_falls_back() -> None:
    with ChatServer(Reply(chunks=(), interval_s=0.0)) as srv:
        deltas = [d for _, d in _run(_brain(srv.base_url))]
    assert deltas[0].note == (f"fallback: {srv.base_url}/chat/completions: the model answered with no decision "
                              "and no response (empty reply)")
    assert deltas[1:] == _cue_answer()


def test_a_reply_that_only_thinks_falls_back() -> None:
    with ChatServer(Reply(chunks=("<think>hmm, what to say", "</think>"), interval_s=0.0)) as srv:
        brain = _brain(srv.base_url)
        deltas = [d for _, d in _run(brain)]
    assert deltas[0].note == (f"fallback: {srv.base_url}/chat/completions: the model answered with no decision "
                              "and no response")
    assert deltas[1:] == _cue_answer()
    assert brain.thinking == "hmm, what to say"


def test_a_rejected_request_falls_back_naming_the_status() -> None:
    with ChatServer(Reply(status=400, error="audio input is not supported by this model")) as srv:
        deltas = [d for _, d in _run(_brain(srv.base_url))]
    assert deltas[0].note is not None
    assert "HTTP 400: audio input is not supported by this model" in deltas[0].note
    assert len(srv.seen) == 1


def test_a_failure_after_speech_started_ends_the_answer_without_fallback() -> None:
    lines = tuple("data: " + json.dumps({"choices": [{"delta": {"content": c}}]}) for c in TAGGED[2:6])
    with ChatServer(Reply(lines=lines + ("data: {broken",), interval_s=0.0)) as srv:
        deltas = [d for _, d in _run(_brain(srv.base_url))]
    texts = [d.text for d in deltas if d.text]
    assert "".join(texts).startswith("That sounds")
    assert [d.decision for d in deltas if d.decision] == ["respond"]  # the cue brain did not answer too
    assert deltas[-1].note is not None and deltas[-1].note.startswith("error: ") and "malformed SSE" in deltas[-1].note


def test_without_a_fallback_a_failure_is_only_a_note() -> None:
    deltas = [d for _, d in _run(_brain(f"http://127.0.0.1:{free_port()}/v1", fallback=False))]
    assert len(deltas) == 1 and deltas[0].note is not None and deltas[0].note.startswith("fallback: ")


def test_make_brain_builds_each_backend() -> None:
    assert isinstance(make_brain(BrainSettings(backend="cue")), CueBrain)
    remote = make_brain(SETTINGS)
    assert isinstance(remote, LlmBrain)
    assert isinstance(remote.generator, OpenAIGenerator) and isinstance(remote.fallback, CueBrain)
    assert remote.name == "llm:openai"
    assert make_brain(replace(SETTINGS, fallback="none")).fallback is None  # type: ignore[attr-defined]
    local = make_brain(BrainSettings(backend="transformers", model="/nonexistent/omni", structured="none"))
    assert isinstance(local, LlmBrain) and isinstance(local.generator, TransformersGenerator)
    assert local.generator.model is None  # nothing loads until warm-up or the first answer
    asyncio.run(remote.aclose())


def test_make_brain_rejects_an_unknown_backend() -> None:
    with pytest.raises(ValueError, match="brain.backend must be one of"):
        make_brain(BrainSettings(backend="gpt-in-a-box"))


# ---- failures and the stream watchdog -----------------------------------------------------------------------------

class Scripted:
    """A TextGenerator playing a script: strings are streamed, a number is a pause (s), an exception is raised."""

    name = "scripted"
    target = "scripted://model"

    def __init__(self, *script: str | float | Exception) -> None:
        self.script = script
        self.closed = 0

    async def stream(self, prompt: object) -> AsyncIterator[str]:
        try:
            for step in self.script:
                if isinstance(step, Exception):
                    raise step
                if isinstance(step, float):
                    await asyncio.sleep(step)
                else:
                    yield step
        finally:
            self.closed += 1

    async def aclose(self) -> None:
        return


def _scripted(*script: str | float | Exception, settings: BrainSettings = SETTINGS) -> LlmBrain:
    return LlmBrain(Scripted(*script), settings, CueBrain(settings))


def _timed(brain: LlmBrain, view: BrainView = VIEW) -> tuple[list[BrainDelta], float]:
    t0 = time.perf_counter()
    deltas = [d for _, d in _run(brain, view)]
    return deltas, time.perf_counter() - t0


def test_a_stream_that_stalls_after_its_decision_falls_back_before_the_acknowledgement_is_due() -> None:
    defaults = BrainSettings()
    settings = replace(SETTINGS, first_text_timeout_s=defaults.first_text_timeout_s)
    cue = _cue_answer()
    with ChatServer(Reply(chunks=("<decision>respond</decision>",), interval_s=0.0, stall_s=30.0)) as srv:
        timed = _run(_brain(srv.base_url, settings))
    deltas = [d for _, d in timed]
    assert deltas[0] == BrainDelta(decision="respond")
    assert deltas[1].note == (f"fallback: {srv.base_url}/chat/completions: stream stalled before any words "
                              f"(nothing for {defaults.first_text_timeout_s:g} s)")
    assert deltas[2:] == [d for d in cue if not d.decision]  # the model's decision stands; the cue brain speaks
    first_text = next(t for t, d in timed if d.text) - srv.seen[0].chunk_times[0]
    assert first_text < PolicySettings().first_sentence_deadline_ms / 1000  # ~1.2 s: before "Hmm, let me think."


def test_the_default_first_text_timeout_sits_inside_the_acknowledgement_deadline() -> None:
    assert BrainSettings().first_text_timeout_s < PolicySettings().first_sentence_deadline_ms / 1000


def test_a_model_that_thinks_too_long_is_abandoned_at_the_think_timeout() -> None:
    settings = replace(SETTINGS, think_timeout_s=0.5)
    brain = _scripted("<think>", *[x for _ in range(100) for x in (0.05, "hmm ")], settings=settings)
    deltas, elapsed = _timed(brain)
    assert deltas[0].note == "fallback: scripted://model: no words to speak after 0.5 s"
    assert deltas[1:] == _cue_answer()
    assert elapsed < 2.0
    assert brain.generator.closed == 1  # type: ignore[attr-defined]  # the abandoned stream was closed


def test_a_stream_that_thinks_steadily_is_not_a_stall() -> None:
    settings = replace(SETTINGS, first_text_timeout_s=0.3, think_timeout_s=5.0)
    script = ("<think>", *[x for _ in range(10) for x in (0.1, "hmm ")], "</think><decision>respond</decision>",
              "<response>I hear you.</response>")
    deltas, _ = _timed(_scripted(*script, settings=settings))
    assert not any(d.note for d in deltas)
    assert "".join(d.text for d in deltas if d.text) == "I hear you."


def test_a_stream_that_stalls_after_words_ends_the_answer_with_a_note_and_keeps_what_was_said() -> None:
    settings = replace(SETTINGS, stall_timeout_s=0.4)
    with ChatServer(Reply(chunks=TAGGED[2:6], interval_s=0.0, stall_s=30.0)) as srv:
        deltas, elapsed = _timed(_brain(srv.base_url, settings))
    assert "".join(d.text for d in deltas if d.text) == "That sounds exhausting."
    assert [d.decision for d in deltas if d.decision] == ["respond"]
    assert deltas[-1].note == f"error: {srv.base_url}/chat/completions: stream stalled mid-answer (nothing for 0.4 s)"
    assert elapsed < 3.0


def test_a_model_that_decided_to_wait_and_then_broke_stays_silent() -> None:
    deltas, _ = _timed(_scripted("<decision>wait</decision>", KeyError("choices")))
    assert deltas[0] == BrainDelta(decision="wait")
    assert deltas[1:] == [BrainDelta(note="error: scripted://model: KeyError: 'choices'")]


def test_the_fallback_does_not_repeat_a_decision_or_emotion_the_model_already_gave() -> None:
    deltas, _ = _timed(_scripted("<decision>respond</decision><emotion>calm</emotion>", RuntimeError("gone")))
    assert deltas[:2] == [BrainDelta(decision="respond"), BrainDelta(emotion="calm")]
    assert deltas[2].note == "fallback: scripted://model: RuntimeError: gone"
    assert deltas[3:] == [d for d in _cue_answer() if d.text]
    assert sum(1 for d in deltas if d.decision) == 1 and sum(1 for d in deltas if d.emotion) == 1


@pytest.mark.parametrize("error", [AttributeError("'str' object has no attribute 'get'"), TypeError("bad"),
                                   KeyError("delta"), IndexError("list index out of range"), ZeroDivisionError()])
def test_any_exception_from_the_generator_falls_back(error: Exception) -> None:
    for script in ((error,), ("<think>hm", error)):
        deltas, _ = _timed(_scripted(*script))
        note = deltas[0].note
        assert note is not None and note.startswith(f"fallback: scripted://model: {type(error).__name__}")
        assert deltas[1:] == _cue_answer()


def test_an_exception_after_words_only_ends_the_answer() -> None:
    deltas, _ = _timed(_scripted("<decision>respond</decision><response>Well, ", TypeError("bad chunk")))
    assert [d.text for d in deltas if d.text] == ["Well, "]
    assert deltas[-1] == BrainDelta(note="error: scripted://model: TypeError: bad chunk")


def test_cancellation_is_the_only_thing_that_leaves_respond() -> None:
    async def go() -> Scripted:
        brain = _scripted("<decision>respond</decision>", 30.0)
        task = asyncio.create_task(_drain(brain))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return brain.generator  # type: ignore[return-value]

    assert asyncio.run(go()).closed == 1  # and the stream it was reading was closed


async def _drain(brain: LlmBrain) -> list[BrainDelta]:
    return [d async for d in brain.respond(VIEW)]


def test_a_consumer_that_stops_listening_closes_the_model_stream() -> None:
    async def go() -> Scripted:
        brain = _scripted("<decision>respond</decision><response>One.", 0.05, " Two.", 30.0)
        stream = brain.respond(VIEW)
        async for delta in stream:
            if delta.text:
                break
        await stream.aclose()
        return brain.generator  # type: ignore[return-value]

    assert asyncio.run(go()).closed == 1


def test_a_failing_fallback_brain_is_a_note_not_a_crash() -> None:
    class Broken(CueBrain):
        async def respond(self, view: BrainView) -> AsyncIterator[BrainDelta]:  # type: ignore[override]
            raise ValueError("no rules")
            yield BrainDelta()

    brain = LlmBrain(Scripted(OSError("down")), SETTINGS, Broken(SETTINGS))
    deltas, _ = _timed(brain)
    assert [d.note for d in deltas] == ["fallback: scripted://model: OSError: down",
                                        "error: fallback cue failed: ValueError: no rules"]


# ---- the circuit breaker ------------------------------------------------------------------------------------------

class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _turns(brain: LlmBrain, n: int) -> list[tuple[float, list[BrainDelta]]]:
    async def go() -> list[tuple[float, list[BrainDelta]]]:
        out = []
        for _ in range(n):
            t0 = time.perf_counter()
            deltas = [d async for d in brain.respond(VIEW)]
            out.append((time.perf_counter() - t0, deltas))
        return out
    return asyncio.run(go())


@pytest.mark.parametrize("failures", [1, 2])
def test_a_dead_endpoint_stops_costing_retries_once_the_breaker_opens(failures: int) -> None:
    settings = replace(SETTINGS, retries=2, retry_backoff_s=0.25, breaker_failures=failures)
    url = f"http://127.0.0.1:{free_port()}/v1"
    turns = _turns(_brain(url, settings), 6)
    assert [deltas[1:] for _, deltas in turns] == _cue_answers(6)  # every turn answered by the fallback
    paid, skipped = turns[:failures], turns[failures:]
    for elapsed, deltas in paid:
        assert elapsed > 0.6  # three attempts, 0.25 + 0.5 s of backoff
        assert deltas[0].note is not None and "ConnectError" in deltas[0].note
    for elapsed, _ in skipped:
        assert elapsed < 0.2  # no request, no retry: straight to the fallback
    notes = [deltas[0].note for _, deltas in skipped]
    assert notes[0] == f"fallback: {url}/chat/completions skipped for 30 s after {failures} failures"
    assert set(notes[1:]) == {f"fallback: {url}/chat/completions still skipped"}  # said in full once


def test_after_the_cooldown_one_trial_reaches_the_endpoint_and_its_answer_closes_the_breaker() -> None:
    clock = Clock()
    port = free_port()
    settings = replace(SETTINGS, breaker_failures=2, breaker_cooldown_s=30.0)
    brain = LlmBrain(OpenAIGenerator(settings, base_url=f"http://127.0.0.1:{port}/v1"), settings,
                     CueBrain(settings), clock=clock)
    _turns(brain, 2)  # two failures: open
    assert brain.breaker.state(clock.now) == "open"
    with ChatServer(Reply(chunks=TAGGED, interval_s=0.0), port=port) as srv:
        clock.now += 10
        (_, skipped), = _turns(brain, 1)
        assert skipped[0].note is not None and "skipped for 20 s" in skipped[0].note and srv.seen == []
        clock.now += 21
        (_, trial), (_, after) = _turns(brain, 2)
    assert not any(d.note for d in trial + after)
    assert "".join(d.text for d in trial if d.text) == "That sounds exhausting. Do you want to talk?"
    assert len(srv.seen) == 2 and brain.breaker.state(clock.now) == "closed"


def test_a_failed_trial_opens_the_breaker_again() -> None:
    clock = Clock()
    brain = LlmBrain(Scripted(OSError("down")), SETTINGS, CueBrain(SETTINGS), clock=clock)
    _turns(brain, 3)
    clock.now += 31
    (_, trial), (_, skipped) = _turns(brain, 2)
    assert trial[0].note == "fallback: scripted://model: OSError: down"
    assert skipped[0].note == "fallback: scripted://model skipped for 30 s after 3 failures"


# ---- the local model ----------------------------------------------------------------------------------------------

def test_a_local_model_that_failed_to_load_at_warm_up_falls_back_at_once_every_turn() -> None:
    pytest.importorskip("transformers")
    brain = make_brain(BrainSettings(backend="transformers", model="/nonexistent/omni", structured="none"))
    assert isinstance(brain, LlmBrain)

    async def go() -> tuple[list[tuple[float, list[BrainDelta]]], float]:
        worst, stop = 0.0, asyncio.Event()

        async def ticker() -> None:
            nonlocal worst
            last = time.perf_counter()
            while not stop.is_set():
                await asyncio.sleep(0.01)
                worst, last = max(worst, time.perf_counter() - last), time.perf_counter()

        await brain.warm_up()  # the load fails here (logged); importing torch may hold the GIL, so tick after it
        task = asyncio.create_task(ticker())
        turns = []
        for _ in range(3):
            t0 = time.perf_counter()
            deltas = [d async for d in brain.respond(VIEW)]
            turns.append((time.perf_counter() - t0, deltas))
            assert brain.count_tokens is not None and brain.count_tokens("how are you") == 4  # no load, no raise
        stop.set()
        await task
        await brain.aclose()
        return turns, worst

    turns, worst = asyncio.run(go())
    failed = ("fallback: transformers /nonexistent/omni: load failed (FileNotFoundError: /nonexistent/omni: "
              "no such model folder); not retried until restart")
    assert [deltas[0].note for _, deltas in turns] == [
        failed, failed, "fallback: /nonexistent/omni skipped for 30 s after 2 failures"]
    assert [deltas[1:] for _, deltas in turns] == _cue_answers(3)
    assert all(elapsed < 0.5 for elapsed, _ in turns)  # no load attempt, no watchdog wait: straight to the cue brain
    assert worst < 0.25  # loose; the loop never waits on the model (a blocking load would take seconds)


# ---- a slow engine: acknowledgements and waits from the measured speed ----------------------------------------------

class Timed(Scripted):
    """A Scripted generator that reports what it was asked and how it went, like the real backends."""

    def __init__(self, *script: str | float | Exception, prefill: int = 40) -> None:
        super().__init__(*script)
        self.prompts: list[MultimodalPrompt] = []
        self.prefill = prefill
        self.last_stats: GenerationStats | None = None

    def prefill_tokens(self, prompt: MultimodalPrompt) -> int:
        return self.prefill

    async def stream(self, prompt: object) -> AsyncIterator[str]:
        assert isinstance(prompt, MultimodalPrompt)
        self.prompts.append(prompt)
        t0 = time.perf_counter()
        async for piece in super().stream(prompt):
            yield piece
        self.last_stats = GenerationStats(new_tokens=8, first_piece_s=0.01, total_s=time.perf_counter() - t0,
                                          prefilled_tokens=self.prefill, prefill_s=0.01)


SAID = ("<decision>respond</decision><emotion>concerned</emotion>", "<response>That sounds hard.</response>")
SLOW = EngineSpeed(prefill_tps=50.0, decode_tps=5.0, overhead_s=0.2)  # 40 tokens: a first sentence in ~3 s
FAST = EngineSpeed(prefill_tps=2000.0, decode_tps=200.0, overhead_s=0.01)


def _measured(speed: EngineSpeed, generator: Timed, settings: BrainSettings = SETTINGS) -> LlmBrain:
    brain = LlmBrain(generator, settings, CueBrain(settings))
    brain.speed = speed
    return brain


def test_a_slow_engine_starts_with_an_acknowledgement_that_fits_and_the_model_is_told() -> None:
    generator = Timed(*SAID)
    deltas = [d for _, d in _run(_measured(SLOW, generator))]
    ack = deltas[0].acknowledgement
    assert isinstance(ack, Acknowledgement) and ack.emotion in ("concerned", "calm")  # "so tired of work": a hard time
    assert f'You have already said: "{ack.text}"' in generator.prompts[0].user
    assert [d.decision for d in deltas if d.decision] == ["respond"]
    assert "".join(d.text for d in deltas if d.text) == "That sounds hard."
    assert not any(d.note for d in deltas)  # an acknowledgement is not a fallback


def test_a_fast_engine_needs_no_acknowledgement() -> None:
    generator = Timed(*SAID)
    deltas = [d for _, d in _run(_measured(FAST, generator))]
    assert not any(d.acknowledgement for d in deltas)
    assert "already said" not in generator.prompts[0].user


def test_an_engine_that_was_never_timed_gets_the_settings_waits_and_no_acknowledgement() -> None:
    deltas = [d for _, d in _run(_measured(EngineSpeed(), Timed(*SAID)))]
    assert not any(d.acknowledgement for d in deltas)


def test_a_slow_engine_is_given_the_time_its_prompt_needs() -> None:
    script = (1.5, *SAID)  # later than first_text_timeout_s (1.2 s), as a measured slow engine would be
    deltas, _ = _timed(_measured(SLOW, Timed(*script)))
    assert not any(d.note for d in deltas) and "".join(d.text for d in deltas if d.text) == "That sounds hard."
    fast, _ = _timed(_measured(FAST, Timed(*script)))
    assert fast[0].note == "fallback: scripted://model: stream stalled before any words (nothing for 1.2 s)"


def test_each_repair_of_a_malformed_answer_is_a_note() -> None:
    deltas, _ = _timed(_measured(FAST, Timed("Sure, that sounds rough.")))
    assert "".join(d.text for d in deltas if d.text) == "Sure, that sounds rough."
    notes = [d.note for d in deltas if d.note]
    assert notes == ["repair: no <response> tag: the text outside <think> is the response",
                     "repair: no <decision> before the response: treated as respond"]


def test_the_message_sent_for_a_turn_is_repeated_exactly_in_later_histories() -> None:
    generator = Timed(*SAID)
    brain = _measured(FAST, generator)
    _run_turns(brain, [VIEW, replace(VIEW, t=9.0, transcript=Transcript("And I can't sleep.", 6.0, 8.0), history=(
        DialogueTurn("user", "I'm so tired of work lately.", 2.6),
        DialogueTurn("agent", "That sounds hard.", 4.0, emotion="concerned")))])
    first, second = generator.prompts
    assert second.history[0] == ("user", first.user)
    assert second.history[1] == ("assistant", SAID[0] + SAID[1])  # the answer as the model wrote it
    assert second.system == first.system


def test_a_history_too_long_for_the_context_is_cut_before_the_request() -> None:
    settings = replace(SETTINGS, context_size=600, max_new_tokens=64)
    turns = tuple(DialogueTurn("user" if i % 2 == 0 else "agent", "words " * 30, float(i)) for i in range(20))
    generator = Timed(*SAID)
    _run(_measured(FAST, generator, settings), replace(VIEW, history=turns))
    sent = generator.prompts[0]
    assert 0 < len(sent.history) < 20 and sent.history[0][0] == "user"


def _run_turns(brain: LlmBrain, views: list[BrainView]) -> list[list[BrainDelta]]:
    async def go() -> list[list[BrainDelta]]:
        return [[d async for d in brain.respond(v)] for v in views]
    return asyncio.run(go())


def test_a_slow_stream_costs_its_turn_but_never_opens_the_breaker() -> None:
    settings = replace(SETTINGS, first_text_timeout_s=0.2)
    brain = _scripted("<decision>respond</decision>", 0.5, "<response>Late.</response>", settings=settings)
    turns = _turns(brain, 3)
    assert all(deltas[1].note and "stalled before any words" in deltas[1].note for _, deltas in turns)
    assert brain.breaker.failures == 0  # every turn asked the model again


def test_a_silent_stream_is_a_dead_engine_and_counts() -> None:
    settings = replace(SETTINGS, first_text_timeout_s=0.2)
    brain = _scripted(0.5, "<decision>respond</decision>", settings=settings)
    _, (_, third) = _turns(brain, 2)[0], _turns(brain, 1)[0]
    assert third[0].note == "fallback: scripted://model skipped for 30 s after 2 failures"


def test_an_answer_cut_at_the_token_limit_is_not_a_format_repair() -> None:
    class Cut(Timed):
        async def stream(self, prompt: object) -> AsyncIterator[str]:
            async for piece in super().stream(prompt):
                yield piece
            assert self.last_stats is not None
            self.last_stats = replace(self.last_stats, truncated=True)

    deltas, _ = _timed(_measured(FAST, Cut(SAID[0], "<response>That sounds hard. And I</resp")))
    assert "".join(d.text for d in deltas if d.text) == "That sounds hard. And I"
    assert not any(d.note for d in deltas)
