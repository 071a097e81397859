"""The memory player: what the user would hear, sentence by sentence, cut where playback stopped."""
import asyncio

import numpy as np

from agent.media.sinks.memory import MemoryPlayer, Played
from agent.runtime.clock import MediaClock
from speech.types import SpokenAudio


def sentence(text: str, seconds: float) -> tuple[SpokenAudio, np.ndarray]:
    pcm = np.zeros(int(seconds * 16000), np.int16)
    return SpokenAudio(text, pcm, 16000), pcm


def test_sentences_play_back_to_back_and_a_stop_cuts_the_one_playing_and_forgets_the_ones_not_begun():
    async def scenario():
        clock = MediaClock()
        player = MemoryPlayer(clock)
        first = asyncio.ensure_future(player.play(*sentence("one two", 1.0)))
        second = asyncio.ensure_future(player.play(*sentence("three four", 1.0)))
        await asyncio.sleep(0)
        queued = list(player.played)
        clock.advance(0.4)
        stopped = player.stop()
        for playing in (first, second):
            playing.cancel()
        return queued, stopped, player.played, player.busy_until

    queued, stopped, played, busy_until = asyncio.run(scenario())
    assert queued == [Played("one two", 0.0, 1.0), Played("three four", 1.0, 2.0)]
    assert stopped == 0.4 and played == [Played("one two", 0.0, 0.4)] and busy_until == 0.4
