"""Media in and out: audio/video chunks, sources (file, camera, microphone, socket) and sinks (players, recording, trace, terminal)."""
