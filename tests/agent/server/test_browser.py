"""The companion page in headless Chromium: fake mic and camera in, captions and the agent's voice out, stop works,
one bubble per answer, End conversation returns the page to its start, and the page loads without an error."""
import asyncio
import re
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import soundfile as sf

from agent.config import load_config
from agent.runtime.lanes import Models
from agent.server.app import CompanionServer
from agent.demo.synth import Line, render_audio

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"


def write_y4m(path, frames):
    h, w = frames[0].shape[:2]
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{w} H{h} F10:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            out.write(b"FRAME\n" + cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())


def face_frames(n=20, size=(320, 240)):
    from skimage import data

    face = cv2.resize(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), (int(size[0] * 1.1), int(size[1] * 1.1 * 4 / 3)))
    return [np.ascontiguousarray(face[i % 8: i % 8 + size[1], i % 8: i % 8 + size[0]]) for i in range(n)]


class ServerThread:
    """The server on its own event loop, so Playwright's synchronous API can drive the browser meanwhile."""

    def __init__(self, models):
        self.models = models
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        asyncio.set_event_loop(self.loop)

        async def start():
            self.server = CompanionServer(self.models.config, self.models)
            self.ws_server = await self.server.start("127.0.0.1", 0)
            self.port = self.ws_server.sockets[0].getsockname()[1]
            self.ready.set()
        self.loop.run_until_complete(start())
        self.loop.run_forever()

    def __enter__(self):
        self.thread.start()
        assert self.ready.wait(30)
        return self

    def shut_down(self):
        """Close the server as `serve` does on Ctrl-C: open conversations get 1001 "server shutting down"."""
        async def stop():
            self.ws_server.close(reason="server shutting down")
            await self.ws_server.wait_closed()
        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(30)

    def __exit__(self, *exc):
        self.shut_down()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


START = {"start": "Start conversation", "end": None, "stop": None, "mute": None, "speed": None}
LIVE = {"start": None, "end": "End conversation", "stop": "Stop agent", "mute": "Mute mic", "speed": ""}


def controls(page):
    """Each control's label, or None where it is disabled."""
    return page.evaluate("Object.fromEntries(['start', 'end', 'stop', 'mute', 'speed'].map(id => {"
                         " const el = document.getElementById(id); return [id, el.disabled ? null : el.textContent]; }))")


def wait_until(condition, seconds):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser")
    pcm, _ = render_audio([Line("Hi. I had a really rough day at work today, and I feel exhausted.", pause_after_s=14.0)],
                          lead_s=1.0)
    sf.write(folder / "talk.wav", pcm, 16000, subtype="PCM_16")
    write_y4m(folder / "face.y4m", face_frames())
    return folder / "talk.wav", folder / "face.y4m"


def test_page_captions_speaks_and_stops(media):
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium (/usr/bin/chromium) is not installed; this test never downloads a browser")
    sync_api = pytest.importorskip("playwright.sync_api")
    wav, y4m = media
    models = Models.load(load_config(None, ["output.terminal=false"]))
    args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={wav}", f"--use-file-for-fake-video-capture={y4m}",
            "--autoplay-policy=no-user-gesture-required"]
    try:
        with ServerThread(models) as server, sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=args, headless=True)
            # the page forbids eval (CSP); Playwright's own wait_for_function needs it
            page = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 800}).new_page()
            complaints = []  # console errors and failed requests (a missing favicon is both)
            page.on("console", lambda message: message.type == "error" and complaints.append(message.text))
            page.on("response", lambda response: response.status >= 400 and complaints.append(response.url))
            page.goto(f"http://127.0.0.1:{server.port}/")
            assert controls(page) == START
            page.keyboard.press("Tab")  # keyboard first: the start button takes focus and Enter starts
            assert page.evaluate("document.activeElement.id") == "start"
            page.keyboard.press("Enter")
            page.wait_for_function("window.hs.hello !== null && window.hs.hello.protocol === 1", timeout=30_000)
            page.wait_for_function("window.hs.framesSent > 20 && window.hs.jpegSent > 2", timeout=10_000)
            # The camera's face comes back read: landmarks drawn over the preview, gauges lit.
            page.wait_for_function("window.hs.face && window.hs.face.face_present && window.hs.face.smile !== null",
                                   timeout=10_000)
            drawn = page.evaluate("(() => { const c = document.getElementById('overlay');"
                                  " return c.getContext('2d').getImageData(0, 0, c.width, c.height).data"
                                  ".some((v, i) => i % 4 === 3 && v > 0); })()")
            assert drawn and "off" not in page.get_attribute("#face-gauges", "class")
            page.wait_for_function("window.hs.captions.some(c => c.who === 'user' && /rough day/i.test(c.text))",
                                   timeout=30_000)
            assert controls(page) == LIVE
            page.wait_for_function("window.hs.state === 'speaking' && window.hs.outRms > 0.01", timeout=20_000)
            # the answer's sentences, spoken one after another, fill one bubble with one emotion label
            page.wait_for_function("window.hs.sentences >= 2 && window.hs.state === 'speaking'", timeout=20_000)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "browser.png"))
            hs = page.evaluate("window.hs")
            bubbles = page.locator("#captions li.cap.agent")
            assert bubbles.count() == 1 and bubbles.locator(".tag").count() == 1
            (answer,) = [c for c in hs["captions"] if c["who"] == "agent"]
            assert answer["text"].count(".") + answer["text"].count("?") >= 2 and answer["emotion"]
            assert hs["maxOutRms"] > 0.01 and hs["samplesScheduled"] > 16000 * 0.5
            page.focus("#stop")
            page.keyboard.press("Enter")
            page.wait_for_timeout(400)
            after = page.evaluate("({rms: window.hs.outRms, played: window.hs.samplesPlayed, stops: window.hs.stops,"
                                  " state: window.hs.state})")
            assert after["stops"] >= 1 and after["state"] == "listening"
            assert after["rms"] < 1e-3 and after["played"] > 0
            page.wait_for_timeout(500)
            assert page.evaluate("window.hs.samplesPlayed") == after["played"]  # nothing plays after the stop
            page.wait_for_function("window.hs.lastLatencyMs !== null", timeout=5_000)
            detail = page.text_content("#latency-detail")
            assert detail and all(re.fullmatch(r"[a-z' ]+ \d+ ms", part) for part in detail.split(" · ")), detail
            assert page.text_content("#latency").endswith(" ms")

            page.click("#end")  # back to the start: nothing live but the start button, camera and mic released
            assert controls(page) == START and page.evaluate("window.hs.state") == "idle"
            assert page.text_content("#conn-text") == "not connected"
            assert page.evaluate("document.getElementById('preview').srcObject") is None
            wait_until(lambda: not server.server.connections, 10)  # the server saw the conversation end
            page.click("#start")  # and a new conversation starts from a clean page
            page.wait_for_function("window.hs.hello !== null", timeout=30_000)
            assert controls(page) == LIVE and page.locator("#captions li").count() == 0

            server.shut_down()  # as Ctrl-C on `serve`: the page says why and offers to reconnect
            page.wait_for_function("window.hs.hello === null", timeout=10_000)
            assert controls(page) == {**START, "start": "Reconnect"}
            assert page.text_content("#conn-text") == "disconnected: server shutting down"
            assert page.evaluate("window.hs.errors") == [] and complaints == []
            browser.close()
    finally:
        asyncio.run(models.aclose())
