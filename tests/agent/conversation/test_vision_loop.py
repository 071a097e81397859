"""The vision loop gives way: no face analysis while a turn is being decided or while load is shed; every frame's
hold on the session's activity is released whatever happened to it."""
import asyncio

import numpy as np

from agent.conversation.vision_loop import VisionLoop
from agent.media.chunks import VideoFrame
from tests.agent.conversation.rig import Rig, run


def test_frames_are_deferred_while_a_turn_is_decided_and_shed_under_load_and_each_is_released():
    async def scenario(rig: Rig):
        deciding = [True]
        vision = VisionLoop(rig.services, rig.answers.context, rig.cues.append, deciding=lambda: deciding[0])
        frames: asyncio.Queue = asyncio.Queue()
        image = np.zeros((48, 64, 3), np.uint8)
        for t in (0.0, 0.5):
            rig.activity.hold()  # as the media pump does for each frame it queues
            frames.put_nowait(VideoFrame(t, image))
        task = asyncio.ensure_future(vision.run(frames, rig.activity))
        await rig.until(lambda: frames.empty(), "the deferred frames")
        deciding[0] = False
        vision.shed = True
        rig.activity.hold()
        frames.put_nowait(VideoFrame(1.0, image))
        frames.put_nowait(None)
        await task
        return dict(rig.metrics.counters), rig.activity.count, rig.cues, vision.faces

    counters, holds, cues, faces = run(scenario)
    assert counters["video_frames_deferred"] == 2 and counters["video_frames_shed"] == 1
    assert holds == 0 and cues == [] and faces is None  # the face model was never needed
