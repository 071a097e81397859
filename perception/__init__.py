"""Perception: what the agent hears and sees (VAD, ASR, face, expression, voice and word cues, fusion)."""
