"""The demo conversation: a few user lines with feeling, pauses and one mid-thought hesitation, and what the face
does meanwhile (it nods at the answers, looks away to think, and its expression follows the story), rendered once."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import cv2
import numpy as np

from agent.demo.acting import Beat, performance
from agent.demo.puppet import Puppet
from agent.demo.synth import RENDER_VERSION, Line, render_audio, save_truth, scene_size, write_media

VIDEO_SIZE = (640, 480)
ANSWER_S = 10.5
"""A pause after each line long enough for the agent's whole answer (the cue brain's run 5-9 s), so none is cut."""
DEMO_LINES = (
    Line("Hi there. I just got back from a long day at work.", ANSWER_S),
    Line("Honestly, I'm feeling pretty stressed about my exam next week.", ANSWER_S),
    Line("I studied a lot, but I keep thinking | that I will forget everything.", ANSWER_S, hesitation_s=1.5),
    Line("Oh, and guess what? My sister just told me she's having a baby!", ANSWER_S),
    Line("Thanks for listening to me. What should I do tonight to relax?", 5.0),  # the session waits for the answer
)
DEMO_FACE = (
    Beat(0, "start", 0.0, "tired"),
    Beat(0, "end", 2.5, "nod", 0.9),              # listening to the answer
    Beat(1, "start", 0.5, "worried"),
    Beat(1, "end", 3.0, "shake", 1.4),            # rueful, while the agent answers
    Beat(2, "end", -0.3, "look away", 2.1),       # thinking through the pause, mouth open: not done
    Beat(3, "start", 0.3, "nervous smile"),       # a brave smile over "I will forget everything": masking
    Beat(4, "start", 0.0, "neutral"),
    Beat(4, "end", -0.8, "beaming"),              # "a baby!": joy the words explain
    Beat(4, "end", 2.0, "nod", 0.9),
    Beat(4, "end", 4.0, "nod", 0.9),
    Beat(5, "start", 0.0, "warm"),
    Beat(5, "end", 2.5, "nod", 0.9),
)
"""The face's part, tied to the spoken pieces (the hesitating line is two: pieces 2 and 3)."""


def demo_face() -> np.ndarray:
    """A real photo of a face with a straight expression (matplotlib's sample Grace Hopper, public domain) as BGR,
    cropped to 4:3 around the face."""
    import matplotlib

    photo = cv2.imread(str(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"))
    if photo is None:
        raise FileNotFoundError("matplotlib's sample photo grace_hopper.jpg is missing")
    return photo[40:424]


def demo_media_name() -> str:
    """The cached media's file name: a hash of all that shapes it (the render version, the lines, the face's part)."""
    script = [RENDER_VERSION, *(asdict(line) for line in DEMO_LINES), *(asdict(beat) for beat in DEMO_FACE)]
    return f"demo-{hashlib.sha1(json.dumps(script).encode()).hexdigest()[:10]}.mp4"


def build_demo_media(cache_dir: str | Path) -> Path:
    """The demo MP4, built once per script version."""
    path = Path(cache_dir) / demo_media_name()
    if not path.exists() or not Path(str(path) + ".truth.json").exists():
        pcm, truth = render_audio(DEMO_LINES)
        puppet, pose = Puppet(demo_face(), scene_size(VIDEO_SIZE)), performance(DEMO_FACE, truth)
        write_media(path, pcm, lambda t: puppet.render(pose(t)), size=VIDEO_SIZE)
        save_truth(path, truth)
    return path
