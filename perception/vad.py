"""Streaming voice activity detection: silero ONNX speech probabilities turned into turn events.

State machine, one step per 512-sample (32 ms) window with speech probability ``p``:

* SILENCE   -- ``p >= threshold``: a candidate turn begins at the window's start (the onset).
* CANDIDATE -- ``p < neg_threshold``: a blip, dropped without an event.
               Once the candidate has lasted ``min_speech_ms``: ``SpeechStarted(t=onset)`` -> SPEECH.
* SPEECH    -- ``p < neg_threshold``: ``SilenceStarted(t=pause onset, segment_start=onset)`` -> PAUSE.
* PAUSE     -- ``p >= threshold``: ``SpeechResumed(t)`` -> SPEECH.
               Once the pause has lasted ``end_of_turn_silence_ms``:
               ``SpeechEnded(start=onset, end=pause onset)`` -> SILENCE.

A turn that reaches ``max_turn_s`` is ended where it stands. The events carry times only: the
session keeps the user's audio and cuts each turn's clip from it.
"""
from __future__ import annotations

import enum
import logging
from pathlib import Path

import numpy as np
import onnxruntime as ort

from floor import SAMPLE_RATE, error_line, int16_to_float
from perception.settings import VadSettings
from perception.types import SilenceStarted, SpeechEnded, SpeechResumed, SpeechStarted

logger = logging.getLogger(__name__)

VadEvent = SpeechStarted | SilenceStarted | SpeechResumed | SpeechEnded

WINDOW = 512
"""Samples per model step at 16 kHz (32 ms)."""
_CONTEXT = 64
TAIL_S = 0.1
"""Audio a turn's clip keeps after the pause onset so ASR does not lose a word's release."""
_LAYOUTS = {
    frozenset({"input", "h", "c"}): "h_c",  # faster-whisper's silero_vad_v6.onnx
    frozenset({"input", "state", "sr"}): "state_sr",  # the silero-vad package's silero_vad.onnx
}


def bundled_model_path() -> Path:
    """The silero v6 ONNX file shipped inside faster-whisper."""
    from faster_whisper.utils import get_assets_path

    return Path(get_assets_path()) / "silero_vad_v6.onnx"


class SileroNet:
    """The silero ONNX network, loaded once and shared by every stream (onnxruntime's ``run`` is thread-safe and
    the recurrent state travels in the inputs), so a new conversation costs no model load and no native memory."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise FileNotFoundError(f"VAD model not found: {path}")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own exception types for unreadable files
            raise RuntimeError(f"cannot load VAD model {path}: {error_line(e)}") from e
        names = frozenset(i.name for i in self.session.get_inputs())
        layout = _LAYOUTS.get(names)
        if layout is None:
            raise ValueError(
                f"VAD model {path} has inputs {sorted(names)}; expected ['c', 'h', 'input'] "
                "(faster-whisper silero v6) or ['input', 'sr', 'state'] (silero-vad package)"
            )
        self.layout = layout

    @classmethod
    def for_settings(cls, settings: VadSettings) -> SileroNet:
        return cls(bundled_model_path() if settings.model == "bundled" else Path(settings.model).expanduser())


class SileroModel:
    """One streaming silero stream: carries the recurrent state and the 64-sample context between windows."""

    def __init__(self, net: SileroNet) -> None:
        self._session = net.session
        self._layout = net.layout
        self._sr = np.array(SAMPLE_RATE, dtype=np.int64)
        self._frame = np.zeros((1, _CONTEXT + WINDOW), dtype=np.float32)
        self.reset()

    def reset(self) -> None:
        self._frame[:] = 0.0
        if self._layout == "h_c":
            self._h = np.zeros((1, 1, 128), dtype=np.float32)
            self._c = np.zeros((1, 1, 128), dtype=np.float32)
        else:
            self._state = np.zeros((2, 1, 128), dtype=np.float32)

    def __call__(self, window: np.ndarray) -> float:
        """Speech probability of one 512-sample float32 window."""
        self._frame[0, _CONTEXT:] = window
        if self._layout == "h_c":
            prob, self._h, self._c = self._session.run(None, {"input": self._frame, "h": self._h, "c": self._c})
        else:
            prob, self._state = self._session.run(
                None, {"input": self._frame, "state": self._state, "sr": self._sr}
            )
        self._frame[0, :_CONTEXT] = window[-_CONTEXT:]
        return float(np.asarray(prob).reshape(-1)[0])


class _State(enum.Enum):
    SILENCE = "silence"
    CANDIDATE = "candidate"
    SPEECH = "speech"
    PAUSE = "pause"


class Vad:
    """Feed int16 audio in any piece sizes; get turn events (see the module docstring for the semantics)."""

    def __init__(self, settings: VadSettings, net: SileroNet | None = None, sample_rate: int = SAMPLE_RATE) -> None:
        """``net``: the loaded network to share (a process's :class:`agent.runtime.lanes.Models` holds one); loaded from
        ``settings.model`` when not given."""
        if sample_rate != SAMPLE_RATE:
            raise ValueError(f"Vad needs {SAMPLE_RATE} Hz audio, got sample_rate={sample_rate}")
        settings.validate()
        self.settings = settings
        self._model = SileroModel(net or SileroNet.for_settings(settings))
        self._min_speech_s = settings.min_speech_ms / 1000
        self._eot_s = settings.end_of_turn_silence_ms / 1000
        self.last_probability = 0.0
        self.reset()

    @property
    def in_speech(self) -> bool:
        """A turn is open (confirmed speech, possibly paused)."""
        return self._state in (_State.SPEECH, _State.PAUSE)

    def reset(self) -> None:
        """Forget the buffered audio, the open turn and the model state."""
        self._model.reset()
        self._state = _State.SILENCE
        self._pending = np.zeros(0, np.int16)
        self._anchor_t = 0.0
        self._anchor_samples = 0
        self._onset = 0.0
        self._pause_onset = 0.0
        self.last_probability = 0.0

    def feed(self, pcm: np.ndarray, t: float) -> list[VadEvent]:
        """Process ``pcm`` (int16 mono, any length) whose first sample is at timeline time ``t``."""
        if pcm.dtype != np.int16 or pcm.ndim != 1:
            raise ValueError(f"Vad.feed needs 1-D int16 PCM, got dtype {pcm.dtype} shape {pcm.shape}")
        if len(self._pending) == 0:
            # Re-anchor whenever no remainder is buffered; times count samples from the anchor so they never drift.
            self._anchor_t, self._anchor_samples = t, 0
        buf = np.concatenate((self._pending, pcm)) if len(self._pending) else pcm
        n_windows = len(buf) // WINDOW
        events: list[VadEvent] = []
        for i in range(n_windows):
            tw = self._anchor_t + (self._anchor_samples + i * WINDOW) / SAMPLE_RATE
            self._step(buf[i * WINDOW : (i + 1) * WINDOW], tw, events)
        self._anchor_samples += n_windows * WINDOW
        self._pending = buf[n_windows * WINDOW :].copy()
        return events

    def flush(self, t: float) -> list[VadEvent]:
        """End of stream at ``t``: close an open turn (ending at ``t``, or at the pause onset) and reset."""
        events: list[VadEvent] = []
        if self.in_speech:
            end = self._pause_onset if self._state is _State.PAUSE else max(t, self._onset)
            events.append(self._end_turn(end))
        self.reset()
        return events

    def _step(self, window: np.ndarray, tw: float, events: list[VadEvent]) -> None:
        s = self.settings
        p = self._model(int16_to_float(window))
        self.last_probability = p
        te = tw + WINDOW / SAMPLE_RATE
        state = self._state
        if state is _State.SILENCE:
            if p < s.threshold:
                return
            self._state = state = _State.CANDIDATE
            self._onset = tw
        elif state is _State.CANDIDATE and p < s.neg_threshold:
            self._state = _State.SILENCE
            return
        if state is _State.CANDIDATE:
            if te - self._onset >= self._min_speech_s:
                self._state = _State.SPEECH
                events.append(SpeechStarted(t=self._onset))
        elif state is _State.SPEECH:
            if p < s.neg_threshold:
                self._state = _State.PAUSE
                self._pause_onset = tw
                events.append(SilenceStarted(t=tw, segment_start=self._onset))
        elif p >= s.threshold:
            self._state = _State.SPEECH
            events.append(SpeechResumed(t=tw))
        elif te - self._pause_onset >= self._eot_s:
            events.append(self._end_turn(self._pause_onset))
            return
        if self.in_speech and te - self._onset >= s.max_turn_s:
            logger.info("turn reached max_turn_s=%.1f s at t=%.2f; ending it", s.max_turn_s, te)
            events.append(self._end_turn(self._pause_onset if self._state is _State.PAUSE else te))

    def _end_turn(self, end: float) -> SpeechEnded:
        self._state = _State.SILENCE
        return SpeechEnded(start=self._onset, end=end)
