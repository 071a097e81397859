"""Short phrases synthesized once at start (latency-budget acknowledgements, backchannels) and handed out in turn."""
from __future__ import annotations

from agent.config import Config
from agent.models import Models
from agent.response import Item
from speech.prosody import style_for


class Phrases:
    def __init__(self) -> None:
        self._acks: list[Item] = []
        self._backchannels: list[Item] = []

    async def prepare(self, config: Config, models: Models) -> None:
        policy = config.policy
        wanted = [(self._acks, p) for p in policy.acknowledgements if policy.first_sentence_deadline_ms]
        wanted += [(self._backchannels, p) for p in policy.backchannel_phrases if policy.backchannel_after_s > 0]
        style = style_for("warm", config.tts)
        for cache, phrase in wanted:
            cache.append(await models.run("tts", models.synthesize, phrase, style))

    def acknowledgement(self) -> Item | None:
        return _next(self._acks)

    def backchannel(self) -> Item | None:
        return _next(self._backchannels)


def _next(cache: list[Item]) -> Item | None:
    if not cache:
        return None
    cache.append(cache.pop(0))
    return cache[-1]
