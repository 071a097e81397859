"""The runner against real backends at the HTTP boundary: what is sent per task, failures recorded, resume, concurrency."""
from __future__ import annotations

import asyncio
import copy
import json
import time
from pathlib import Path

from benchmarks.humansense.answerers import make_answerer
from benchmarks.humansense.cache import MediaCache
from benchmarks.humansense.loader import load_dataset
from benchmarks.humansense.results import ResultsFile
from benchmarks.humansense.runner import EvalOptions, run_eval
from dialogue.settings import BrainSettings

from tests.benchmarks.humansense.hs_data import ChatServer, parts_of

BRAIN = BrainSettings(model="tiny", retries=0, timeout_s=5.0)


def _run(data: Path, root: Path, out: Path, urls: list[str], options: EvalOptions, cache: Path | None = None):
    ds = load_dataset(data, root)
    res = ResultsFile(out, ds, "omni")
    answerer = make_answerer("openai", BRAIN, endpoints=urls)

    async def go():
        try:
            return await run_eval(ds, answerer, res, options, cache=MediaCache(cache) if cache else None)
        finally:
            await answerer.aclose()
    return asyncio.run(go())


def test_images_and_audio_go_to_the_right_tasks(minidata, tmp_path: Path) -> None:
    with ChatServer() as a, ChatServer() as b:
        summary = _run(minidata.vqa, minidata.root, tmp_path / "vqa.json", [a.base_url, b.base_url], EvalOptions())
        assert a.bodies and b.bodies                       # spread round-robin over both endpoints
        sent = {parts_of(body)[0]: parts_of(body)[1:] for body in a.bodies + b.bodies}
    by_question = {q: v for text, v in sent.items() for q in
                   ("How does the speaker feel", "What is the person doing", "Who is talking", "How many people appear",
                    "Is anything abnormal", "How close are they") if q in text}
    assert by_question == {
        "How does the speaker feel": (4, True),    # ES: frames and soundtrack
        "What is the person doing": (4, False),    # AR: frames only
        "Who is talking": (4, True),               # TR
        "How many people appear": (4, False),      # HC
        "Is anything abnormal": (4, False),        # AC
        "How close are they": (4, True),           # RR2
    }
    assert (summary.answered, summary.skipped, summary.failed) == (6, 1, 2)   # yes/no skipped; missing + corrupt media
    saved = json.loads((tmp_path / "vqa.json").read_text())
    assert saved[0]["questions"]["omni"] == "B"
    assert "omni" not in saved[11]["questions"] and "not found" in saved[11]["questions"]["omni_error"]
    assert "omni" not in saved[12]["questions"] and "corrupt.mp4" in saved[12]["questions"]["omni_error"]
    assert json.loads(minidata.vqa.read_text()) == minidata.vqa_items   # the data file itself is never written


def test_audio_only_items_send_audio_and_no_frames(minidata, tmp_path: Path) -> None:
    with ChatServer() as server:
        summary = _run(minidata.aqa, minidata.root, tmp_path / "aqa.json", [server.base_url], EvalOptions())
        assert sorted(parts_of(b)[1:] for b in server.bodies) == [(0, True), (0, True)]
        assert server.bodies[0]["messages"][0]["role"] == "system"
    assert summary.answered == 2


def test_no_audio_skips_audio_only_items_and_sends_no_soundtrack(minidata, tmp_path: Path) -> None:
    with ChatServer() as server:
        summary = _run(minidata.aqa, minidata.root, tmp_path / "aqa.json", [server.base_url],
                       EvalOptions(audio_columns=frozenset()))
        assert server.bodies == []
    assert summary.skip_reasons == {"audio-only media and audio is off": 2}


def test_an_empty_answer_is_a_failure_that_names_the_likely_cause(minidata, tmp_path: Path) -> None:
    with ChatServer(reply="") as server:
        summary = _run(minidata.aqa, minidata.root, tmp_path / "aqa.json", [server.base_url], EvalOptions())
    assert (summary.answered, summary.failed) == (0, 2)
    saved = json.loads((tmp_path / "aqa.json").read_text())
    assert all("omni" not in e["questions"] and "empty answer" in e["questions"]["omni_error"]
               and "--interrupt_requests false" in e["questions"]["omni_error"] for e in saved)


def test_rerun_resumes_and_retries_only_what_is_missing(minidata, tmp_path: Path) -> None:
    out = tmp_path / "vqa.json"
    with ChatServer() as server:
        _run(minidata.vqa, minidata.root, out, [server.base_url], EvalOptions(limit=3))
        assert len(server.bodies) == 3
        summary = _run(minidata.vqa, minidata.root, out, [server.base_url], EvalOptions())
        assert len(server.bodies) == 3 + 3         # HC, AC, RR2; the media failures fail again without a request
    assert summary.already == 3 and summary.answered == 3 and summary.failed == 2


def test_concurrency_scales_against_a_slow_endpoint(minidata, tmp_path: Path) -> None:
    items = [copy.deepcopy(minidata.vqa_items[1]) for _ in range(32)]
    for i, element in enumerate(items):
        element["questions"]["question"] = f"Question {i}"
    data = tmp_path / "many.json"
    data.write_text(json.dumps(items))
    timings = {}
    with ChatServer(delay_s=0.1) as server:
        for n in (1, 16):
            t = time.perf_counter()
            summary = _run(data, minidata.root, tmp_path / f"c{n}.json", [server.base_url],
                           EvalOptions(concurrency=n), cache=tmp_path / "cache")
            timings[n] = time.perf_counter() - t
            assert summary.answered == 32
        assert server.peak == 16
    assert timings[1] > 3.2                       # 32 requests one after another, 0.1 s each
    assert timings[16] < timings[1] / 4           # at least 4x faster with 16 in flight (ideal: 16x)


def test_agent_variant_puts_our_own_perception_before_the_prompt(minidata, tmp_path: Path) -> None:
    from benchmarks.humansense.agent_perception import AgentPerception

    ds = load_dataset(minidata.vqa, minidata.root)
    res = ResultsFile(tmp_path / "res.json", ds, "agent")
    with ChatServer() as server:
        answerer = make_answerer("openai", BRAIN, endpoints=[server.base_url])

        async def go():
            try:
                return await run_eval(ds, answerer, res, EvalOptions(variant="agent", tasks=frozenset({"ES", "AR"})),
                                      perception=AgentPerception())
            finally:
                await answerer.aclose()
        summary = asyncio.run(go())
        texts = {parts_of(b)[0].split("Question: ")[1].split(",")[0]: parts_of(b) for b in server.bodies}
    assert summary.answered == 2
    es_text, es_images, es_audio = texts["How does the speaker feel"]
    assert es_text.startswith("The following is what the agent's own perception noticed in the media:\n"
                              "Transcript (our ASR): ")
    assert "tired" in es_text.lower() and "Word sentiment: valence -" in es_text and "Voice: " in es_text
    assert es_images == 4 and es_audio
    ar_text, _, ar_audio = texts["What is the person doing"]
    assert "Speech: none heard." in ar_text and not ar_audio       # AR gets no soundtrack, and this clip has none


def test_agent_variant_face_summary_reads_the_frames():
    import cv2
    from skimage import data

    from benchmarks.humansense.agent_perception import FaceSummarizer

    face = cv2.resize(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), (420, 360))
    jpeg = cv2.imencode(".jpg", face)[1].tobytes()
    blank = cv2.imencode(".jpg", face * 0)[1].tobytes()
    line = FaceSummarizer()((jpeg, blank, jpeg))
    assert line.startswith("a face in 2 of 3 frames") and "happiness" in line
    assert FaceSummarizer()((blank,)) == "no face found in 1 frames."
