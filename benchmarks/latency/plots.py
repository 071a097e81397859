"""PNG figures of a bench run: the typical turn's waterfall, the latency distribution, compare and sweep charts."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

def waterfall_parts(turn: dict[str, Any]) -> list[tuple[str, float, float]]:
    """(label, start ms, duration ms) of each part of a turn, from the true end of the user's speech.

    The work starts at the detected pause and runs in parallel with the endpoint wait (speculative
    ASR, cues, brain, TTS), so this is a Gantt chart, not a sum; the overhead is what is left between
    the later of (endpoint confirmed, first sentence synthesized) and the first audio out.
    """
    st = {k: float(v or 0.0) for k, v in turn["stages_ms"].items()}
    v2v = float(turn["v2v_ms"])
    reported = turn.get("reported_v2v_ms")
    detect = max(0.0, v2v - float(reported)) if reported is not None else 0.0
    parts = [("VAD hears the pause", 0.0, detect), ("endpoint wait", detect, st.get("endpoint_wait", 0.0))]
    t = detect + st.get("asr_start", 0.0)
    for label, key in (("ASR", "asr"), ("voice + word cues", "cues"), ("brain to 1st sentence", "brain_first_sentence"),
                       ("TTS 1st sentence", "tts_first_audio")):
        parts.append((label, t, st.get(key, 0.0)))
        t += st.get(key, 0.0)
    ready = max(t, detect + st.get("endpoint_wait", 0.0))
    parts.append(("overhead", ready, max(0.0, v2v - ready)))
    return parts


def waterfall(turn: dict[str, Any] | None, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(8, 3.4))
    if turn is None:
        ax.text(0.5, 0.5, "no answered turn", ha="center", va="center")
        ax.set_axis_off()
    else:
        parts = waterfall_parts(turn)
        for row, (label, start, ms) in enumerate(parts):
            ax.barh(row, ms, left=start, color=f"C{row}")
            ax.text(start + ms, row, f" {ms:.0f} ms", va="center", fontsize=8)
        ax.set_yticks(range(len(parts)), [p[0] for p in parts])
        ax.invert_yaxis()
        ax.axvline(float(turn["v2v_ms"]), color="k", ls="--", lw=1)
        ax.set_xlabel("ms after the true end of user speech (dashed: first agent audio)")
        ax.set_title(f"typical turn ({turn['scenario']} #{turn['turn']}): voice-to-voice {turn['v2v_ms']:.0f} ms")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def distribution(samples: dict[str, list[float]], path: Path) -> None:
    """Box plot per figure (v2v and each stage), values in ms."""
    names = [k for k, v in samples.items() if v]
    fig, ax = plt.subplots(figsize=(8, 3.5))
    if names:
        ax.boxplot([samples[k] for k in names], orientation="horizontal", whis=(5, 95))
        ax.set_yticks(range(1, len(names) + 1), names)
        ax.set_xlabel("ms")
    else:
        ax.text(0.5, 0.5, "no measurements", ha="center", va="center")
        ax.set_axis_off()
    ax.set_title("latency distribution (whiskers p5-p95)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def ratios(rows: list[dict[str, Any]], path: Path) -> None:
    shown = [r for r in rows if r["ratio"] is not None]
    fig, ax = plt.subplots(figsize=(8, max(2.5, 0.25 * len(shown) + 1)))
    ax.barh(range(len(shown)), [r["ratio"] for r in shown],
            color=["C3" if r["ratio"] > 1 else "C2" for r in shown])
    ax.set_yticks(range(len(shown)), [r["figure"] for r in shown], fontsize=7)
    ax.axvline(1.0, color="k", lw=1)
    ax.invert_yaxis()
    ax.set_xlabel("new / old")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def sweep(key: str, points: list[dict[str, Any]], path: Path) -> None:
    """Latency (v2v p50) against cut-ins, one labelled point per knob value."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for p in points:
        if p["v2v_p50_ms"] is None:
            continue
        ax.scatter(p["cut_ins"], p["v2v_p50_ms"], color="C0")
        ax.annotate(f"{key}={p['value']}", (p["cut_ins"], p["v2v_p50_ms"]), fontsize=8,
                    xytext=(4, 4), textcoords="offset points")
    ax.set_xlabel("cut-ins")
    ax.set_ylabel("voice-to-voice p50, ms")
    ax.set_title(f"sweep of {key}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def bars(values: dict[str, float], title: str, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(8, max(2.5, 0.4 * len(values) + 1)))
    ax.barh(range(len(values)), list(values.values()), color="C0")
    ax.set_yticks(range(len(values)), list(values), fontsize=8)
    ax.invert_yaxis()
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
