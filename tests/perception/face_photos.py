"""A small labelled set of real photographs shipped in packages: faces (how many, smiling or not, head turned
or not) and photos with no face, for the face tests.

Sources: scikit-image's data (in the wheel), matplotlib's sample data (in the wheel) and Debian's opencv-doc
(the OpenCV documentation's example and tutorial images; ``make test`` installs it with apt). Labels were
set by looking at each photo; ``None`` means not labelled (ambiguous, e.g. a faint closed-mouth smile).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import matplotlib
import numpy as np
import pytest
from skimage import data

OPENCV_DOC = Path("/usr/share/doc/opencv-doc")


@dataclass(frozen=True)
class Photo:
    """One photograph: where it comes from and what it shows. ``turned``: the head is turned or tilted well
    away from the camera (25 degrees or more)."""
    name: str
    source: str
    faces: int
    smiling: bool | None = None
    turned: bool | None = None

    def image(self) -> np.ndarray:
        return _load(self.source)


@lru_cache(maxsize=None)
def _load(source: str) -> np.ndarray:
    kind, _, name = source.partition(":")
    if kind == "skimage":
        image = cv2.imread(str(Path(data.__file__).parent / name))
    elif kind == "matplotlib":
        image = cv2.imread(str(Path(matplotlib.get_data_path()) / "sample_data" / name))
    else:
        path = OPENCV_DOC / name
        if not path.is_file():
            pytest.skip(f"{path}: Debian's opencv-doc is not installed (make install-test installs it)")
        image = cv2.VideoCapture(str(path)).read()[1] if path.suffix == ".gif" else cv2.imread(str(path))
    assert image is not None, source
    image.flags.writeable = False
    return image


FACES = (
    Photo("astronaut", "skimage:astronaut.png", 1, smiling=True, turned=False),
    Photo("grace hopper", "matplotlib:grace_hopper.jpg", 1, turned=False),
    Photo("cameraman", "skimage:camera.png", 1, smiling=False, turned=True),
    Photo("smiling man", "opencv-doc:opencv4/html/227943776_1.jpg", 1, smiling=True),
    Photo("bearded man", "opencv-doc:opencv4/html/230501201_1.jpg", 1, smiling=False, turned=False),
    Photo("woman in red", "opencv-doc:opencv4/html/meanshift_face.gif", 1, smiling=False, turned=False),
    Photo("webcam smile", "opencv-doc:opencv4/html/Cascade_Classifier_Tutorial_Result_Haar.jpg", 1, smiling=True,
          turned=False),
    Photo("four yale faces", "opencv-doc:opencv4/html/lbp_yale.jpg", 4, smiling=False, turned=False),
    Photo("messi, small and far", "opencv-doc:examples/data/messi5.jpg", 1),
)
"""Real faces. The webcam smile has circles drawn round the eyes (a tutorial's output); the Yale faces are a
collage of one person in four lights above their LBP images."""

NO_FACES = (
    Photo("coffee", "skimage:coffee.png", 0), Photo("cat", "skimage:chelsea.png", 0), Photo("rocket", "skimage:rocket.jpg", 0),
    Photo("coins", "skimage:coins.png", 0), Photo("hubble", "skimage:hubble_deep_field.jpg", 0),
    Photo("motorcycle", "skimage:motorcycle_left.png", 0), Photo("tissue", "skimage:ihc.png", 0),
    Photo("mandrill", "opencv-doc:examples/data/baboon.jpg", 0),
    Photo("fruits", "opencv-doc:examples/data/fruits.jpg", 0),
    Photo("apple", "opencv-doc:examples/data/apple.jpg", 0),
    Photo("orange", "opencv-doc:examples/data/orange.jpg", 0),
    Photo("butterfly", "opencv-doc:examples/data/butterfly.jpg", 0),
    Photo("squirrel", "opencv-doc:examples/data/squirrel_cls.jpg", 0),
    Photo("building", "opencv-doc:examples/data/building.jpg", 0),
    Photo("home", "opencv-doc:examples/data/home.jpg", 0),
    Photo("books", "opencv-doc:examples/data/left.jpg", 0),
    Photo("aloe", "opencv-doc:examples/data/aloeL.jpg", 0),
    Photo("street", "opencv-doc:examples/data/leuvenA.jpg", 0),
    Photo("blurred car", "opencv-doc:examples/data/licenseplate_motion.jpg", 0),
    Photo("blurred text", "opencv-doc:examples/data/text_motion.jpg", 0),
)
"""Real photographs with no human face: animals with faces (a cat, a mandrill, a squirrel), round fruit,
textures, and the ones BlazeFace alone scores 0.5-0.7 (the apple, the orange, the books, the blurred text)."""
