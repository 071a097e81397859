"""The session report: a self-contained HTML page with the timeline, emotion and face cues over time, turns and
keyframes (with the face's landmarks drawn on them)."""
from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any, Sequence

from agent.files import atomic_write_bytes, read_json
from agent.runtime.events import EventKind


def _read_trace(path: Path) -> list[dict[str, Any]]:
    """The trace's events; a bad line fails in one line naming the file and the line number."""
    events = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            line = line.strip()
            if not line:
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not a JSON line ({exc.msg})") from None
            if not isinstance(event, dict) or "type" not in event or "t" not in event:
                raise ValueError(f"{path}:{number}: not a trace event (an object with type and t)")
            events.append(event)
    return events


def _spans(events: list[dict[str, Any]], start: EventKind, end: EventKind,
           start_key: str | None = None) -> list[tuple[float, float]]:
    spans = []
    for e in events:
        if e["type"] == end:
            if start_key and start_key in e:
                spans.append((float(e[start_key]), float(e["t"])))
    if not start_key:
        opened = None
        for e in events:
            if e["type"] == start:
                opened = e["t"]
            elif e["type"] == end and opened is not None:
                spans.append((opened, e["t"]))
                opened = None
    return spans


USER_COLOUR, AGENT_COLOUR = "#2b8cbe", "#c51b8a"
LEGEND = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0), "borderaxespad": 0.0, "fontsize": 8, "frameon": False}
"""Legends sit beside their panel, never over the data."""
GAP_S = 1.0
"""Face cues further apart than this have a gap between them (video not analysed): lines and spans stop there."""


def timeline_png(events: list[dict[str, Any]], turns: list[dict[str, Any]]) -> bytes:
    fig = timeline_figure(events, turns)
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()


def timeline_figure(events: list[dict[str, Any]], turns: list[dict[str, Any]]) -> Any:
    """Four panels over session time: who spoke (and how the floor changed hands), the user's emotion, the face, and
    each answer's voice-to-voice latency. The caller closes it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    states = [e for e in events if e["type"] == EventKind.EMOTION_STATE]
    faces = [e for e in events if e["type"] == EventKind.FACE_CUE and e.get("smile") is not None]
    end_t = max([e["t"] for e in events] + [1.0])
    ratios = [1.3, 2, 1.5, 1.2] if faces else [1.3, 2, 1.2]
    fig, axes = plt.subplots(len(ratios), 1, figsize=(12, 6.4 + 1.8 * bool(faces)), sharex=True,
                             gridspec_kw={"height_ratios": ratios}, layout="constrained")
    _talk_panel(axes[0], events, turns)
    _emotion_panel(axes[1], states)
    if faces:
        _face_panel(axes[2], faces, _shed(events, end_t))
    _latency_panel(axes[-1], turns, end_t)
    axes[-1].set_xlabel("session time (s)")
    axes[-1].set_xlim(0, end_t)
    return fig


def replaced_turns(turns: list[dict[str, Any]]) -> dict[int, int]:
    """Turn index -> the index of the turn that replaced it: the user went on after the agent had begun to answer
    a pause, so the next turn holds all the words since the same start and the first answer was dropped."""
    return {i: i + 1 for i in range(len(turns) - 1)
            if turns[i].get("user_start_s") is not None
            and turns[i].get("user_start_s") == turns[i + 1].get("user_start_s")}


def _talk_panel(ax: Any, events: list[dict[str, Any]], turns: list[dict[str, Any]]) -> None:
    """Who spoke when (each turn numbered as in the table), interruptions, backchannels and dropped answers."""
    user = _spans(events, EventKind.SPEECH_STARTED, EventKind.SPEECH_ENDED, start_key="start")
    agent = _spans(events, EventKind.AGENT_SPEECH_STARTED, EventKind.AGENT_SPEECH_ENDED)
    ax.broken_barh([(a, b - a) for a, b in user], (10, 8), color=USER_COLOUR, label="user speaks")
    ax.broken_barh([(a, b - a) for a, b in agent], (0, 8), color=AGENT_COLOUR, label="agent speaks")
    cuts = [e["t"] for e in events if e["type"] == EventKind.BARGE_IN]
    for k, t in enumerate(cuts):
        ax.axvline(t, color="red", lw=1.2, label="user interrupts: the agent stops" if k == 0 else None)
    overlaps = [e for e in events if e["type"] == EventKind.OVERLAP_IGNORED]
    marks = (
        ([e["t"] for e in events if e["type"] == EventKind.BACKCHANNEL], 4, "^", "#41ab5d",
         'agent backchannel ("mm-hm")'),
        ([e["t"] for e in overlaps if e.get("kind") == "backchannel"], 14, "^", "#fe9929",
         'user backchannel ("yeah"): the agent goes on'),
        ([e["t"] for e in overlaps if e.get("kind") != "backchannel"], 14, "s", "#bdbdbd",
         "noise over the agent: ignored"),
        ([e["t"] for e in events if e["type"] == EventKind.AGENT_RESUMED], 4, ">", AGENT_COLOUR,
         "false interruption: the answer plays on"),
        ([_answer_start(turns[i]) for i in replaced_turns(turns)], 4, "X", "k",
         "answer dropped: the user went on (its turn is replaced by the next)"),
    )
    for times, y, marker, colour, label in marks:
        if times:
            ax.scatter(times, [y] * len(times), marker=marker, s=70, color=colour, edgecolors="k", linewidths=0.6,
                       zorder=3, label=label)
    for number, turn in enumerate(turns, 1):
        if turn.get("user_end_s") is not None:
            ax.text(float(turn["user_end_s"]), 19, f"#{number}", fontsize=8, ha="center", va="bottom", clip_on=True)
    ax.set_ylim(-1, 25)
    ax.set_yticks([4, 14], ["agent", "user"])
    ax.set_title("Conversation (#n: the turns in the table below, at the end of the user's words)", loc="left",
                 fontsize=10)
    ax.legend(**LEGEND)


def _answer_start(turn: dict[str, Any]) -> float:
    """When the turn's answer became audible: the end of the user's words plus the voice-to-voice latency."""
    wait = (turn.get("latency_ms") or {}).get("voice_to_voice") or 0.0
    return float(turn.get("user_end_s") or 0.0) + float(wait) / 1000.0


def _emotion_panel(ax: Any, states: list[dict[str, Any]]) -> None:
    """Valence and arousal as fused, the words' mood over the turns, and the stretches flagged masking, guarded or
    conflicting (shaded, not marked sample by sample)."""
    if states:
        # Each state holds until the next cue changes it: steps, not ramps.
        ts = [s["t"] for s in states]
        ax.plot(ts, [s.get("valence", 0) for s in states], color="#31a354", drawstyle="steps-post",
                label="valence (unpleasant - pleasant)")
        ax.plot(ts, [s.get("arousal", 0) for s in states], color="#e6550d", drawstyle="steps-post",
                label="arousal (calm - stirred)")
        ax.plot(ts, [s.get("conversation_valence", 0) for s in states], color="#31a354", ls="--", lw=1,
                drawstyle="steps-post", label="valence of the words over the turns")
    shading = (("masking", {"color": "#756bb1", "alpha": 0.25}, "masking: a smile over sad words"),
               ("guarded", {"color": "#fdae6b", "alpha": 0.35}, "guarded: reassuring words, sad face"),
               ("conflicts", {"facecolor": "none", "edgecolor": "#636363", "hatch": "///"},
                "conflicting cues (face, voice, words)"))
    for key, style, label in shading:
        for k, (start, end) in enumerate(_stretches(states, key)):
            ax.axvspan(start, end, lw=0, label=label if k == 0 else None, **style)
    ax.axhline(0, color="#999", lw=0.6)
    ax.set_ylim(-1.05, 1.05)
    ax.set_ylabel("user emotion")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**LEGEND)


def _face_panel(ax: Any, faces: list[dict[str, Any]], shed: list[tuple[float, float]]) -> None:
    """Smile and gaze over time, the stretches spent looking away, where the head nodded or shook, and when the
    video went unanalysed to keep the answers fast."""
    ts = [f["t"] for f in faces]
    ax.plot(*_gapped(ts, [f["smile"] for f in faces]), color="#31a354", label="smile (0-1, from the landmarks)")
    ax.plot(*_gapped(ts, [min(1.0, (f.get("gaze_offset") or 0.0) / 45.0) for f in faces]), color="#3182bd", lw=1,
            label="gaze away from the usual (45° = 1)")
    for k, (start, end) in enumerate(shed):
        ax.axvspan(start, end, color="#d9d9d9", alpha=0.5, lw=0,
                   label="video not analysed (CPU busy: shed to keep answers fast)" if k == 0 else None)
    for k, (start, end) in enumerate(_stretches(faces, "gaze_away", GAP_S)):
        ax.axvspan(start, end, color="#3182bd", alpha=0.15, lw=0, label="looking away" if k == 0 else None)
    for key, marker, colour, label in (("nod", "v", "#e6550d", "nod"), ("shake", "D", "#756bb1", "head shake")):
        onsets = [a for a, _ in _stretches(faces, key, GAP_S)]
        if onsets:
            ax.scatter(onsets, [1.1] * len(onsets), marker=marker, color=colour, label=label, zorder=3)
    ax.set_ylim(-0.05, 1.22)
    ax.set_ylabel("face")
    ax.legend(**LEGEND)


def _latency_panel(ax: Any, turns: list[dict[str, Any]], end_t: float) -> None:
    """Each answer's voice-to-voice latency, at the end of the user's words."""
    v2v = [(t.get("user_end_s") or 0, (t.get("latency_ms") or {}).get("voice_to_voice")) for t in turns]
    v2v = [(x, y) for x, y in v2v if y is not None]
    if v2v:
        ax.bar([x for x, _ in v2v], [y for _, y in v2v], width=max(end_t / 80, 0.2), color="#756bb1",
               label="voice to voice: the user stops → the agent's first sound")
        ax.legend(**LEGEND)
    ax.set_ylabel("latency ms")


def _gapped(ts: list[float], values: list[float], gap_s: float = GAP_S) -> tuple[list[float], list[float]]:
    """The series with a break (NaN) wherever samples are more than ``gap_s`` apart: no line across missing data."""
    xs: list[float] = []
    ys: list[float] = []
    for k, (t, v) in enumerate(zip(ts, values)):
        if k and t - ts[k - 1] > gap_s:
            xs.append(t)
            ys.append(float("nan"))
        xs.append(t)
        ys.append(v)
    return xs, ys


def _shed(events: list[dict[str, Any]], end_t: float) -> list[tuple[float, float]]:
    """The stretches during which load shedding left the video unanalysed (level 1 and up)."""
    spans: list[tuple[float, float]] = []
    since: float | None = None
    for e in events:
        if e["type"] != EventKind.LOAD_SHEDDING:
            continue
        if (e.get("level") or 0) >= 1 and since is None:
            since = e["t"]
        elif (e.get("level") or 0) < 1 and since is not None:
            spans.append((since, e["t"]))
            since = None
    return spans + ([(since, end_t)] if since is not None else [])


def _stretches(samples: list[dict[str, Any]], key: str, gap_s: float = float("inf")) -> list[tuple[float, float]]:
    """(start, end) of each run of consecutive samples with ``key`` set: from its first sample to the next sample
    without it (the state held until then), or to its last sample at the end or before a gap over ``gap_s`` (no
    data there: nothing is claimed)."""
    runs: list[list[float]] = []
    inside, last = False, float("-inf")
    for s in samples:
        if inside and s["t"] - last > gap_s:
            inside = False
        if s.get(key) and not inside:
            runs.append([s["t"], s["t"]])
        elif inside:
            runs[-1][1] = s["t"]
        inside, last = bool(s.get(key)), s["t"]
    return [(a, b) for a, b in runs]


def overlay_landmarks(jpeg: bytes, cue: dict[str, Any] | None) -> bytes:
    """The keyframe with the face cue's box and landmarks drawn on it (unchanged without landmarks)."""
    if not cue or not cue.get("points"):
        return jpeg
    import cv2
    import numpy as np

    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        return jpeg
    h, w = image.shape[:2]
    radius = max(2, round(w / 110))
    colour = (0, 140, 255) if cue.get("gaze_away") else (60, 220, 60)
    for x, y in cue["points"]:
        # A dark rim keeps each dot visible on light skin and on dark hair alike.
        cv2.circle(image, (round(x * w), round(y * h)), radius + 1, (20, 20, 20), -1, cv2.LINE_AA)
        cv2.circle(image, (round(x * w), round(y * h)), radius, colour, -1, cv2.LINE_AA)
    ok, out = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return out.tobytes() if ok else jpeg


def _nearest_face(events: list[dict[str, Any]], t: float, within: float = 0.5) -> dict[str, Any] | None:
    cues = [e for e in events if e["type"] == EventKind.FACE_CUE and abs(e["t"] - t) <= within]
    return min(cues, key=lambda e: abs(e["t"] - t), default=None)


def _face_caption(cue: dict[str, Any] | None) -> str:
    """What the face cue nearest a keyframe read, in words: "smile 0.80, head 12° right 4° down, looking away"."""
    if not cue or cue.get("smile") is None:
        return ""
    said = [f"smile {cue['smile']:.2f}", _head(cue.get("head_yaw") or 0.0, cue.get("head_pitch") or 0.0)]
    said += [text for name, text in (("gaze_away", "looking away"), ("mouth_open", "mouth open"), ("nod", "nodding"),
                                      ("shake", "shaking the head")) if cue.get(name)]
    return " · " + html.escape(", ".join(said))


def _turn_near(turns: list[dict[str, Any]], t: float, within_s: float = 2.0) -> str:
    """"#n · " when turn n's words ended within ``within_s`` of ``t``: the face as that turn was read."""
    ends = [(abs(float(turn["user_end_s"]) - t), n) for n, turn in enumerate(turns, 1)
            if isinstance(turn.get("user_end_s"), (int, float))]
    gap, number = min(ends, default=(within_s + 1, 0))
    return f"#{number} · " if gap <= within_s else ""


def _head(yaw: float, pitch: float) -> str:
    """The head's direction as seen in the picture; under 5° either way is straight."""
    turns = [f"{abs(yaw):.0f}° {'right' if yaw > 0 else 'left'}" if abs(yaw) >= 5 else "",
             f"{abs(pitch):.0f}° {'up' if pitch > 0 else 'down'}" if abs(pitch) >= 5 else ""]
    return "head " + (" ".join(t for t in turns if t) or "straight")


def write_report(out_dir: str | Path, keyframes: Sequence[tuple[float, bytes]] = ()) -> Path:
    out = Path(out_dir)
    events = _read_trace(out / "trace.jsonl")
    turns = read_json(out / "turns.json", "turns", list)
    metrics = read_json(out / "metrics.json", "metrics", dict) if (out / "metrics.json").exists() else {}
    png = base64.b64encode(timeline_png(events, turns)).decode()
    replaced = replaced_turns(turns)
    continues = {later: earlier for earlier, later in replaced.items()}
    rows = []
    for i, t in enumerate(turns):
        lat = t.get("latency_ms") or {}
        cues = t.get("cues") or {}
        said = (f"<em>(#{continues[i] + 1} and its continuation)</em> " if i in continues else "") + html.escape(
            t.get("user_text") or "")
        rows.append(
            f"<tr><td>{i + 1}</td><td>{_f(t.get('user_start_s'))}–{_f(t.get('user_end_s'))}</td><td>{said}</td>"
            f"<td>{_seems(cues)}</td>"
            f"<td>{html.escape(t.get('decision') or '')}</td><td>{html.escape(t.get('agent_emotion') or '')}</td>"
            f"<td>{html.escape(t.get('agent_text') or '')}{_cut(t, replaced.get(i))}</td>"
            f"<td>{_f(lat.get('voice_to_voice'), 0)}</td><td>{_f(lat.get('asr'), 0)}</td><td>{_f(lat.get('tts_first_audio'), 0)}</td></tr>")
    shown = [(t, _nearest_face(events, t), j) for t, j in keyframes]
    frames = "".join(
        f'<figure><img alt="keyframe at {t:.1f}s" '
        f'src="data:image/jpeg;base64,{base64.b64encode(overlay_landmarks(j, cue)).decode()}">'
        f"<figcaption>{_turn_near(turns, t)}{t:.1f}s{_face_caption(cue)}</figcaption></figure>" for t, cue, j in shown)
    lag = metrics.get("loop_lag_ms", {})
    doc = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>humansense session report</title>
<style>body{{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#222}}
table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}}
th{{background:#f4f4f8}}img{{max-width:100%}}figure{{display:inline-block;margin:4px;width:300px;vertical-align:top}}
figure img{{width:300px;border-radius:4px}}.meta{{color:#555}}.why{{color:#666;font-size:12px}}
.key{{color:#444;font-size:13px;display:grid;grid-template-columns:max-content 1fr;gap:2px 12px}}
.key dt{{font-weight:600}}.key dd{{margin:0}}</style></head><body>
<h1>Session report</h1>
<p class="meta">{html.escape(_summary(events, turns))} · loop lag p99 {lag.get('p99', '–')} ms · peak RSS {metrics.get('rss_mb_peak', '–')} MB ·
brain: {html.escape(str(next((e.get('brain') for e in events if e['type'] == EventKind.SESSION_STARTED), '')))}</p>
<img alt="timeline: speech, emotion and latency" src="data:image/png;base64,{png}">
{KEY}
<h2>Turns</h2><table><tr><th>#</th><th>user (s)</th><th>user said</th><th>user seems</th><th>decision</th>
<th>agent emotion</th><th>agent said (as heard)</th><th>v2v ms</th><th>ASR ms</th><th>TTS ms</th></tr>{''.join(rows)}</table>
<h2>Keyframes</h2><div>{frames or '<p>no video</p>'}</div></body></html>"""
    path = out / "report.html"
    atomic_write_bytes(path, doc.encode("utf-8"))
    return path


KEY = """<dl class="key">
<dt>user seems</dt><dd>the user's state as the agent read it when the turn ended (face, voice and words fused), and
under it the evidence</dd>
<dt>(masking)</dt><dd>a smile over sad or worrying words: the smile is not taken as joy</dd>
<dt>(guarded)</dt><dd>reassuring words ("I'm fine") over a sad face</dd>
<dt>⚠</dt><dd>the cues disagree (listed after "disagree:"); the state is then less certain</dd>
<dt>(cut off)</dt><dd>the user started speaking and the agent stopped at once; the text is what was heard</dd>
<dt>(dropped)</dt><dd>the agent answered a pause, the user went on, and the next turn (same start) replaced this
one</dd>
<dt>v2v · ASR · TTS ms</dt><dd>voice to voice: from the end of the user's words to the agent's first sound; speech
recognition; the first audio of the answer's speech</dd>
<dt>keyframes</dt><dd>the face as each turn ended (#n: that turn); dots: the face's landmarks as found (green:
looking at the camera, orange: looking away); head directions as seen in the picture</dd>
</dl>"""
"""The page's symbols, each explained once; the plot's marks are explained by the legends beside them."""


def _seems(cues: dict[str, Any]) -> str:
    """The user's state as the agent read it, its flags, and the evidence for it (the fused state's reason)."""
    label = html.escape(str(cues.get("label") or ""))
    flags = [name for name in ("masking", "guarded") if cues.get(name)]
    conflicts = [str(c) for c in cues.get("conflicts") or ()]
    seems = label + (f" <b>({', '.join(flags)})</b>" if flags else "") + (" ⚠" if conflicts else "")
    why = [str(cues["reason"])] if cues.get("reason") else []
    why += [f"disagree: {'; '.join(conflicts)}"] if conflicts else []
    return seems + (f'<div class="why">{html.escape(" · ".join(why))}</div>' if why else "")


def _summary(events: list[dict[str, Any]], turns: list[dict[str, Any]]) -> str:
    """The session in one line: turns, interruptions, dropped answers, and which turns were flagged."""
    said = [f"{len(turns)} turns"]
    counts = ((sum(e["type"] == EventKind.BARGE_IN for e in events), "interruption"),
              (len(replaced_turns(turns)), "answer dropped"), (sum(e["type"] == EventKind.BACKCHANNEL for e in events),
                                                            "backchannel"))
    said += [f"{n} {what}" for n, what in counts if n]
    for flag, what in (("masking", "masking"), ("guarded", "guarded"), ("conflicts", "cues disagree")):
        flagged = [f"#{n}" for n, t in enumerate(turns, 1) if (t.get("cues") or {}).get(flag)]
        said += [f"{what} in {', '.join(flagged)}"] if flagged else []
    return " · ".join(said)


def _cut(turn: dict[str, Any], replaced_by: int | None) -> str:
    """How the answer ended early, if it did: dropped for the turn that replaced it, or cut off by the user."""
    if replaced_by is not None:
        return f" <em>(dropped: the user went on, see #{replaced_by + 1})</em>"
    return " <em>(cut off)</em>" if turn.get("interrupted") else ""


def _f(value: Any, digits: int = 2) -> str:
    return "–" if value is None else f"{float(value):.{digits}f}"
