"""The CPU test model: a tiny random Qwen2ForCausalLM and a byte-level tokenizer, built in code.

No download: the tokenizer has the 256 bytes as its vocabulary (GPT-2's byte-to-unicode map,
no merges) plus Qwen's special tokens, and a Qwen-style chat template with ``{% generation %}``
markers; the model has Qwen2's architecture at a tiny size, its weights drawn from the seed. The
same seed always gives the same weights, so a saved adapter can be loaded back onto a rebuilt base.
"""

from __future__ import annotations

from typing import Any

import torch

from .args import TINY_MODEL

__all__ = ["CHAT_TEMPLATE", "TINY_MODEL", "build_tiny_model", "build_tiny_tokenizer", "tiny_config"]

SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")

# Qwen2.5's layout (<|im_start|>role\n ... <|im_end|>\n) without its default system prompt; the
# assistant's content and end marker are inside {% generation %} for return_assistant_tokens_mask.
CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' }}"
    "{%- if message['role'] == 'assistant' %}"
    "{% generation %}{{- message['content'] + '<|im_end|>' }}{% endgeneration %}{{- '\\n' }}"
    "{%- else %}"
    "{{- message['content'] + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map of bytes to printable characters (what ByteLevel pre-tokenizers use)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    chars = printable[:]
    n = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + n)
            n += 1
    return dict(zip(printable, (chr(c) for c in chars), strict=True))


def build_tiny_tokenizer() -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    byte_map = _bytes_to_unicode()
    vocab = {byte_map[b]: b for b in range(256)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(list(SPECIAL_TOKENS))
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        chat_template=CHAT_TEMPLATE,
        model_max_length=4096,
    )
    tokenizer.name_or_path = TINY_MODEL
    return tokenizer


def tiny_config(tokenizer: Any) -> Any:
    from transformers import Qwen2Config

    return Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        use_cache=True,
        initializer_range=0.1,
    )


def build_tiny_model(tokenizer: Any, seed: int = 42) -> Any:
    """A tiny random Qwen2ForCausalLM (float32, about 90k parameters) drawn from ``seed``."""
    from transformers import Qwen2ForCausalLM

    config = tiny_config(tokenizer)
    # Fork the RNG so building the model leaves the caller's random state untouched.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = Qwen2ForCausalLM(config)
    model.config.name_or_path = TINY_MODEL
    model.name_or_path = TINY_MODEL
    return model.float()
