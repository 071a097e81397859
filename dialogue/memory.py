"""Dialogue history within a token budget: recent turns verbatim, older ones folded into an extractive summary."""
from __future__ import annotations

import dataclasses
import logging
import math
import re
from typing import Callable, Sequence


from dialogue.types import DialogueTurn
from perception.sentiment import vader

logger = logging.getLogger(__name__)

SUMMARY_SHARE = 0.25
"""At most this share of the budget goes to the summary of folded turns."""
FOLDED_KEPT = 256
"""Folded turns the summary is drawn from: the oldest go, so a long session's memory and summarizing stay bounded."""

_SENTENCE = re.compile(r"[^.!?]+[.!?]*")
_WORD = re.compile(r"[A-Za-z']+")
_STOPWORDS = frozenset(
    "a an the and or but so if then than that this these those is am are was were be been being have has had do does "
    "did i me my mine you your yours he him his she her it its we us our they them their what which who whom when "
    "where why how to of in on at by for with about from up down out over under again just very really too also "
    "not no yes yeah oh um uh like well okay ok there here can could would should will shall may might must "
    "i'm i've i'll i'd you're it's that's don't can't didn't won't get got go going".split())
# Agent sentences that bind the agent later are worth keeping in the summary.
_COMMITMENT = re.compile(r"\b(i'll|i will|i can|i promise|let's|let us|remember|i'm going to|next time)\b", re.I)


def estimate_tokens(text: str) -> int:
    """Word-based token estimate (~1.3 tokens a word) for when no tokenizer is at hand."""
    return math.ceil(len(text.split()) * 1.3)


def format_turn(turn: DialogueTurn) -> str:
    """The line a turn takes in a prompt; the agent is addressed as "You"."""
    speaker = "User" if turn.role == "user" else "You"
    cut = " [interrupted: the user heard only this]" if turn.interrupted else ""
    return f"{speaker}: {turn.text}{cut}"


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


def _salience(sentence: str) -> float:
    content = sum(1 for w in _WORD.findall(sentence.lower()) if w not in _STOPWORDS and len(w) > 2)
    return content + 4.0 * abs(vader().polarity_scores(sentence)["compound"])


def extractive_summary(turns: Sequence[DialogueTurn], max_sentences: int = 4) -> str:
    """Pick the most telling sentences of ``turns``, in the order they were said.

    User sentences rank by content words plus sentiment strength; up to a third of
    the picks (at least one) may be agent commitments ("I'll…", "let's…"). Ties go to
    the earlier sentence, so the result is deterministic.
    """
    if max_sentences < 1:
        raise ValueError(f"max_sentences must be at least 1, got {max_sentences}")
    user: list[tuple[float, int, str]] = []
    agent: list[tuple[float, int, str]] = []
    order = 0
    for turn in turns:
        for sentence in _sentences(turn.text):
            if turn.role == "user":
                user.append((_salience(sentence), order, sentence))
            elif _COMMITMENT.search(sentence):
                agent.append((_salience(sentence), order, f"You said: {sentence}"))
            order += 1
    agent_slots = max(1, max_sentences // 3) if agent else 0
    picked = sorted(agent, key=lambda s: (-s[0], s[1]))[:agent_slots]
    picked += sorted(user, key=lambda s: (-s[0], s[1]))[:max_sentences - len(picked)]
    if len(picked) < max_sentences:
        rest = sorted(agent, key=lambda s: (-s[0], s[1]))[agent_slots:]
        picked += rest[:max_sentences - len(picked)]
    picked.sort(key=lambda s: s[1])
    return " ".join(s[2] for s in picked)


class DialogueMemory:
    """Keeps the conversation; :meth:`render` returns what fits in ``budget_tokens``.

    When the turns outgrow the budget, all but the ``keep_recent`` newest are folded
    into an extractive summary (in one go, so the prompt prefix stays stable for a
    while); more are folded if even those do not fit.
    """

    def __init__(self, budget_tokens: int, count_tokens: Callable[[str], int] | None = None,
                 keep_recent: int = 12) -> None:
        if budget_tokens < 16:
            raise ValueError(f"DialogueMemory budget_tokens must be at least 16, got {budget_tokens}")
        if keep_recent < 1:
            raise ValueError(f"DialogueMemory keep_recent must be at least 1, got {keep_recent}")
        self.budget_tokens = budget_tokens
        self.count_tokens = count_tokens or estimate_tokens
        self.keep_recent = keep_recent
        self._folded: list[DialogueTurn] = []
        self._recent: list[DialogueTurn] = []
        self._summary = ""

    @property
    def turns(self) -> tuple[DialogueTurn, ...]:
        """Every turn so far, folded ones included, oldest first."""
        return (*self._folded, *self._recent)

    @property
    def summary(self) -> str:
        return self._summary

    def add(self, turn: DialogueTurn) -> None:
        if turn.role not in ("user", "agent"):
            raise ValueError(f"DialogueTurn.role must be 'user' or 'agent', got {turn.role!r}")
        self._recent.append(turn)
        self._fit()

    def replace_last_agent(self, text: str, interrupted: bool) -> None:
        """Barge-in: the last agent turn keeps only what was actually played (dropped if nothing was)."""
        for i in range(len(self._recent) - 1, -1, -1):
            if self._recent[i].role == "agent":
                if text.strip():
                    self._recent[i] = dataclasses.replace(self._recent[i], text=text, interrupted=interrupted)
                else:
                    del self._recent[i]
                return
        raise ValueError("replace_last_agent: there is no recent agent turn to replace")

    def render(self) -> tuple[str, tuple[DialogueTurn, ...]]:
        """(summary of the folded older turns, the recent turns); together within the budget."""
        return self._summary, tuple(self._recent)

    def _turn_cost(self, turn: DialogueTurn) -> int:
        return self.count_tokens(format_turn(turn))

    def _used(self) -> int:
        return self._summary_cost() + sum(self._turn_cost(t) for t in self._recent)

    def _summary_cost(self) -> int:
        return self.count_tokens(self._summary) if self._summary else 0

    def _fit(self) -> None:
        if self._used() <= self.budget_tokens:
            return
        fold = max(0, len(self._recent) - self.keep_recent)
        summary_cap = int(self.budget_tokens * SUMMARY_SHARE)
        room = self.budget_tokens - summary_cap
        costs = [self._turn_cost(t) for t in self._recent]
        while fold < len(self._recent) - 1 and sum(costs[fold:]) > room:
            fold += 1
        if fold:
            self._folded.extend(self._recent[:fold])
            del self._folded[:-FOLDED_KEPT]
            del self._recent[:fold]
            self._summary = self._summarize(summary_cap)
            logger.debug("folded %d turns; %d recent kept", fold, len(self._recent))
        last = self._recent[-1]
        over = self._used() - self.budget_tokens
        if over > 0:
            self._recent[-1] = self._shorten(last, self._turn_cost(last) - over)

    def _summarize(self, cap: int) -> str:
        for n in (4, 3, 2, 1):
            summary = extractive_summary(self._folded, max_sentences=n)
            if self.count_tokens(summary) <= cap:
                return summary
        return self._truncate_words(summary, cap, keep_end=False)

    def _shorten(self, turn: DialogueTurn, cost: int) -> DialogueTurn:
        """A single turn longer than the budget keeps its end (what was said last matters most)."""
        logger.warning("a %s turn of %d tokens exceeds the history budget; its start is cut", turn.role,
                       self._turn_cost(turn))
        overhead = self._turn_cost(dataclasses.replace(turn, text=""))
        return dataclasses.replace(turn, text=self._truncate_words(turn.text, cost - overhead, keep_end=True))

    def _truncate_words(self, text: str, cap: int, keep_end: bool) -> str:
        words = text.split()
        lo, hi = 0, len(words)
        while lo < hi:  # the most words that fit
            mid = (lo + hi + 1) // 2
            part = words[-mid:] if keep_end else words[:mid]
            if self.count_tokens("… " + " ".join(part)) <= cap:
                lo = mid
            else:
                hi = mid - 1
        if lo == 0:
            return ""
        part = words[-lo:] if keep_end else words[:lo]
        return "… " + " ".join(part) if keep_end else " ".join(part) + " …"
