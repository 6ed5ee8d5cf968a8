from __future__ import annotations

import pytest

from trajectory_trainer.data import load_dataset
from trajectory_trainer.tiny import build_tiny_tokenizer
from trajectory_trainer.tokenization import IGNORE_INDEX, TemplateError, encode_conversation


@pytest.fixture(scope="module")
def tokenizer():
    return build_tiny_tokenizer()


CONVERSATION = [
    {"role": "system", "content": "You know my facts."},
    {"role": "user", "content": "Where do I live?"},
    {"role": "assistant", "content": "In Utrecht."},
    {"role": "user", "content": "And my partner's birthday?"},
    {"role": "assistant", "content": "12 March."},
]


def labelled_text(tokenizer, enc):
    return tokenizer.decode([t for t, label in zip(enc.input_ids, enc.labels, strict=True) if label != IGNORE_INDEX])


def test_labels_only_on_assistant_tokens(tokenizer):
    enc = encode_conversation(tokenizer, CONVERSATION, max_length=4096)
    assert len(enc.input_ids) == len(enc.labels)
    assert labelled_text(tokenizer, enc) == "In Utrecht.<|im_end|>12 March.<|im_end|>"
    # Labels are the token ids themselves where set (the model shifts them), -100 elsewhere.
    assert all(label in (IGNORE_INDEX, tok) for tok, label in zip(enc.input_ids, enc.labels, strict=True))
    # System and user text, role headers and the newline after <|im_end|> carry no label.
    unlabelled = tokenizer.decode([t for t, label in zip(enc.input_ids, enc.labels, strict=True) if label == IGNORE_INDEX])
    assert "Where do I live?" in unlabelled and "You know my facts." in unlabelled and "assistant\n" in unlabelled


def test_agrees_with_the_templates_generation_markers(tokenizer):
    # The tiny template marks assistant content with {% generation %}: transformers' own mask must agree.
    out = tokenizer.apply_chat_template(CONVERSATION, tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
    enc = encode_conversation(tokenizer, CONVERSATION, max_length=4096)
    assert enc.input_ids == out["input_ids"]
    assert [int(label != IGNORE_INDEX) for label in enc.labels] == out["assistant_masks"]


def test_every_fixture_conversation_has_targets(tokenizer, fixture_dataset):
    data = load_dataset(fixture_dataset)
    for example in data.train:
        enc = encode_conversation(tokenizer, example.messages, max_length=2048)
        assert enc is not None and enc.target_tokens > 0
        assert labelled_text(tokenizer, enc).endswith(example.messages[-1]["content"] + "<|im_end|>")


def test_truncation_keeps_the_end(tokenizer):
    full = encode_conversation(tokenizer, CONVERSATION, max_length=4096)
    short = encode_conversation(tokenizer, CONVERSATION, max_length=30)
    assert len(short.input_ids) == 30 and short.truncated == len(full.input_ids) - 30
    assert short.input_ids == full.input_ids[-30:] and short.labels == full.labels[-30:]
    assert labelled_text(tokenizer, short).endswith("12 March.<|im_end|>")
    # Nothing left to learn from: no example.
    only_prompt = [{"role": "user", "content": "x" * 50}, {"role": "assistant", "content": "ok"}]
    assert encode_conversation(tokenizer, only_prompt, max_length=1) is None  # only the final newline left


def test_a_template_that_rewrites_history_is_refused(tokenizer):
    class Rewriting:
        def apply_chat_template(self, messages, tokenize=False, add_generation_prompt=False):
            # Like templates that drop earlier reasoning: a prefix is not a prefix of the whole.
            return "|".join(m["content"][:1] if i < len(messages) - 1 else m["content"] for i, m in enumerate(messages))

    with pytest.raises(TemplateError):
        encode_conversation(Rewriting(), CONVERSATION, max_length=100)
