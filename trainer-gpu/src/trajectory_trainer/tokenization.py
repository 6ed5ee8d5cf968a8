"""Chat conversations to token ids with labels on the assistant tokens only.

The tokenizer's own chat template renders the conversation. Which characters belong to the
assistant comes from rendering prefixes of the conversation: for the i-th message, if it is the
assistant's, the text between ``template(messages[:i], add_generation_prompt=True)`` and
``template(messages[:i+1])`` (trailing whitespace dropped) is its content plus the end-of-turn
marker. The full text is tokenised once with offsets, and a token is labelled when it starts
inside such a span; every other token gets -100. This works with templates that have no
``{% generation %}`` markers (Qwen2.5's has none), as long as each rendered prefix is a prefix of
the full rendering, which is checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

IGNORE_INDEX = -100

__all__ = ["IGNORE_INDEX", "Encoded", "TemplateError", "assistant_spans", "encode_conversation"]


class TemplateError(ValueError):
    """The chat template renders prefixes that are not prefixes of the whole conversation."""


@dataclass(frozen=True)
class Encoded:
    input_ids: list[int]
    labels: list[int]
    #: Tokens dropped from the start to fit max_length.
    truncated: int = 0

    @property
    def target_tokens(self) -> int:
        return sum(1 for label in self.labels if label != IGNORE_INDEX)


def _render(tokenizer: Any, messages: Sequence[dict], generation_prompt: bool) -> str:
    if not messages:
        return ""
    return tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=generation_prompt)


def assistant_spans(tokenizer: Any, messages: Sequence[dict]) -> tuple[str, list[tuple[int, int]]]:
    """The rendered conversation and the character spans of its assistant turns."""
    full = _render(tokenizer, messages, False)
    spans: list[tuple[int, int]] = []
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        before = _render(tokenizer, messages[:i], True)
        upto = _render(tokenizer, messages[: i + 1], False)
        if not upto.startswith(before) or not full.startswith(upto):
            raise TemplateError(
                "the chat template does not render conversations prefix by prefix; "
                "assistant tokens cannot be located"
            )
        end = len(upto.rstrip())
        if end > len(before):
            spans.append((len(before), end))
    return full, spans


def encode_conversation(tokenizer: Any, messages: Sequence[dict], max_length: int) -> Encoded | None:
    """Token ids and labels (-100 outside assistant turns); None when no target token remains.

    A conversation longer than ``max_length`` loses its start: the target turn is at the end.
    """
    text, spans = assistant_spans(tokenizer, messages)
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids: list[int] = list(enc["input_ids"])
    offsets = enc["offset_mapping"]
    labels = [IGNORE_INDEX] * len(ids)
    for j, (start, end) in enumerate(offsets):
        if end <= start:
            continue
        if any(s <= start < e for s, e in spans):
            labels[j] = ids[j]
    truncated = 0
    if len(ids) > max_length:
        truncated = len(ids) - max_length
        ids, labels = ids[truncated:], labels[truncated:]
    encoded = Encoded(ids, labels, truncated)
    return encoded if encoded.target_tokens > 0 else None
