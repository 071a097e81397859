"""Builds a tiny random Qwen2.5-Omni thinker checkpoint (model, byte-level BPE tokenizer, processor) in a folder.

Offline and in well under a second once torch and transformers are imported;
the folder loads through the same ``from_pretrained`` code as a real checkpoint.
"""
from __future__ import annotations

from pathlib import Path

from dialogue.transformers_backend import keyframe_processor_class

SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|AUDIO|>", "<|audio_bos|>", "<|audio_eos|>",
                  "<|IMAGE|>", "<|VIDEO|>", "<|vision_bos|>", "<|vision_eos|>")
ROLE_TOKENS = {"image_token": "<|IMAGE|>", "audio_token": "<|AUDIO|>", "video_token": "<|VIDEO|>",
               "vision_bos_token": "<|vision_bos|>", "vision_eos_token": "<|vision_eos|>",
               "audio_bos_token": "<|audio_bos|>", "audio_eos_token": "<|audio_eos|>"}

# Qwen2.5-Omni's chat template, reduced to the parts our prompts use (text, image and audio content parts).
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
    "{% if m['content'] is string %}{{ m['content'] }}{% else %}{% for c in m['content'] %}"
    "{% if c['type'] == 'image' %}<|vision_bos|><|IMAGE|><|vision_eos|>"
    "{% elif c['type'] == 'audio' %}<|audio_bos|><|AUDIO|><|audio_eos|>"
    "{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

CORPUS = (
    "Hello there, how are you feeling today?",
    "<think>They look tired and sound low.</think><decision>respond</decision>"
    "<emotion>warm</emotion><response>That sounds exhausting. Do you want to talk about it?</response>",
    "I see. That must have been hard. I am glad you told me.",
)


def build_tiny_omni(folder: str | Path, seed: int = 0) -> Path:
    """Write a random tiny thinker checkpoint to ``folder`` and return its path."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import (PreTrainedTokenizerFast, Qwen2_5OmniThinkerConfig,
                              Qwen2_5OmniThinkerForConditionalGeneration, WhisperFeatureExtractor)
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=320, special_tokens=list(SPECIAL_TOKENS),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator(CORPUS, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                        chat_template=CHAT_TEMPLATE, extra_special_tokens=ROLE_TOKENS)
    # merge_size 1 and a small pixel budget keep a 640x480 keyframe at a dozen patches.
    images = Qwen2VLImageProcessorPil(patch_size=14, temporal_patch_size=2, merge_size=1,
                                      min_pixels=28 * 28, max_pixels=56 * 56)
    processor = keyframe_processor_class()(image_processor=images, tokenizer=tokenizer, chat_template=CHAT_TEMPLATE,
                                           feature_extractor=WhisperFeatureExtractor(feature_size=20))
    processor.save_pretrained(folder)

    tid = tokenizer.convert_tokens_to_ids
    config = Qwen2_5OmniThinkerConfig(
        audio_config=dict(num_mel_bins=20, encoder_layers=2, encoder_attention_heads=4, encoder_ffn_dim=32,
                          d_model=32, output_dim=32, n_window=50, max_source_positions=1500),
        vision_config=dict(depth=2, hidden_size=32, intermediate_size=32, num_heads=4, out_hidden_size=32,
                           patch_size=14, spatial_merge_size=1, temporal_patch_size=2, window_size=28,
                           fullatt_block_indexes=[1]),
        text_config=dict(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=37, num_hidden_layers=4,
                         num_attention_heads=4, num_key_value_heads=2,
                         rope_parameters={"mrope_section": [1, 1, 2], "rope_type": "default", "rope_theta": 1e6},
                         pad_token_id=tid("<|endoftext|>"), eos_token_id=tid("<|im_end|>")),
        audio_token_index=tid("<|AUDIO|>"), image_token_index=tid("<|IMAGE|>"), video_token_index=tid("<|VIDEO|>"),
        audio_start_token_id=tid("<|audio_bos|>"), audio_end_token_id=tid("<|audio_eos|>"),
        vision_start_token_id=tid("<|vision_bos|>"), user_token_id=tid("<|im_start|>"),
    )
    torch.manual_seed(seed)
    model = Qwen2_5OmniThinkerForConditionalGeneration(config)
    model.generation_config.eos_token_id = tid("<|im_end|>")
    model.generation_config.pad_token_id = tid("<|endoftext|>")
    model.save_pretrained(folder)
    return folder
