"""Picks and builds the configured brain: the cue baseline, or an LLM brain with the cue brain as fallback."""
from __future__ import annotations

from dialogue.cue_brain import CueBrain
from dialogue.llm_brain import LlmBrain
from dialogue.openai_backend import OpenAIGenerator
from dialogue.settings import BrainSettings, PolicySettings
from dialogue.transformers_backend import TransformersGenerator
from dialogue.types import Brain, TextGenerator


def make_brain(settings: BrainSettings, policy: PolicySettings | None = None) -> Brain:
    """The brain ``settings.backend`` names; heavy models load lazily (at warm-up or the first answer)."""
    if settings.backend == "cue":
        return CueBrain(settings, policy)
    generator: TextGenerator
    if settings.backend == "openai":
        generator = OpenAIGenerator(settings)
    elif settings.backend == "transformers":
        generator = TransformersGenerator(settings)
    else:
        raise ValueError(f"brain.backend must be one of cue, openai, transformers; got {settings.backend!r}")
    fallback = CueBrain(settings, policy) if settings.fallback == "cue" else None
    return LlmBrain(generator, settings, fallback)
