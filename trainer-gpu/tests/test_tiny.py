from __future__ import annotations

import torch

from trajectory_trainer.tiny import TINY_MODEL, build_tiny_model, build_tiny_tokenizer


def test_tokenizer_is_built_in_code_and_deterministic():
    a, b = build_tiny_tokenizer(), build_tiny_tokenizer()
    text = "Héllo <|im_start|>user\nWhere do I live?<|im_end|>"
    assert a(text)["input_ids"] == b(text)["input_ids"]
    assert a.decode(a(text)["input_ids"]) == text  # byte-level: lossless
    assert len(a) == 259 and a.eos_token == "<|im_end|>" and a.pad_token == "<|endoftext|>"
    assert a.convert_tokens_to_ids("<|im_start|>") == 257
    assert a.name_or_path == TINY_MODEL


def test_model_is_qwen2_and_deterministic_from_the_seed():
    tokenizer = build_tiny_tokenizer()
    state = torch.get_rng_state()
    first = build_tiny_model(tokenizer, seed=42)
    assert torch.equal(torch.get_rng_state(), state)  # the caller's random state is untouched
    second = build_tiny_model(tokenizer, seed=42)
    other = build_tiny_model(tokenizer, seed=43)
    assert type(first).__name__ == "Qwen2ForCausalLM"
    cfg = first.config
    assert (cfg.hidden_size, cfg.num_hidden_layers, cfg.num_attention_heads, cfg.num_key_value_heads) == (64, 2, 4, 2)
    assert cfg.vocab_size == len(tokenizer)
    sd1, sd2, sd3 = first.state_dict(), second.state_dict(), other.state_dict()
    assert all(torch.equal(sd1[k], sd2[k]) for k in sd1)
    assert not all(torch.equal(sd1[k], sd3[k]) for k in sd1)
    ids = torch.tensor([tokenizer("hello")["input_ids"]])
    assert torch.equal(first(ids).logits, second(ids).logits)
