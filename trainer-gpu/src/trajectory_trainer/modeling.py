"""Loading the base model: the tiny CPU model built in code, or a real one from a path or the Hub.

A path to a ``.gguf`` file loads through transformers' GGUF support (the ``gguf`` package;
quantised tensors are dequantised), for models that a package ships as GGUF.

On a machine with CUDA the base is quantised to 4-bit NF4 with double quantisation and bf16
compute (bitsandbytes, the ``gpu`` extra) unless ``disable_4bit``; without CUDA it loads in
float32 (bf16 where asked) and trains LoRA on top without quantisation.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .args import Hyperparameters

__all__ = ["LoadedModel", "load_base_model", "load_tokenizer", "ollama_name"]

log = logging.getLogger(__name__)

#: Ollama library names of known Hub models, for the Modelfile's FROM line.
OLLAMA_NAMES = {
    "qwen/qwen2.5-7b-instruct": "qwen2.5:7b-instruct",
    "qwen/qwen2.5-3b-instruct": "qwen2.5:3b-instruct",
    "qwen/qwen2.5-1.5b-instruct": "qwen2.5:1.5b-instruct",
    "qwen/qwen2.5-0.5b-instruct": "qwen2.5:0.5b-instruct",
    "qwen/qwen2.5-14b-instruct": "qwen2.5:14b-instruct",
}


def ollama_name(base_model: str) -> str:
    return OLLAMA_NAMES.get(base_model.lower(), base_model)


@dataclass
class LoadedModel:
    model: Any
    tokenizer: Any
    device: torch.device
    quantized: bool
    dtype: torch.dtype


def cuda_available() -> bool:
    return torch.cuda.is_available()


def pretrained_source(base_model: str) -> tuple[str, dict[str, Any]]:
    """``from_pretrained``'s first argument and keywords: a ``.gguf`` file is its folder + ``gguf_file``."""
    path = Path(base_model)
    if path.suffix.lower() == ".gguf" and path.is_file():
        return str(path.parent), {"gguf_file": path.name}
    return base_model, {}


def load_tokenizer(hp: Hyperparameters) -> Any:
    if hp.is_tiny:
        from .tiny import build_tiny_tokenizer

        return build_tiny_tokenizer()
    from transformers import AutoTokenizer

    source, extra = pretrained_source(hp.base_model)
    tokenizer = AutoTokenizer.from_pretrained(source, **extra)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not tokenizer.chat_template:
        raise ValueError(f"{hp.base_model}: the tokenizer has no chat template; use an instruct/chat model")
    return tokenizer


def load_base_model(hp: Hyperparameters, *, for_training: bool = True, quantize: bool | None = None) -> LoadedModel:
    """The base model and tokenizer, on CUDA when there is one.

    ``quantize``: None decides from the hyperparameters and the machine (4-bit only with CUDA).
    """
    tokenizer = load_tokenizer(hp)
    use_cuda = cuda_available()
    device = torch.device("cuda", torch.cuda.current_device()) if use_cuda else torch.device("cpu")
    if hp.is_tiny:
        from .tiny import build_tiny_model

        if device.type == "cpu" and "OMP_NUM_THREADS" not in os.environ:
            # Its matrices are too small to gain from threads, and on a busy machine OpenMP's
            # spinning threads make it 10-30x slower.
            torch.set_num_threads(1)
        tiny = build_tiny_model(tokenizer, seed=hp.seed).to(device)
        return LoadedModel(tiny, tokenizer, device, quantized=False, dtype=torch.float32)

    from transformers import AutoModelForCausalLM

    want_4bit = (not hp.disable_4bit) if quantize is None else quantize
    quantized = want_4bit and use_cuda
    if want_4bit and not use_cuda and quantize is None:
        log.warning("no CUDA device: loading %s without 4-bit quantisation", hp.base_model)
    kwargs: dict[str, Any] = {}
    if quantized:
        try:
            import bitsandbytes  # noqa: F401
            from transformers import BitsAndBytesConfig
        except ImportError as exc:
            raise RuntimeError(
                "4-bit training needs bitsandbytes: pip install 'trajectory-trainer[gpu]' "
                "(or set disable_4bit to train LoRA on the unquantised model)"
            ) from exc
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16,
        )
        dtype = torch.bfloat16
    else:
        dtype = torch.bfloat16 if use_cuda and torch.cuda.is_bf16_supported() else torch.float32
    if use_cuda:
        kwargs["device_map"] = {"": device.index or 0}
    source, extra = pretrained_source(hp.base_model)
    model: Any = AutoModelForCausalLM.from_pretrained(source, dtype=dtype, **extra, **kwargs)
    if not use_cuda:
        model = model.to(device)
    if for_training:
        model.config.use_cache = False
    return LoadedModel(model, tokenizer, device, quantized=quantized, dtype=dtype)
