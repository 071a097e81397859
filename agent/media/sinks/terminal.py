"""The live terminal view: who said what, the agent's emotion, each turn's latency (not a log dump)."""
from __future__ import annotations

from typing import Any

from rich.console import Console

from agent.runtime.events import Event, EventKind


class TerminalView:
    """An observer that prints one readable line per meaningful moment of the conversation."""

    def __init__(self, console: Console | None = None, baseline_note: bool = True) -> None:
        self.console = console or Console(highlight=False)
        self._baseline_note = baseline_note

    def __call__(self, event: Event) -> None:
        data: Any = event.data
        t = f"[dim]{event.t:7.2f}s[/dim]"
        kind = event.kind
        if kind is EventKind.SESSION_STARTED and isinstance(data, dict):
            brain = data.get("brain")
            note = " [yellow](rule-based baseline, no LLM)[/yellow]" if brain == "cue" and self._baseline_note else ""
            self.console.print(f"{t} [bold]session started[/bold] · brain: {brain}{note}")
        elif kind is EventKind.SPEECH_STARTED:
            self.console.print(f"{t} [cyan]user[/cyan] [dim]speaking…[/dim]")
        elif kind is EventKind.TRANSCRIPT and isinstance(data, dict) and data.get("final"):
            self.console.print(f"{t} [cyan]user[/cyan]  “{data.get('text', '')}”")
        elif kind is EventKind.AGENT_TEXT and isinstance(data, dict):
            self.console.print(f"{t} [magenta]agent[/magenta] [dim]({data.get('emotion')})[/dim] {data.get('text')}")
        elif kind is EventKind.BARGE_IN and isinstance(data, dict):
            self.console.print(f"{t} [red]barge-in[/red]: agent stopped {data.get('stop_ms', 0):.0f} ms after the user spoke")
        elif kind is EventKind.AGENT_RESUMED:
            self.console.print(f"{t} [magenta]agent[/magenta] [dim]false interruption: going on where it stopped[/dim]")
        elif kind is EventKind.OVERLAP_IGNORED and isinstance(data, dict):
            self.console.print(f"{t} [dim]user {data.get('kind')} over the agent: not an interruption[/dim]")
        elif kind is EventKind.RESPONSE_DROPPED:
            self.console.print(f"{t} [dim]user went on; the answer being prepared was dropped[/dim]")
        elif kind is EventKind.BRAIN_NOTE and isinstance(data, dict):
            self.console.print(f"{t} [yellow]{data.get('note')}[/yellow]")
        elif kind is EventKind.ACKNOWLEDGEMENT and isinstance(data, dict):
            self.console.print(f"{t} [magenta]agent[/magenta] [dim](latency budget)[/dim] {data.get('text')}")
        elif kind is EventKind.TURN and isinstance(data, dict):
            lat = data.get("latency_ms", {})
            v2v = lat.get("voice_to_voice")
            parts = [f"decision {data.get('decision')}"]
            if v2v is not None:
                parts.append(f"voice-to-voice {v2v:.0f} ms")
            if lat.get("asr") is not None:
                parts.append(f"asr {lat['asr']:.0f} ms")
            if lat.get("tts_first_audio") is not None:
                parts.append(f"tts {lat['tts_first_audio']:.0f} ms")
            cues = data.get("cues") or {}
            if cues.get("label"):
                parts.append(f"user seems {cues['label']}")
            if data.get("interrupted"):
                parts.append("interrupted")
            self.console.print(f"{t} [dim]turn · {' · '.join(parts)}[/dim]")
        elif kind is EventKind.ERROR and isinstance(data, dict):
            self.console.print(f"{t} [red]error[/red] in {data.get('where')}: {data.get('message')} [dim](going on without it)[/dim]")
        elif kind is EventKind.SESSION_FAILED and isinstance(data, dict):
            self.console.print(f"{t} [red bold]session failed[/red bold]: {data.get('reason')}")
        elif kind is EventKind.LOAD_SHEDDING and isinstance(data, dict):
            self.console.print(f"{t} [yellow]CPU busy (audio {data.get('late_ms', 0):.0f} ms late, "
                               f"{data.get('cpu_wait', 0):.1f} threads waiting)[/yellow]: {data.get('state')}")
