"""The face's part in a synthetic conversation: expressions held and gestures made at moments tied to the spoken
lines, turned into the face's pose at any instant."""
from __future__ import annotations

import math
from dataclasses import astuple, dataclass
from typing import Callable, Sequence

from agent.demo.puppet import Pose
from agent.demo.synth import Utterance

EXPRESSIONS: dict[str, Pose] = {
    "neutral": Pose(),
    "tired": Pose(smile=-0.03),
    "worried": Pose(smile=-0.06, brows=0.06),
    "nervous smile": Pose(smile=0.1),
    "beaming": Pose(smile=0.18),
    "warm": Pose(smile=0.13),
}
"""What each expression does to the photo's own (neutral) face."""
CHANGE_S = 0.5
"""An expression takes this long to settle into the next one."""
GESTURES = ("nod", "shake", "look away")
NOD_DEG, SHAKE_DEG = 13.0, 14.0
"""A nod lifts the chin this far and back (a "yes, go on" nod: a photo tipped down reads as looking down too, its
eyes cannot stay on the camera); a shake turns the head this far each way, twice ("no, no"). The cue path looks
for 8 and 10 degrees out and back."""
LOOK_AWAY = Pose(pitch=-10.0, yaw=5.0, mouth=0.11)
"""Thinking: head and eyes turned down and a little aside (about 30 degrees from the camera), the mouth open as
before a word. Down, not far aside: a photo turned far aside folds at the cheek."""
TURN_S = 0.3
"""How long looking away (and back) takes."""


@dataclass(frozen=True)
class Beat:
    """From ``offset_s`` after the start or end (``at``) of spoken piece ``piece`` (an index into the ground truth),
    the face shows expression ``what`` (held until the next expression) or makes gesture ``what`` for ``for_s``."""
    piece: int
    at: str
    offset_s: float
    what: str
    for_s: float = 1.0

    def __post_init__(self) -> None:
        if self.at not in ("start", "end"):
            raise ValueError(f"beat at {self.at!r}: expected 'start' or 'end'")
        if self.what not in EXPRESSIONS and self.what not in GESTURES:
            raise ValueError(f"beat {self.what!r}: not an expression ({', '.join(EXPRESSIONS)}) "
                             f"or a gesture ({', '.join(GESTURES)})")

    def time(self, truth: Sequence[Utterance]) -> float:
        piece = truth[self.piece]
        return (piece.start_s if self.at == "start" else piece.end_s) + self.offset_s


def _combine(*terms: tuple[float, Pose]) -> Pose:
    """The weighted sum of poses."""
    return Pose(*(sum(w * v for w, v in zip((w for w, _ in terms), values))
                  for values in zip(*(astuple(p) for _, p in terms))))


def _ease(u: float) -> float:
    u = min(1.0, max(0.0, u))
    return u * u * (3 - 2 * u)


def gesture(name: str, u: float, length_s: float) -> Pose:
    """The pose gesture ``name`` adds at fraction ``u`` (0..1) of its ``length_s``."""
    if name == "nod":
        return Pose(pitch=NOD_DEG * math.sin(math.pi * u))
    if name == "shake":
        return Pose(yaw=SHAKE_DEG * math.sin(4 * math.pi * u))
    ramp = TURN_S / max(length_s, 1e-6)
    return _combine((min(_ease(u / ramp), _ease((1 - u) / ramp)), LOOK_AWAY))


def performance(beats: Sequence[Beat], truth: Sequence[Utterance]) -> Callable[[float], Pose]:
    """The face's pose at media time t for ``beats`` over the conversation whose ground truth is ``truth``."""
    timed = sorted(((b.time(truth), b) for b in beats), key=lambda tb: tb[0])
    changes = [(t, EXPRESSIONS[b.what]) for t, b in timed if b.what in EXPRESSIONS]
    moves = [(t, b) for t, b in timed if b.what in GESTURES]

    def pose(t: float) -> Pose:
        face = Pose()
        for start, target in changes:
            if t < start:
                break
            w = _ease((t - start) / CHANGE_S)
            face = _combine((1 - w, face), (w, target))
        terms = [(1.0, face)] + [(1.0, gesture(b.what, (t - start) / b.for_s, b.for_s))
                                 for start, b in moves if start <= t < start + b.for_s]
        return _combine(*terms)

    return pose

