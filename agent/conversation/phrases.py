"""Short phrases (acknowledgements, backchannels, the trouble phrase), synthesized once per process, handed out in turn."""
from __future__ import annotations

from agent.config import Config
from agent.runtime.lanes import Models
from agent.conversation.playback import Item
from agent.runtime.supervisor import Supervisor
from speech.prosody import style_for


class Phrases:
    def __init__(self) -> None:
        self._acks: list[Item] = []
        self._backchannels: list[Item] = []
        self._trouble: list[Item] = []

    async def prepare(self, config: Config, models: Models, supervisor: Supervisor) -> None:
        """A phrase the synthesizer fails on is left out (and reported); the others are still prepared."""
        policy = config.policy
        wanted = [(self._acks, p) for p in policy.acknowledgements if policy.first_sentence_deadline_ms]
        wanted += [(self._backchannels, p) for p in policy.backchannel_phrases if policy.backchannel_after_s > 0]
        wanted += [(self._trouble, policy.trouble_phrase)] if policy.trouble_phrase else []
        style = style_for("warm", config.tts)
        for cache, phrase in wanted:
            item = models.phrases.get((phrase, style))
            if item is None:
                try:
                    item = models.phrases[(phrase, style)] = await models.run("tts", models.synthesize, phrase, style)
                except Exception as exc:
                    supervisor.degraded("tts", exc)
                    continue
            cache.append(item)

    def acknowledgement(self) -> Item | None:
        return _next(self._acks)

    def backchannel(self) -> Item | None:
        return _next(self._backchannels)

    def trouble(self) -> Item | None:
        return _next(self._trouble)


def _next(cache: list[Item]) -> Item | None:
    if not cache:
        return None
    cache.append(cache.pop(0))
    return cache[-1]
