"""Speech: text-to-speech backends, sentence streaming, emotion-to-prosody mapping and playback."""
