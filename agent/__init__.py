"""Agent: the runtime loop, events, rolling context, sources and sinks, CLI, trace and server."""
