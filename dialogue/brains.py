"""Picks and builds the configured brain: the cue baseline, or an LLM brain with the cue brain as fallback."""
from __future__ import annotations

import dataclasses
import logging

from dialogue.cue_brain import CueBrain
from dialogue.llm_brain import LlmBrain
from dialogue.openai_backend import OpenAIGenerator
from dialogue.settings import BrainSettings, PolicySettings
from dialogue.transformers_backend import TransformersGenerator
from dialogue.types import Brain, TextGenerator

logger = logging.getLogger(__name__)


def make_brain(settings: BrainSettings, policy: PolicySettings | None = None) -> Brain:
    """The brain ``settings.backend`` names; heavy models load lazily (at warm-up or the first answer)."""
    settings.validate()
    if settings.backend == "cue":
        return CueBrain(settings, policy)
    if settings.backend == "llama":
        settings = text_only(settings)
    generator = make_generator(settings)
    fallback = CueBrain(settings, policy) if settings.fallback == "cue" else None
    return LlmBrain(generator, settings, fallback, policy=policy)


def make_generator(settings: BrainSettings) -> TextGenerator:
    """The text generator ``settings.backend`` names (llama loads its GGUF here; a bad file raises ValueError)."""
    if settings.backend == "openai":
        return OpenAIGenerator(settings)
    if settings.backend == "transformers":
        return TransformersGenerator(settings)
    if settings.backend == "llama":
        from dialogue.llama_backend import LlamaGenerator  # the optional llama extra

        return LlamaGenerator(text_only(settings))
    raise ValueError(f"brain.backend must be one of cue, llama, openai, transformers; got {settings.backend!r}")


def text_only(settings: BrainSettings) -> BrainSettings:
    """Settings for a model that reads text only: no images or audio are sent (said once when they were asked for)."""
    if settings.send_images or settings.send_audio:
        logger.info("brain %s reads text only: brain.send_images and brain.send_audio are off for it",
                    settings.backend)
        return dataclasses.replace(settings, send_images=False, send_audio=False)
    return settings
