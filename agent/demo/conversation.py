"""The demo conversation: a few user lines with feeling, pauses and one mid-thought hesitation, rendered once."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import cv2
import numpy as np

from agent.demo.synth import RENDER_VERSION, Line, render_conversation

DEMO_LINES = (
    Line("Hi there. I just got back from a long day at work.", 7.5),
    Line("Honestly, I'm feeling pretty stressed about my exam next week.", 8.0),
    Line("I studied a lot, but I keep thinking | that I will forget everything.", 8.0, hesitation_s=1.5),
    Line("Oh, and guess what? My sister just told me she's having a baby!", 8.0),
    Line("Thanks for listening to me. What should I do tonight to relax?", 8.0),
)


def demo_face() -> np.ndarray:
    """A real photo of a face (scikit-image's astronaut, public domain) as BGR."""
    from skimage import data

    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


def build_demo_media(cache_dir: str | Path) -> Path:
    """The demo MP4, built once per script version (cached by a hash of the lines)."""
    key = hashlib.sha1(json.dumps([RENDER_VERSION, *(asdict(line) for line in DEMO_LINES)]).encode()).hexdigest()[:10]
    path = Path(cache_dir) / f"demo-{key}.mp4"
    if not path.exists() or not Path(str(path) + ".truth.json").exists():
        render_conversation(DEMO_LINES, path, face=demo_face())
    return path
