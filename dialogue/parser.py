"""Streaming, tolerant parser of the brain's tagged answer into decision, emotion and spoken text deltas.

The model answers ``<think>…</think><decision>…</decision><emotion>…</emotion><response>…</response>``.
Chunks may split anywhere, even inside a tag name. Response text is emitted as it
arrives; only a possible partial tag at the end of the buffer is held back.
Nothing inside ``<think>`` is ever emitted as text.
"""
from __future__ import annotations

import logging
import re
from typing import Sequence

from dialogue.types import AGENT_EMOTIONS, DECISIONS, BrainDelta

logger = logging.getLogger(__name__)

# Tag names are bounded so that a complete tag and a held-back partial one cover the same strings,
# which keeps the output independent of where the chunks split.
_TAG = re.compile(r"<[ \t]{0,3}(/?)[ \t]{0,3}([A-Za-z][\w-]{0,23})[ \t]{0,3}>")
_PARTIAL_TAG = re.compile(r"<[ \t]{0,3}/?[ \t]{0,3}(?:[A-Za-z][\w-]{0,23}[ \t]{0,3})?\Z")
# A decision/emotion value whose closing tag is missing ends at the first line break after some text.
_VALUE_LINE_END = re.compile(r"\S[^\S\n]*\n")

CUT_OFF = "the answer ended inside a tag"
_RESPONSE_TAGS = frozenset({"response", "answer"})
_KNOWN_TAGS = frozenset({"think", "decision", "emotion"}) | _RESPONSE_TAGS

EMOTION_SYNONYMS: dict[str, str] = {
    "empathetic": "warm", "empathic": "warm", "caring": "warm", "kind": "warm", "gentle": "warm", "tender": "warm",
    "supportive": "warm", "compassionate": "warm", "friendly": "warm", "affectionate": "warm", "loving": "warm",
    "understanding": "warm", "sympathetic": "warm", "encouraging": "warm", "reassuring": "warm",
    "joyful": "happy", "glad": "happy", "cheerful": "happy", "pleased": "happy", "delighted": "happy",
    "positive": "happy", "amused": "happy", "playful": "happy", "content": "happy", "joy": "happy", "happiness": "happy",
    "enthusiastic": "excited", "thrilled": "excited", "energetic": "excited", "eager": "excited", "surprised": "excited",
    "relaxed": "calm", "soothing": "calm", "peaceful": "calm", "serene": "calm", "composed": "calm",
    "patient": "calm", "steady": "calm", "calming": "calm",
    "worried": "concerned", "anxious": "concerned", "serious": "concerned", "attentive": "concerned",
    "worry": "concerned", "concern": "concerned", "nervous": "concerned",
    "sorry": "apologetic", "regretful": "apologetic", "remorseful": "apologetic", "apology": "apologetic",
    "unhappy": "sad", "sadness": "sad", "melancholy": "sad", "down": "sad", "sorrowful": "sad", "somber": "sad",
    "inquisitive": "curious", "interested": "curious", "intrigued": "curious", "wondering": "curious",
    "curiosity": "curious",
    "neutrality": "neutral", "none": "neutral", "normal": "neutral", "plain": "neutral", "flat": "neutral",
}

_DECISION_SYNONYMS: dict[str, str] = {
    "answer": "respond", "reply": "respond", "speak": "respond", "response": "respond", "responding": "respond",
    "back-channel": "backchannel", "back_channel": "backchannel", "back channel": "backchannel",
    "listen": "wait", "waiting": "wait", "silence": "wait", "silent": "wait", "hold": "wait",
}

_OUTSIDE, _THINK, _DECISION, _EMOTION, _RESPONSE, _IMPLICIT, _DONE = (
    "outside", "think", "decision", "emotion", "response", "implicit", "done")


def _clean_value(raw: str) -> str:
    return re.sub(r"\s+", " ", raw.strip().strip(" \t\n\"'`.,;:!*[](){}").lower())


class TagParser:
    """Turns raw model text, fed in arbitrary chunks, into ordered :class:`BrainDelta` s.

    Order of the output: one decision, then at most one emotion, then text pieces.
    A missing decision becomes ``respond`` before the first text; an answer with no
    text and no decision at all becomes ``wait`` at :meth:`close`.
    """

    def __init__(self, emotions: Sequence[str] = AGENT_EMOTIONS, default_emotion: str = "neutral") -> None:
        if default_emotion not in emotions:
            raise ValueError(f"default_emotion {default_emotion!r} is not one of the emotions {tuple(emotions)}")
        self.emotions = tuple(emotions)
        self.default_emotion = default_emotion
        self.thinking = ""
        self.warnings: list[str] = []
        self._buf = ""
        self._mode = _OUTSIDE
        self._return_mode = _OUTSIDE
        self._decision_sent = False
        self._emotion_seen = False
        self._pending_emotion: str | None = None
        self._text_started = False
        self._closed = False
        self._out: list[BrainDelta] = []

    def feed(self, chunk: str) -> list[BrainDelta]:
        if self._closed:
            raise RuntimeError("TagParser.feed called after close()")
        self._buf += chunk
        self._pump(final=False)
        return self._take()

    def close(self) -> list[BrainDelta]:
        if self._closed:
            return []
        self._pump(final=True)
        self._closed = True
        if self._mode == _THINK:
            self._warn("<think> was never closed: nothing after it was spoken")
        if not self._decision_sent:
            self._warn("the answer had no decision and no response: treated as wait")
            self._send_decision("wait")
        return self._take()

    def _take(self) -> list[BrainDelta]:
        out, self._out = self._out, []
        return out

    def _warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)
            logger.warning("brain answer: %s", message)

    def _pump(self, final: bool) -> None:
        while self._buf:
            if self._mode == _THINK:
                if not self._pump_think(final):
                    return
            elif self._mode in (_DECISION, _EMOTION):
                if not self._pump_value(final):
                    return
            elif not self._pump_text(final):
                return

    def _held_back(self, final: bool) -> int:
        """Where a possible partial tag starts at the end of the buffer (the buffer length if none)."""
        if final:
            return len(self._buf)
        m = _PARTIAL_TAG.search(self._buf)
        return m.start() if m else len(self._buf)

    def _pump_think(self, final: bool) -> bool:
        for m in _TAG.finditer(self._buf):
            if m.group(1) and m.group(2).lower() == "think":
                self.thinking += self._buf[:m.start()]
                self._buf = self._buf[m.end():]
                self._mode = self._return_mode
                return True
        cut = self._held_back(final)
        self.thinking += self._buf[:cut]
        self._buf = self._buf[cut:]
        return False

    def _pump_value(self, final: bool) -> bool:
        tag = _TAG.search(self._buf)
        line = _VALUE_LINE_END.search(self._buf)
        if line is not None and (tag is None or line.end() - 1 < tag.start()):
            end, resume = line.end() - 1, line.end()
        elif tag is not None:
            name = tag.group(2).lower()
            own = "decision" if self._mode == _DECISION else "emotion"
            end = tag.start()
            resume = tag.end() if tag.group(1) and name == own else tag.start()
            if resume == tag.start():
                self._warn(f"<{own}> was not closed before <{tag.group(1)}{name}>")
        elif final:
            end = resume = len(self._buf)
        else:
            return False
        value = self._buf[:end]
        self._buf = self._buf[resume:]
        mode, self._mode = self._mode, self._return_mode
        if mode == _DECISION:
            self._on_decision(value)
        else:
            self._on_emotion(value)
        return True

    def _pump_text(self, final: bool) -> bool:
        tag = _TAG.search(self._buf)
        end = tag.start() if tag else self._held_back(final)
        text = self._buf[:end]
        cut = _PARTIAL_TAG.search(text) if final and tag is None else None
        if cut is not None:
            text = text[:cut.start()]
            self._warn(CUT_OFF)
        self._on_text(text)
        if tag is None:
            self._buf = self._buf[end:] if not final else ""
            return False
        self._buf = self._buf[tag.end():]
        self._on_tag(bool(tag.group(1)), tag.group(2).lower())
        return True

    def _on_text(self, text: str) -> None:
        if self._mode == _OUTSIDE:
            if not text.strip():
                return
            self._warn("no <response> tag: the text outside <think> is the response")
            self._mode = _IMPLICIT
        elif self._mode == _DONE:
            if text.strip():
                self._warn("text after </response> was ignored")
            return
        self._emit_text(text)

    def _emit_text(self, text: str) -> None:
        if not self._text_started:
            text = text.lstrip()
        if not text:
            return
        if not self._decision_sent:
            self._warn("no <decision> before the response: treated as respond")
            self._send_decision("respond")
        self._text_started = True
        self._out.append(BrainDelta(text=text))

    def _on_tag(self, closing: bool, name: str) -> None:
        if name not in _KNOWN_TAGS:
            self._warn(f"unknown tag <{'/' if closing else ''}{name}> was dropped")
            return
        if closing:
            if name in _RESPONSE_TAGS and self._mode in (_RESPONSE, _IMPLICIT):
                self._mode = _DONE
            return
        if name == "think":
            self._return_mode, self._mode = self._mode, _THINK
        elif name == "decision":
            self._return_mode, self._mode = self._mode, _DECISION
        elif name == "emotion":
            self._return_mode, self._mode = self._mode, _EMOTION
        elif self._mode in (_OUTSIDE, _IMPLICIT):
            self._mode = _RESPONSE
        elif self._mode == _DONE:
            self._warn("a second response was ignored")

    def _on_decision(self, raw: str) -> None:
        if self._decision_sent:
            self._warn("a decision after the response started was ignored")
            return
        value = _clean_value(raw)
        decision = value if value in DECISIONS else _DECISION_SYNONYMS.get(value)
        if decision is None:
            self._warn(f"unknown decision {raw.strip()!r}: treated as respond")
            decision = "respond"
        self._send_decision(decision)

    def _send_decision(self, decision: str) -> None:
        self._decision_sent = True
        self._out.append(BrainDelta(decision=decision))  # type: ignore[arg-type]
        if self._pending_emotion is not None:
            self._out.append(BrainDelta(emotion=self._pending_emotion))
            self._pending_emotion = None

    def _on_emotion(self, raw: str) -> None:
        if self._emotion_seen:
            self._warn("a second emotion was ignored")
            return
        self._emotion_seen = True
        if self._text_started:
            self._warn("an emotion after the response started was ignored")
            return
        emotion = self.normalize_emotion(raw)
        if self._decision_sent:
            self._out.append(BrainDelta(emotion=emotion))
        else:
            self._pending_emotion = emotion

    def normalize_emotion(self, raw: str) -> str:
        """Map a free-form emotion word to one of ``emotions``; unknown → ``default_emotion`` with a warning."""
        value = _clean_value(raw)
        for candidate in (value, *re.split(r"[\s,/|]+|\band\b", value)):
            candidate = candidate.strip()
            if candidate in self.emotions:
                return candidate
            mapped = EMOTION_SYNONYMS.get(candidate)
            if mapped in self.emotions:
                return mapped
        self._warn(f"unknown emotion {raw.strip()!r}: treated as {self.default_emotion}")
        return self.default_emotion
