"""JPEG, WAV and data-URL encodings the brain backends send."""
from __future__ import annotations

import base64
import io
import wave

import cv2
import numpy as np
import pytest

from dialogue.encoding import encode_jpeg, jpeg_data_url, pcm16, wav_base64, wav_bytes


def test_encode_jpeg_round_trips_a_bgr_frame() -> None:
    frame = np.zeros((48, 64, 3), np.uint8)
    frame[:, :, 2] = 200  # red in BGR
    jpeg = encode_jpeg(frame, quality=90)
    back = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert back.shape == (48, 64, 3)
    assert abs(int(back[..., 2].mean()) - 200) < 6 and back[..., 0].mean() < 6


def test_encode_jpeg_converts_rgb_when_told() -> None:
    frame = np.zeros((32, 32, 3), np.uint8)
    frame[:, :, 0] = 200  # red in RGB
    back = cv2.imdecode(np.frombuffer(encode_jpeg(frame, rgb=True), np.uint8), cv2.IMREAD_COLOR)
    assert back[..., 2].mean() > 190 and back[..., 0].mean() < 6


def test_quality_changes_the_size() -> None:
    rng = np.random.default_rng(0)
    frame = cv2.GaussianBlur(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8), (5, 5), 2)
    assert len(encode_jpeg(frame, 30)) < len(encode_jpeg(frame, 95))


@pytest.mark.parametrize("bad", [np.zeros((4, 4, 3), np.float32), np.zeros((4, 4, 4), np.uint8)])
def test_encode_jpeg_rejects_non_images(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="uint8"):
        encode_jpeg(bad)


def test_jpeg_data_url_is_base64_of_the_bytes() -> None:
    jpeg = encode_jpeg(np.full((8, 8, 3), 128, np.uint8))
    url = jpeg_data_url(jpeg)
    assert url.startswith("data:image/jpeg;base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == jpeg
    with pytest.raises(ValueError, match="not JPEG"):
        jpeg_data_url(b"\x89PNG....")


def test_wav_bytes_hold_the_int16_samples_at_16k() -> None:
    samples = np.array([0, 1, -1, 32767, -32768, 1234], np.int16)
    with wave.open(io.BytesIO(wav_bytes(samples))) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (1, 2, 16000, 6)
        np.testing.assert_array_equal(np.frombuffer(w.readframes(6), "<i2"), samples)
    assert base64.b64decode(wav_base64(samples)) == wav_bytes(samples)


def test_float_audio_is_scaled_and_clipped() -> None:
    np.testing.assert_array_equal(pcm16(np.array([0.0, 0.5, -1.0, 2.0])), [0, 16384, -32768, 32767])
    with pytest.raises(ValueError, match="mono"):
        wav_bytes(np.zeros((10, 2), np.int16))
    with pytest.raises(ValueError, match="int16 or float"):
        pcm16(np.zeros(4, np.int32))
