"""The brain's answer format as one description: its tags, a GBNF grammar, a JSON schema, and JSON read back as tags.

An answer is ``<decision>…</decision><emotion>…</emotion><response>…</response>``, with
``<think>…</think>`` first when reasoning is on. Engines that constrain decoding get the
same language in the form they take: a GBNF grammar (llama.cpp's ``grammar`` field, vLLM's
``structured_outputs``), a JSON schema (``response_format``; Ollama and hosted models), or,
in-process, the :meth:`AnswerFormat.plan` the llama backend's decoder walks. Whatever the
form, the brain reads tags: :class:`JsonAnswerReader` turns a streamed JSON answer into them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Generator, Literal

DECISIONS: tuple[str, ...] = ("respond", "backchannel", "wait")
AGENT_EMOTIONS: tuple[str, ...] = (
    "neutral", "warm", "happy", "excited", "calm", "sad", "concerned", "apologetic", "curious",
)
"""The emotions the agent may show; each maps to TTS prosody in ``speech.prosody``."""
Structure = Literal["grammar", "json", "none"]
CHARS_PER_TOKEN = 4
SPOKEN_STOPS = "<["
"""What cannot be in spoken words: a tag, or a bracketed note (the notes the prompt gives; stage directions)."""
"""Reasoning is bounded in tokens; a grammar can only count characters, at about this many a token."""


@dataclass(frozen=True)
class Fixed:
    """Text the format dictates here."""
    text: str


@dataclass(frozen=True)
class Pick:
    """One of ``options``, chosen by the model."""
    name: str
    options: tuple[str, ...]


@dataclass(frozen=True)
class Open:
    """Free text written by the model until any character of ``stop`` (not part of it), at most ``max_tokens``."""
    name: str
    stop: str
    max_tokens: int | None = None
    escaped: bool = False  # JSON string content: a backslash escapes the next character


Step = Fixed | Pick | Open
Plan = Generator[Step, str, None]


def render_tags(decision: str, emotion: str, text: str, thinking: str = "") -> str:
    """An answer written in the tag format (how history shows the agent's earlier answers)."""
    think = f"<think>{thinking}</think>" if thinking else ""
    return f"{think}<decision>{decision}</decision><emotion>{emotion}</emotion><response>{text}</response>"


DECISIONS_FOR: dict[str, tuple[str, ...]] = {
    "end_of_turn": ("respond",), "preemptive": ("respond", "wait"), "proactive": ("respond", "wait"),
    "backchannel": ("backchannel", "wait")}
"""The decisions open at each trigger: the turn-taker has already decided that a finished turn gets an answer,
so a model is not left to leave it unanswered; a pause or a silence may be waited out."""


@dataclass(frozen=True)
class AnswerFormat:
    """The answer's language for one request: tags or JSON, with or without a bounded reasoning section, and the
    decisions open to it."""
    kind: Literal["tags", "json"] = "tags"
    reasoning_tokens: int = 0  # 0: no reasoning section
    decisions: tuple[str, ...] = DECISIONS

    def __post_init__(self) -> None:
        if not self.decisions or not set(self.decisions) <= set(DECISIONS):
            raise ValueError(f"decisions must be some of {DECISIONS}, got {self.decisions}")

    def for_trigger(self, trigger: str) -> "AnswerFormat":
        return replace(self, decisions=DECISIONS_FOR.get(trigger, DECISIONS))

    def plan(self) -> Plan:
        """The steps of one answer; the decoder sends back the text each :class:`Pick` and :class:`Open` produced.

        A ``wait`` decision leaves the response empty, as the grammar does.
        """
        if self.kind == "json":
            yield Fixed("{")
            if self.reasoning_tokens:
                yield Fixed('"thinking": "')
                yield Open("thinking", '"', self.reasoning_tokens, escaped=True)
                yield Fixed('", ')
            yield Fixed('"decision": "')
            decision = yield Pick("decision", self.decisions)
            yield Fixed('", "emotion": "')
            yield Pick("emotion", AGENT_EMOTIONS)
            yield Fixed('", "response": "')
            if decision != "wait":
                yield Open("response", '"', escaped=True)
            yield Fixed('"}')
            return
        if self.reasoning_tokens:
            yield Fixed("<think>")
            yield Open("thinking", "<", self.reasoning_tokens)
            yield Fixed("</think>")
        yield Fixed("<decision>")
        decision = yield Pick("decision", self.decisions)
        yield Fixed("</decision><emotion>")
        yield Pick("emotion", AGENT_EMOTIONS)
        yield Fixed("</emotion><response>")
        if decision != "wait":
            yield Open("response", SPOKEN_STOPS)
        yield Fixed("</response>")

    def gbnf(self) -> str:
        """The tag format as a GBNF grammar (llama.cpp, vLLM's xgrammar): decision and emotion from their lists."""
        if self.kind != "tags":
            raise ValueError("a GBNF grammar is made for the tag format; the JSON format has json_schema()")
        emotions = " | ".join(f'"{e}"' for e in AGENT_EMOTIONS)
        speak = " | ".join(f'"{d}"' for d in self.decisions if d != "wait")
        answers = []
        if speak:
            answers.append(f'({speak}) "</decision><emotion>" emotion "</emotion><response>" text "</response>"')
        if "wait" in self.decisions:
            answers.append('"wait</decision><emotion>" emotion "</emotion><response></response>"')
        think = ""
        root = 'root ::= "<decision>" answer'
        if self.reasoning_tokens:
            root = 'root ::= "<think>" think "</think><decision>" answer'
            think = f"\nthink ::= [^<]{{0,{self.reasoning_tokens * CHARS_PER_TOKEN}}}"
        return (f"{root}\n"
                f"answer ::= {' | '.join(answers)}\n"
                f"emotion ::= {emotions}\n"
                f"text ::= [^<\\[]+{think}\n")

    def json_schema(self) -> dict[str, Any]:
        """The JSON format's schema; properties in the order they are written (engines keep it)."""
        properties: dict[str, Any] = {}
        if self.reasoning_tokens:
            properties["thinking"] = {"type": "string", "maxLength": self.reasoning_tokens * CHARS_PER_TOKEN}
        properties["decision"] = {"type": "string", "enum": list(self.decisions)}
        properties["emotion"] = {"type": "string", "enum": list(AGENT_EMOTIONS)}
        properties["response"] = {"type": "string"}
        return {"type": "object", "properties": properties, "required": list(properties),
                "additionalProperties": False}

    def pattern(self) -> re.Pattern[str]:
        """A regular expression of the tag format's whole answers (what the grammar admits)."""
        think = r"<think>[^<]*</think>" if self.reasoning_tokens else ""
        decisions = "|".join(self.decisions)
        emotions = "|".join(AGENT_EMOTIONS)
        return re.compile(rf"{think}<decision>(?P<decision>{decisions})</decision>"
                          rf"<emotion>(?P<emotion>{emotions})</emotion><response>(?P<response>[^<\[]*)</response>")


def answer_format(structured: Structure, reasoning_tokens: int) -> AnswerFormat | None:
    """The format a brain asks its engine for; None when the engine is not constrained (``structured = "none"``)."""
    if structured == "none":
        return None
    return AnswerFormat("json" if structured == "json" else "tags", reasoning_tokens)


_JSON_TAGS = {"thinking": "think", "decision": "decision", "emotion": "emotion", "response": "response"}
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


class JsonAnswerReader:
    """Turns a JSON answer, fed in arbitrary pieces, into the tag text the brain's parser reads.

    The response string is passed on as it streams (so speech can start before the
    object closes); the other fields when their string ends. Unknown keys and non-string
    values are skipped.
    """

    def __init__(self) -> None:
        self._state = "key_seek"
        self._key = ""
        self._value = ""
        self._escape: str | None = None  # None, "" after a backslash, or the hex digits of a \\u escape

    def feed(self, chunk: str) -> str:
        out: list[str] = []
        for ch in chunk:
            self._step(ch, out)
        return "".join(out)

    def _step(self, ch: str, out: list[str]) -> None:
        state = self._state
        if state == "key_seek":
            if ch == '"':
                self._state, self._key = "key", ""
        elif state == "key":
            if ch == '"':
                self._state = "colon"
            else:
                self._key += ch
        elif state == "colon":
            if ch == ":":
                self._state = "value_seek"
        elif state == "value_seek":
            if ch == '"':
                self._state, self._value = "string", ""
                if self._key == "response":
                    out.append("<response>")
            elif not ch.isspace():
                self._state = "skip"  # a number, literal, object or array: not ours
        elif state == "skip":
            if ch in ",}":
                self._state = "key_seek"
        elif state == "string":
            self._string_char(ch, out)

    def _string_char(self, ch: str, out: list[str]) -> None:
        if self._escape is not None:
            if self._escape == "" and ch != "u":
                self._emit(_ESCAPES.get(ch, ch), out)
                self._escape = None
            elif self._escape == "" or len(self._escape) < 5:
                self._escape += ch
                if len(self._escape) == 5:  # "u" and four hex digits
                    try:
                        self._emit(chr(int(self._escape[1:], 16)), out)
                    except ValueError:
                        pass
                    self._escape = None
            return
        if ch == "\\":
            self._escape = ""
            return
        if ch == '"':
            self._state = "key_seek"
            tag = _JSON_TAGS.get(self._key)
            if self._key == "response":
                out.append("</response>")
            elif tag is not None:
                out.append(f"<{tag}>{self._value}</{tag}>")
            return
        self._emit(ch, out)

    def _emit(self, text: str, out: list[str]) -> None:
        if self._key == "response":
            out.append(text.replace("<", "‹"))  # a literal "<" must not read as a tag
        else:
            self._value += text


def json_string_end(text: str) -> int:
    """Where an unescaped double quote first appears in ``text`` (the end of JSON string content), or -1."""
    escaped = False
    for i, ch in enumerate(text):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            return i
    return -1


__all__ = ["AnswerFormat", "Fixed", "JsonAnswerReader", "Open", "Pick", "Plan", "Step", "Structure",
           "answer_format", "json_string_end", "render_tags"]
