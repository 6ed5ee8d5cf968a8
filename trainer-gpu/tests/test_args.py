from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from trajectory_trainer.args import (
    DataclassArgumentParser,
    LoraArguments,
    ModelArguments,
    ScriptArguments,
)
from trajectory_trainer.cli import build_parser


def parse(*argv: str):
    return build_parser().parse_args_into_dataclasses(list(argv))


def test_defaults():
    script, model, lora = parse("--dataset", "data.jsonl")
    assert isinstance(script, ScriptArguments)
    assert isinstance(model, ModelArguments)
    assert isinstance(lora, LoraArguments)

    assert script.dataset == "data.jsonl"
    assert script.dry_run is False and script.strict is False
    assert script.output_dir == "outputs/trajectory-qlora"
    assert script.learning_rate == 2e-4
    assert script.num_train_epochs == 1
    assert script.max_seq_length == 2048
    assert script.bf16 is True

    assert model.model_name_or_path == "Qwen/Qwen2.5-7B-Instruct"
    assert model.load_in_4bit is True
    assert model.bnb_4bit_quant_type == "nf4"
    assert model.bnb_4bit_compute_dtype == "bfloat16"
    assert model.attn_implementation is None

    assert (lora.lora_r, lora.lora_alpha, lora.lora_dropout) == (16, 32, 0.05)
    assert lora.lora_target_modules == [
        "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj",
    ]


def test_overrides():
    script, model, lora = parse(
        "--dataset", "d.jsonl",
        "--dry-run",
        "--lora_r", "8",
        "--lora-alpha", "16",
        "--lora_dropout", "0",
        "--lora_target_modules", "q_proj", "v_proj",
        "--learning_rate", "1e-4",
        "--num_train_epochs", "3",
        "--max_seq_length", "4096",
        "--output_dir", "out",
        "--model_name_or_path", "Qwen/Qwen2.5-0.5B-Instruct",
        "--bnb_4bit_quant_type", "fp4",
        "--load_in_4bit", "false",
        "--no_bf16",
        "--attn_implementation", "sdpa",
    )
    assert script.dry_run is True
    assert (lora.lora_r, lora.lora_alpha, lora.lora_dropout) == (8, 16, 0.0)
    assert lora.lora_target_modules == ["q_proj", "v_proj"]
    assert script.learning_rate == 1e-4 and script.num_train_epochs == 3.0
    assert script.max_seq_length == 4096 and script.output_dir == "out"
    assert script.bf16 is False
    assert model.model_name_or_path == "Qwen/Qwen2.5-0.5B-Instruct"
    assert model.bnb_4bit_quant_type == "fp4"
    assert model.load_in_4bit is False
    assert model.attn_implementation == "sdpa"


@pytest.mark.parametrize(
    ("argv", "value"), [(["--bf16"], True), (["--bf16", "false"], False), (["--bf16", "yes"], True), (["--no-bf16"], False)]
)
def test_boolean_forms(argv, value):
    (script, _, _) = parse("--dataset", "d", *argv)
    assert script.bf16 is value


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "--dataset"),
        (["--dataset", "d", "--lora_r", "0"], "--lora_r must be positive"),
        (["--dataset", "d", "--lora_r", "eight"], "invalid int value"),
        (["--dataset", "d", "--lora_dropout", "1"], "--lora_dropout must be in [0, 1)"),
        (["--dataset", "d", "--bnb_4bit_quant_type", "int8"], "invalid choice"),
        (["--dataset", "d", "--learning_rate", "-1"], "--learning_rate must be positive"),
        (["--dataset", "d", "--bf16", "maybe"], "expected a boolean"),
        (["--dataset", "d", "--unknown_flag", "1"], "unrecognized arguments"),
    ],
)
def test_invalid_arguments_exit_2(capsys, argv, message):
    with pytest.raises(SystemExit) as info:
        parse(*argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_default_lists_are_not_shared():
    parser = build_parser()
    _, _, first = parser.parse_args_into_dataclasses(["--dataset", "d"])
    first.lora_target_modules.append("lm_head")
    _, _, second = parser.parse_args_into_dataclasses(["--dataset", "d"])
    assert "lm_head" not in second.lora_target_modules


def test_parser_rejects_duplicate_fields():
    @dataclass
    class Other:
        lora_r: int = field(default=1)

    with pytest.raises(ValueError, match="lora_r"):
        DataclassArgumentParser([LoraArguments, Other])


def test_help_lists_every_group(capsys):
    with pytest.raises(SystemExit) as info:
        parse("--help")
    assert info.value.code == 0
    out = capsys.readouterr().out
    for text in ("ScriptArguments", "ModelArguments", "LoraArguments", "--lora_r", "--no_bf16", "default: 16"):
        assert text in out
