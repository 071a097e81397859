"""Ground-truth measurement of one replay: agent speech found by energy in the recording, set against true user turns.

Definitions (times in seconds on the media timeline):
- agent spans: runs of agent-channel audio above ``ONSET_LEVEL``, gaps under ``MERGE_GAP_S`` merged;
- voice-to-voice: true end of a user turn -> first agent span onset before the next user turn starts;
- unanswered: a user turn with no agent onset between its true end and the next turn's start;
- barge-in: a user turn starting while the agent speaks; its stop time is span end - true user start;
- cut-in: an agent span overlapping a user turn, except a barge-in stopped within ``BARGE_IN_GRACE_S``;
- proactive: an agent onset inside a scripted ``silence`` window;
- lost words: words of the whole (joined) true turn with no counterpart in the matched turns.json
  ``user_text`` (deletions in a word alignment); a turn with no matching report loses all its words; its
  word error rate is that of the whole turn's text;
- extra turns: turns.json entries matching no true turn (a turn split in two, or an overlap taken for a turn);
- overlaps (backchannels, coughs, false interruptions): see :mod:`benchmarks.latency.overlaps`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from benchmarks.latency.overlaps import STOP_GAP_S, OverlapMeasure, measure_overlap
from benchmarks.latency.render import GroundTruth, TrueTurn
from floor import SAMPLE_RATE

ONSET_LEVEL = 100
"""int16 amplitude (about -50 dBFS) above which the agent channel counts as sounding."""
FRAME_S = 0.005
MERGE_GAP_S = 0.3
MIN_SPAN_S = 0.02
BARGE_IN_GRACE_S = 0.3
MATCH_WINDOW_S = 2.0
"""A turns.json entry is matched to a true turn when its detected end lies this close to the true end."""
STAGES: tuple[str, ...] = ("endpoint_wait", "asr_start", "asr", "cues", "brain_first_token", "brain_first_sentence",
                           "tts_first_audio")


@dataclass(frozen=True)
class Recording:
    """``user`` is channel 0 (input as received), ``agent`` channel 1 (output as played); int16."""
    user: np.ndarray = field(repr=False)
    agent: np.ndarray = field(repr=False)
    sample_rate: int = SAMPLE_RATE


@dataclass(frozen=True)
class TurnMeasure:
    turn: int
    true_start_s: float
    true_end_s: float
    interrupt: bool
    v2v_ms: float | None
    barge_in_stop_ms: float | None
    cut_in: bool
    stages_ms: dict[str, float | None] = field(default_factory=dict)
    reported_v2v_ms: float | None = None
    word_error_rate: float | None = None  # of the matched report's transcript of the whole turn
    text: str = ""                         # what the user really said (all of the turn's fragments)
    words: int = 0
    lost_words: int = 0
    reported: bool = False                 # a turns.json entry matched this turn

    @property
    def overhead_ms(self) -> float | None:
        """The runtime's own share: reported voice-to-voice minus whichever was longer, the endpoint wait or
        the critical path of the speculative work started at the pause (its start, ASR, voice and word cues,
        brain to first sentence, TTS of it)."""
        s = self.stages_ms
        parts = [s.get("asr_start"), s.get("asr"), s.get("cues"), s.get("brain_first_sentence"), s.get("tts_first_audio")]
        if self.reported_v2v_ms is None or s.get("endpoint_wait") is None or any(p is None for p in parts):
            return None
        return self.reported_v2v_ms - max(s["endpoint_wait"], sum(parts))  # type: ignore[arg-type]

    @property
    def answered(self) -> bool:
        return self.v2v_ms is not None


@dataclass(frozen=True)
class RunMeasure:
    turns: tuple[TurnMeasure, ...]
    agent_spans: tuple[tuple[float, float], ...]
    cut_ins: int
    unanswered: int
    barge_ins: int
    proactive: int
    overlaps: tuple[OverlapMeasure, ...] = ()
    extra_turns: int = 0
    traced: bool = False


def read_recording(path: str | Path) -> Recording:
    """A replay's ``--record`` WAV; raises ValueError unless it is 2-channel 16-bit PCM."""
    data, sr = sf.read(str(path), dtype="int16", always_2d=True)
    if data.shape[1] != 2:
        raise ValueError(f"{path}: expected a stereo recording (user, agent), got {data.shape[1]} channel(s)")
    return Recording(user=data[:, 0].copy(), agent=data[:, 1].copy(), sample_rate=int(sr))


def agent_spans(agent: np.ndarray, sample_rate: int, merge_gap_s: float = MERGE_GAP_S) -> list[tuple[float, float]]:
    """Sounding spans of the agent channel, with sample-accurate onsets and ends."""
    loud = np.flatnonzero(np.abs(agent.astype(np.int32)) >= ONSET_LEVEL)
    if not len(loud):
        return []
    gap = round(merge_gap_s * sample_rate)
    breaks = np.flatnonzero(np.diff(loud) > gap)
    starts = np.concatenate(([loud[0]], loud[breaks + 1]))
    ends = np.concatenate((loud[breaks], [loud[-1]])) + 1
    return [(int(s) / sample_rate, int(e) / sample_rate) for s, e in zip(starts, ends)
            if (e - s) >= MIN_SPAN_S * sample_rate]


def _match_reports(truth: tuple[TrueTurn, ...], reports: list[dict[str, Any]]) -> dict[int, int]:
    """True turn index -> index of the closest turns.json entry by detected end (each entry used once); an entry
    whose speech starts after the true turn ended (e.g. a false interruption taken for a turn) is not its report."""
    pairs = sorted(
        (abs(float(r["user_end_s"]) - t.end_s), t.index, i)
        for t in truth for i, r in enumerate(reports)
        if r.get("user_end_s") is not None and abs(float(r["user_end_s"]) - t.end_s) <= MATCH_WINDOW_S
        and (r.get("user_start_s") is None or float(r["user_start_s"]) < t.end_s))
    matched: dict[int, int] = {}
    for _, turn, report in pairs:
        if turn not in matched and report not in matched.values():
            matched[turn] = report
    return matched


def lost_words(reference: str, hypothesis: str) -> int:
    """Reference words with no counterpart in the hypothesis: the deletions of a word alignment (difflib's)."""
    from perception.wer import normalize_words

    ref, hyp = normalize_words(reference), normalize_words(hypothesis)
    return sum(max(0, (i2 - i1) - (j2 - j1))
               for tag, i1, i2, j1, j2 in SequenceMatcher(a=ref, b=hyp, autojunk=False).get_opcodes()
               if tag in ("delete", "replace"))


def _words(turn: TrueTurn, report: dict[str, Any] | None) -> tuple[float | None, int, int]:
    """(word error rate, reference words, lost words) of the whole turn against the report's transcript."""
    from perception.wer import normalize_words, word_error_rate

    words = len(normalize_words(turn.text))
    if report is None:
        return None, words, words
    said = str(report.get("user_text") or "")
    return word_error_rate(turn.text, said), words, lost_words(turn.text, said)


def _ms(value: Any) -> float | None:
    return None if value is None else float(value)


def measure(truth: GroundTruth, recording: Recording, reports: list[dict[str, Any]] | None = None,
            trace: list[dict[str, Any]] | None = None) -> RunMeasure:
    """Measure a run from the ground truth and its recording; ``reports`` (turns.json) adds stage times and
    transcripts, ``trace`` (trace.jsonl's events; None when absent) the runtime's own account of overlaps."""
    reports = reports or []
    spans = agent_spans(recording.agent, recording.sample_rate)
    matched = _match_reports(truth.turns, reports)
    turns: list[TurnMeasure] = []
    cut_in_spans: set[int] = set()
    for k, turn in enumerate(truth.turns):
        horizon = truth.turns[k + 1].start_s if k + 1 < len(truth.turns) else float("inf")
        onset = next((s for s, _ in spans if turn.end_s <= s < horizon), None)
        barge_stop = None
        cut_in = False
        for j, (s, e) in enumerate(spans):
            if e <= turn.start_s or s >= turn.end_s:
                continue
            if s < turn.start_s:
                barge_stop = (e - turn.start_s) * 1000
                if e - turn.start_s <= BARGE_IN_GRACE_S:
                    continue
            cut_in = True
            cut_in_spans.add(j)
        report = reports[matched[turn.index]] if turn.index in matched else None
        latency = (report or {}).get("latency_ms") or {}
        wer, words, lost = _words(turn, report)
        turns.append(TurnMeasure(
            turn=turn.index, true_start_s=turn.start_s, true_end_s=turn.end_s, interrupt=turn.interrupt,
            v2v_ms=None if onset is None else (onset - turn.end_s) * 1000, barge_in_stop_ms=barge_stop,
            cut_in=cut_in, stages_ms={s: _ms(latency.get(s)) for s in STAGES},
            reported_v2v_ms=_ms(latency.get("voice_to_voice")), word_error_rate=wer, text=turn.text,
            words=words, lost_words=lost, reported=report is not None))
    proactive = sum(1 for s, _ in spans for a, b in truth.silences if a <= s < b)
    stop_spans = agent_spans(recording.agent, recording.sample_rate, STOP_GAP_S)
    overlaps = tuple(measure_overlap(o, stop_spans, truth, reports, trace) for o in truth.overlaps)
    return RunMeasure(turns=tuple(turns), agent_spans=tuple(spans), cut_ins=len(cut_in_spans),
                      unanswered=sum(1 for t in turns if not t.answered),
                      barge_ins=sum(1 for t in turns if t.barge_in_stop_ms is not None), proactive=proactive,
                      overlaps=overlaps, extra_turns=len(reports) - len(matched), traced=trace is not None)
