"""Every way the LLM brain's backend can fail, and what the listener gets: the fallback's words, or an ended answer.

Before any words, a failure yields a ``fallback:`` note naming the cause and the
cue brain's answer; after words, the answer ends with an ``error:`` note. Either
way ``respond`` returns promptly and raises nothing.
"""
from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Iterator

import pytest

from dialogue.cue_brain import CueBrain
from dialogue.llm_brain import LlmBrain
from dialogue.openai_backend import OpenAIGenerator
from dialogue.settings import BrainSettings
from dialogue.transformers_backend import TransformersGenerator
from dialogue.types import BrainDelta, TextGenerator
from tests.dialogue.chat_server import ChatServer, Reply, free_port
from tests.dialogue.test_llm_brain import SETTINGS, TAGGED, VIEW, Scripted, _cue_answer, _cue_answers

FAST = replace(SETTINGS, first_text_timeout_s=0.5, stall_timeout_s=0.5, breaker_failures=0)
WITHIN_S = 3.0  # loose: the slowest case waits ~0.5 s for its watchdog or ~0.3 s for its HTTP timeout

Source = Callable[[BrainSettings], contextlib.AbstractContextManager[TextGenerator]]


@contextlib.contextmanager
def served(*replies: Reply) -> Iterator[Callable[[BrainSettings], TextGenerator]]:
    with ChatServer(*replies) as srv:
        yield lambda settings: OpenAIGenerator(settings, base_url=srv.base_url)


def endpoint(*replies: Reply) -> Source:
    @contextlib.contextmanager
    def source(settings: BrainSettings) -> Iterator[TextGenerator]:
        with served(*replies) as make:
            yield make(settings)
    return source


def nothing_listening(settings: BrainSettings) -> contextlib.AbstractContextManager[TextGenerator]:
    return contextlib.nullcontext(OpenAIGenerator(settings, base_url=f"http://127.0.0.1:{free_port()}/v1"))


def scripted(*script: str | float | Exception) -> Source:
    return lambda settings: contextlib.nullcontext(Scripted(*script))


def unloadable(settings: BrainSettings) -> contextlib.AbstractContextManager[TextGenerator]:
    return contextlib.nullcontext(TransformersGenerator(replace(settings, backend="transformers"),
                                                        model_path="/nonexistent/omni"))


def sse(*payloads: str) -> Reply:
    return Reply(lines=tuple(f"data: {p}" for p in payloads), interval_s=0.0)


@dataclass(frozen=True)
class Case:
    source: Source
    note: str  # part of the note the answer carries
    said: str = ""  # words the model got out before failing (then the answer just ends)
    settings: dict[str, float] = field(default_factory=dict)


CASES: dict[str, Case] = {
    "connection refused": Case(nothing_listening, "ConnectError"),
    "HTTP 500": Case(endpoint(Reply(status=500, error="overloaded")), "HTTP 500: overloaded (after 2 attempts)"),
    "HTTP 400": Case(endpoint(Reply(status=400, error="bad audio")), "rejected the request: HTTP 400: bad audio"),
    "HTML body": Case(endpoint(Reply(body="<html><h1>502 Bad Gateway</h1></html>", content_type="text/html")),
                      "no SSE data in the reply (text/html): '<html><h1>502 Bad Gateway"),
    "JSON instead of a stream": Case(endpoint(Reply(body='{"choices":[]}', content_type="application/json")),
                                     "no SSE data in the reply (application/json)"),
    "choices of strings": Case(endpoint(sse('{"choices":["x"]}')), "unexpected chunk shape (choices[0] is a str"),
    "delta a string": Case(endpoint(sse('{"choices":[{"delta":"x"}]}')), "unexpected chunk shape (delta is a str"),
    "content a number": Case(endpoint(sse('{"choices":[{"delta":{"content":5}}]}')),
                             "unexpected chunk shape (delta.content is a int"),
    "choices a dict": Case(endpoint(sse('{"choices":{"delta":{"content":"x"}}}')),
                           "unexpected chunk shape (choices is a dict"),
    "malformed SSE": Case(endpoint(sse("{not json")), "malformed SSE data line: '{not json'"),
    "error inside the stream": Case(endpoint(sse('{"error":{"message":"out of memory"}}')),
                                    "error inside the stream: out of memory"),
    "empty reply": Case(endpoint(Reply(chunks=(), interval_s=0.0)), "no decision and no response (empty reply)"),
    "headers then silence": Case(endpoint(Reply(stall_s=30.0)), "stream stalled before any words"),
    "stall after the decision": Case(endpoint(Reply(chunks=(TAGGED[2],), interval_s=0.0, stall_s=30.0)),
                                     "stream stalled before any words (nothing for 0.5 s)"),
    "stall after words": Case(endpoint(Reply(chunks=TAGGED[2:6], interval_s=0.0, stall_s=30.0)),
                              "stream stalled mid-answer (nothing for 0.5 s)", said="That sounds exhausting."),
    "no headers (HTTP timeout)": Case(endpoint(Reply(hang_s=30.0)), "no data for 0.3 s", settings={"timeout_s": 0.3}),
    "thinking without end": Case(scripted("<think>", *[x for _ in range(60) for x in (0.05, "hm ")]),
                                 "no words to speak after 0.8 s", settings={"think_timeout_s": 0.8}),
    "exception at the first chunk": Case(scripted(AttributeError("'str' object has no attribute 'get'")),
                                         "scripted://model: AttributeError: 'str' object has no attribute 'get'"),
    "exception mid-stream": Case(scripted("<think>hm</think>", TypeError("bad")), "scripted://model: TypeError: bad"),
    "exception after words": Case(scripted("<response>I see. ", ValueError("cut")), "scripted://model: ValueError: cut",
                                  said="I see. "),
    "model that cannot load": Case(unloadable, "/nonexistent/omni"),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_each_failure_ends_in_the_fallbacks_words_or_an_ended_answer(case: Case) -> None:
    settings = replace(FAST, **case.settings)

    async def go() -> tuple[list[BrainDelta], float]:
        with case.source(settings) as generator:
            brain = LlmBrain(generator, settings, CueBrain(settings))
            t0 = time.perf_counter()
            deltas = [d async for d in brain.respond(VIEW)]
            elapsed = time.perf_counter() - t0
            await brain.aclose()
        return deltas, elapsed

    deltas, elapsed = asyncio.run(go())
    notes = [d.note for d in deltas if d.note]
    words = "".join(d.text for d in deltas if d.text)
    assert len(notes) == 1 and case.note in notes[0], notes
    assert sum(1 for d in deltas if d.decision) <= 1
    if case.said:
        assert notes[0].startswith("error: ") and deltas[-1].note == notes[0]
        assert words == case.said  # what was said stays; the fallback does not talk over it
    else:
        assert notes[0].startswith("fallback: ")
        assert words == "".join(d.text for d in _cue_answer() if d.text)
    assert elapsed < WITHIN_S


def test_six_turns_against_a_wrong_shape_endpoint_are_all_answered() -> None:
    async def go(make: Callable[[BrainSettings], TextGenerator]) -> list[list[BrainDelta]]:
        brain = LlmBrain(make(SETTINGS), SETTINGS, CueBrain(SETTINGS))  # the default breaker: skipped after two
        turns = [[d async for d in brain.respond(VIEW)] for _ in range(6)]
        await brain.aclose()
        return turns

    with served(sse('{"choices":[{"delta":"x"}]}')) as make:
        turns = asyncio.run(go(make))
    assert [turn[1:] for turn in turns] == _cue_answers(6)
    assert all(turn[0].note and turn[0].note.startswith("fallback: ") for turn in turns)
