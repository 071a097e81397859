"""The server tests' shared fixtures: the embedded models, loaded once per module, and one spoken sentence."""
import asyncio

import pytest

from agent.config import load_config
from agent.demo.synth import Line, render_audio
from agent.runtime.lanes import Models


@pytest.fixture(scope="module")
def models():
    loaded = Models.load(load_config(None, ["output.terminal=false"]))
    yield loaded
    asyncio.run(loaded.aclose())


@pytest.fixture(scope="module")
def utterance():
    pcm, truth = render_audio([Line("Hello, I had a really rough day at work today.", pause_after_s=2.5)], lead_s=0.5)
    return pcm, truth
