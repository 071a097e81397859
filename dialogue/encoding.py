"""Media encodings the brain backends send: JPEG frames, 16 kHz WAV audio, base64 data URLs."""
from __future__ import annotations

import base64

import cv2
import numpy as np

from floor import SAMPLE_RATE, float_to_int16
from perception.audio import wav_bytes


def encode_jpeg(image: np.ndarray, quality: int = 85, *, rgb: bool = False) -> bytes:
    """JPEG bytes of an HxWx3 uint8 frame (BGR as OpenCV holds it, or RGB with ``rgb=True``) or an HxW gray one."""
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
        raise ValueError(f"encode_jpeg needs an HxW or HxWx3 uint8 image, got {image.dtype} {image.shape}")
    if not 1 <= quality <= 100:
        raise ValueError(f"JPEG quality must be 1..100, got {quality}")
    if rgb and image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError(f"OpenCV could not JPEG-encode an image of shape {image.shape}")
    return buf.tobytes()


def jpeg_data_url(jpeg: bytes) -> str:
    """``data:image/jpeg;base64,…`` for JPEG bytes (checked by their magic number)."""
    if not jpeg.startswith(b"\xff\xd8"):
        raise ValueError(f"not JPEG data (starts with {jpeg[:4]!r})")
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


def pcm16(samples: np.ndarray) -> np.ndarray:
    """Mono int16 samples from int16 or float (-1..1) input."""
    if samples.ndim != 1:
        raise ValueError(f"audio must be mono (1-D), got shape {samples.shape}")
    if samples.dtype == np.int16:
        return samples
    if np.issubdtype(samples.dtype, np.floating):
        return float_to_int16(samples)
    raise ValueError(f"audio must be int16 or float, got {samples.dtype}")


def wav_base64(pcm16k: np.ndarray, sample_rate: int = SAMPLE_RATE) -> str:
    """Base64 of :func:`wav_bytes`, as the ``input_audio`` content part carries it."""
    return base64.b64encode(wav_bytes(pcm16k, sample_rate)).decode("ascii")


__all__ = ["encode_jpeg", "jpeg_data_url", "pcm16", "wav_base64", "wav_bytes"]
