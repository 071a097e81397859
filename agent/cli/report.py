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


def _spans(events: list[dict[str, Any]], start: str, end: str, start_key: str | None = None) -> list[tuple[float, float]]:
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


def timeline_png(events: list[dict[str, Any]], turns: list[dict[str, Any]]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    user = _spans(events, "speech_started", "speech_ended", start_key="start")
    agent = _spans(events, "agent_speech_started", "agent_speech_ended")
    states = [e for e in events if e["type"] == "emotion_state"]
    faces = [e for e in events if e["type"] == "face_cue" and e.get("smile") is not None]
    end_t = max([e["t"] for e in events] + [1.0])
    ratios = [1.1, 2, 1.2, 1.4] if faces else [1.1, 2, 1.4]
    fig, axes = plt.subplots(len(ratios), 1, figsize=(11, 6.2 + 1.6 * bool(faces)), sharex=True,
                             gridspec_kw={"height_ratios": ratios})
    ax0, ax1, ax2 = axes[0], axes[1], axes[-1]
    ax0.broken_barh([(a, b - a) for a, b in user], (10, 8), color="#2b8cbe", label="user speech")
    ax0.broken_barh([(a, b - a) for a, b in agent], (0, 8), color="#c51b8a", label="agent speech")
    for e in events:
        if e["type"] == "barge_in":
            ax0.axvline(e["t"], color="red", lw=1)
    ax0.set_yticks([4, 14], ["agent", "user"])
    ax0.set_title("Conversation timeline", loc="left", fontsize=10)
    if states:
        ts = [s["t"] for s in states]
        ax1.plot(ts, [s.get("valence", 0) for s in states], color="#31a354", label="valence")
        ax1.plot(ts, [s.get("arousal", 0) for s in states], color="#e6550d", label="arousal")
        ax1.plot(ts, [s.get("conversation_valence", 0) for s in states], color="#31a354", ls="--", lw=1,
                 label="words over the turns")
        flagged = [s for s in states if s.get("conflicts")]
        ax1.scatter([s["t"] for s in flagged], [s.get("valence", 0) for s in flagged], marker="x", color="k",
                    label="conflicting cues", zorder=3)
        masked = [s for s in states if s.get("masking") or s.get("guarded")]
        if masked:
            ax1.scatter([s["t"] for s in masked], [s.get("valence", 0) for s in masked], marker="o",
                        s=70, facecolors="none", edgecolors="#756bb1", label="masking / guarded", zorder=3)
        ax1.legend(loc="upper right", fontsize=8)
    ax1.axhline(0, color="#999", lw=0.6)
    ax1.set_ylim(-1.05, 1.05)
    ax1.set_ylabel("user emotion")
    if faces:
        _face_panel(axes[2], faces)
    v2v = [(t.get("user_end_s") or 0, (t.get("latency_ms") or {}).get("voice_to_voice")) for t in turns]
    v2v = [(x, y) for x, y in v2v if y is not None]
    if v2v:
        ax2.bar([x for x, _ in v2v], [y for _, y in v2v], width=max(end_t / 80, 0.2), color="#756bb1")
    ax2.set_ylabel("voice-to-voice ms")
    ax2.set_xlabel("session time (s)")
    ax2.set_xlim(0, end_t)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def _face_panel(ax: Any, faces: list[dict[str, Any]]) -> None:
    """Smile and gaze over time, the stretches spent looking away, and where the head nodded or shook."""
    ts = [f["t"] for f in faces]
    ax.plot(ts, [f["smile"] for f in faces], color="#31a354", label="smile")
    ax.plot(ts, [min(1.0, (f.get("gaze_offset") or 0.0) / 45.0) for f in faces], color="#3182bd", lw=1,
            label="gaze off usual (÷45°)")
    for start, end in _runs(faces, "gaze_away"):
        ax.axvspan(start, end, color="#3182bd", alpha=0.15, lw=0)
    for key, marker, color in (("nod", "v", "#e6550d"), ("shake", "D", "#756bb1")):
        onsets = [a for a, _ in _runs(faces, key)]
        if onsets:
            ax.scatter(onsets, [1.08] * len(onsets), marker=marker, color=color, label=key, zorder=3)
    ax.set_ylim(-0.05, 1.2)
    ax.set_ylabel("face")
    ax.legend(loc="upper right", fontsize=8, ncol=4)


def _runs(cues: list[dict[str, Any]], key: str) -> list[tuple[float, float]]:
    """(first, last) times of each stretch of consecutive cues with ``key`` true."""
    runs: list[list[float]] = []
    inside = False
    for c in cues:
        if c.get(key) and inside:
            runs[-1][1] = c["t"]
        elif c.get(key):
            runs.append([c["t"], c["t"]])
        inside = bool(c.get(key))
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
    radius = max(1, round(w / 220))
    colour = (80, 200, 255) if cue.get("gaze_away") else (120, 230, 120)
    for x, y in cue["points"]:
        cv2.circle(image, (round(x * w), round(y * h)), radius, colour, -1, cv2.LINE_AA)
    ok, out = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return out.tobytes() if ok else jpeg


def _nearest_face(events: list[dict[str, Any]], t: float, within: float = 0.5) -> dict[str, Any] | None:
    cues = [e for e in events if e["type"] == "face_cue" and abs(e["t"] - t) <= within]
    return min(cues, key=lambda e: abs(e["t"] - t), default=None)


def _face_caption(cue: dict[str, Any] | None) -> str:
    if not cue or cue.get("smile") is None:
        return ""
    said = [f"smile {cue['smile']:.2f}", f"head {cue.get('head_yaw') or 0:+.0f}° / {cue.get('head_pitch') or 0:+.0f}°"]
    said += [name.replace("_", " ") for name in ("gaze_away", "mouth_open", "nod", "shake") if cue.get(name)]
    return " · " + html.escape(", ".join(said))


def write_report(out_dir: str | Path, keyframes: Sequence[tuple[float, bytes]] = ()) -> Path:
    out = Path(out_dir)
    events = _read_trace(out / "trace.jsonl")
    turns = read_json(out / "turns.json", "turns", list)
    metrics = read_json(out / "metrics.json", "metrics", dict) if (out / "metrics.json").exists() else {}
    png = base64.b64encode(timeline_png(events, turns)).decode()
    rows = []
    for i, t in enumerate(turns, 1):
        lat = t.get("latency_ms") or {}
        cues = t.get("cues") or {}
        rows.append(
            f"<tr><td>{i}</td><td>{_f(t.get('user_start_s'))}–{_f(t.get('user_end_s'))}</td>"
            f"<td>{html.escape(t.get('user_text') or '')}</td>"
            f"<td>{_seems(cues)}</td>"
            f"<td>{html.escape(t.get('decision') or '')}</td><td>{html.escape(t.get('agent_emotion') or '')}</td>"
            f"<td>{html.escape(t.get('agent_text') or '')}{' <em>(interrupted)</em>' if t.get('interrupted') else ''}</td>"
            f"<td>{_f(lat.get('voice_to_voice'), 0)}</td><td>{_f(lat.get('asr'), 0)}</td><td>{_f(lat.get('tts_first_audio'), 0)}</td></tr>")
    shown = [(t, _nearest_face(events, t), j) for t, j in keyframes]
    frames = "".join(
        f'<figure><img alt="keyframe at {t:.1f}s" '
        f'src="data:image/jpeg;base64,{base64.b64encode(overlay_landmarks(j, cue)).decode()}">'
        f"<figcaption>{t:.1f}s{_face_caption(cue)}</figcaption></figure>" for t, cue, j in shown)
    lag = metrics.get("loop_lag_ms", {})
    doc = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>humansense session report</title>
<style>body{{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#222}}
table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}}
th{{background:#f4f4f8}}img{{max-width:100%}}figure{{display:inline-block;margin:4px;width:200px}}
figure img{{width:200px;border-radius:4px}}.meta{{color:#555}}.why{{color:#666;font-size:12px}}</style></head><body>
<h1>Session report</h1>
<p class="meta">{len(turns)} turns · loop lag p99 {lag.get('p99', '–')} ms · peak RSS {metrics.get('rss_mb_peak', '–')} MB ·
brain: {html.escape(str(next((e.get('brain') for e in events if e['type'] == 'session_started'), '')))}</p>
<img alt="timeline: speech, emotion and latency" src="data:image/png;base64,{png}">
<h2>Turns</h2><table><tr><th>#</th><th>user (s)</th><th>user said</th><th>user seems</th><th>decision</th>
<th>agent emotion</th><th>agent said (as heard)</th><th>v2v ms</th><th>ASR ms</th><th>TTS ms</th></tr>{''.join(rows)}</table>
<h2>Keyframes</h2><div>{frames or '<p>no video</p>'}</div></body></html>"""
    path = out / "report.html"
    atomic_write_bytes(path, doc.encode("utf-8"))
    return path


def _seems(cues: dict[str, Any]) -> str:
    """The user's state as the agent read it, its flags, and the evidence for it (the fused state's reason)."""
    label = html.escape(str(cues.get("label") or ""))
    flags = [name for name in ("masking", "guarded") if cues.get(name)]
    seems = label + (f" <b>({', '.join(flags)})</b>" if flags else "") + (" ⚠" if cues.get("conflicts") else "")
    reason = cues.get("reason")
    return seems + (f'<div class="why">{html.escape(str(reason))}</div>' if reason else "")


def _f(value: Any, digits: int = 2) -> str:
    return "–" if value is None else f"{float(value):.{digits}f}"
