from __future__ import annotations

import dataclasses

import pytest
from transformers import HfArgumentParser

from conftest import REPO, node_json
from trajectory_trainer.args import (
    DEFAULT_BASE_MODEL,
    Hyperparameters,
    TrainArguments,
    WorkerArguments,
    parse_into_dataclasses,
)
from trajectory_trainer.cli import build_train_parser, build_worker_parser
from trajectory_trainer.contracts import TrainingHyperparameters


def parse(*argv: str):
    return parse_into_dataclasses(build_train_parser(), argv)


def test_hyperparameter_defaults_are_the_issues(monkeypatch):
    monkeypatch.delenv("TRAINING_BASE_MODEL", raising=False)
    hp = Hyperparameters()
    assert hp.base_model == DEFAULT_BASE_MODEL == "Qwen/Qwen2.5-7B-Instruct"
    assert (hp.lora_r, hp.lora_alpha, hp.lora_dropout) == (64, 128, 0.05)
    assert hp.target_modules == ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    assert (hp.learning_rate, hp.lr_scheduler, hp.warmup_ratio) == (3e-4, "cosine", 0.03)
    assert (hp.epochs, hp.batch_size, hp.gradient_accumulation_steps) == (5, 2, 4)
    assert hp.disable_gradient_checkpointing is False  # checkpointing on
    assert hp.disable_4bit is False  # NF4 where CUDA is
    assert (hp.max_seq_length, hp.max_steps, hp.save_steps, hp.seed) == (2048, 0, 50, 42)
    assert (hp.merge, hp.ollama) == (False, False)


def test_defaults_are_the_training_services(monkeypatch):
    """The training service records a job's hyperparameters with its defaults filled in (the job's
    id depends on them) and the trainer fills the same zeros with its own: both must be the same
    values, or a job trains otherwise than its record says."""
    monkeypatch.delenv("TRAINING_BASE_MODEL", raising=False)
    filled = node_json(
        "const jobs = await import(process.argv[1]);"
        "console.log(JSON.stringify(jobs.fillHyperparameters(undefined, 'the-base-model')));",
        REPO / "services" / "training" / "dist" / "core" / "jobs.js",
        what="the built training service (services/training/dist)",
    )
    ours = dataclasses.asdict(Hyperparameters.from_proto(None, base_model="the-base-model"))
    # ts-proto's field names: snake_case to lowerCamelCase, a digit-led part kept as it is (disable4bit).
    head_and_rest = (name.split("_") for name in ours)
    camel = {parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:]): ours["_".join(parts)] for parts in head_and_rest}
    assert filled == camel


def test_base_model_default_follows_the_training_service(monkeypatch):
    monkeypatch.setenv("TRAINING_BASE_MODEL", "Qwen/Qwen2.5-0.5B-Instruct")
    assert Hyperparameters().base_model == "Qwen/Qwen2.5-0.5B-Instruct"


def test_every_proto_field_has_a_dataclass_field():
    proto_fields = [f.name for f in TrainingHyperparameters.DESCRIPTOR.fields]
    ours = [f.name for f in dataclasses.fields(Hyperparameters)]
    assert ours == proto_fields


def test_zero_values_of_a_job_mean_the_defaults(monkeypatch):
    monkeypatch.delenv("TRAINING_BASE_MODEL", raising=False)
    assert Hyperparameters.from_proto(TrainingHyperparameters()) == Hyperparameters()
    assert Hyperparameters.from_proto(None, base_model="m").base_model == "m"
    given = TrainingHyperparameters(lora_r=8, learning_rate=1e-3, epochs=2.5, max_steps=7, merge=True, seed=7,
                                    base_model="tiny-random-qwen2", disable_4bit=True)
    given.target_modules.extend(["q_proj", "v_proj"])
    hp = Hyperparameters.from_proto(given, base_model="ignored: the hyperparameters name one")
    assert (hp.lora_r, hp.lora_alpha, hp.learning_rate, hp.epochs, hp.max_steps) == (8, 128, 1e-3, 2.5, 7)
    assert hp.target_modules == ["q_proj", "v_proj"] and hp.merge and hp.disable_4bit and hp.seed == 7
    assert hp.base_model == "tiny-random-qwen2" and hp.is_tiny
    back = Hyperparameters.from_proto(hp.to_proto())
    assert back == hp


def test_train_flags():
    args, hp = parse(
        "--dataset", "d", "--lora_r", "8", "--lora-alpha", "16", "--target_modules", "q_proj", "v_proj",
        "--learning_rate", "1e-4", "--epochs", "3", "--disable_4bit", "--merge", "true", "--base_model", "tiny-random-qwen2",
        "--no_recall",
    )
    assert isinstance(args, TrainArguments) and args.dataset == "d" and args.recall is False
    assert (hp.lora_r, hp.lora_alpha, hp.target_modules) == (8, 16, ["q_proj", "v_proj"])
    assert (hp.learning_rate, hp.epochs, hp.disable_4bit, hp.merge, hp.ollama) == (1e-4, 3.0, True, True, False)


def test_worker_flags_accept_dashes(monkeypatch):
    monkeypatch.delenv("NATS_URL", raising=False)
    (defaults,) = parse_into_dataclasses(build_worker_parser(), [])
    assert defaults.nats == "nats://127.0.0.1:4222"
    (args,) = parse_into_dataclasses(
        build_worker_parser(), ["--nats", "nats://h:4222", "--checkpoint-dir", "/ck", "--trainer-id", "gpu-1", "--once"]
    )
    assert isinstance(args, WorkerArguments)
    assert (args.nats, args.checkpoint_dir, args.trainer_id, args.once) == ("nats://h:4222", "/ck", "gpu-1", True)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required: --dataset"),
        (["--dataset", "d", "--lora_r", "0"], "--lora_r must be positive"),
        (["--dataset", "d", "--lora_dropout", "1"], "--lora_dropout must be in [0, 1)"),
        (["--dataset", "d", "--warmup_ratio", "2"], "--warmup_ratio must be in [0, 1]"),
        (["--dataset", "d", "--max_steps", "-1"], "--max_steps must be >= 0"),
        (["--dataset", "d", "--merge", "maybe"], "--merge: Truthy value expected"),
        (["--dataset", "d", "--unknown_flag", "1"], "not used by the HfArgumentParser: ['--unknown_flag', '1']"),
    ],
)
def test_invalid_arguments_exit_2(capsys, argv, message):
    with pytest.raises(SystemExit) as info:
        parse(*argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "value"), [([], True), (["--recall", "false"], False), (["--no-recall"], False)])
def test_boolean_forms(argv, value):
    args, _ = parse("--dataset", "d", *argv)
    assert args.recall is value


def test_the_parser_is_transformers_own():
    assert isinstance(build_train_parser(), HfArgumentParser) and isinstance(build_worker_parser(), HfArgumentParser)


def test_default_lists_are_not_shared():
    parser = build_train_parser()
    _, first = parse_into_dataclasses(parser, ["--dataset", "d"])
    first.target_modules.append("lm_head")
    _, second = parse_into_dataclasses(parser, ["--dataset", "d"])
    assert "lm_head" not in second.target_modules


def test_help_lists_every_group(capsys):
    with pytest.raises(SystemExit) as info:
        parse("--help")
    assert info.value.code == 0
    out = capsys.readouterr().out
    for text in ("TrainArguments", "Hyperparameters", "--lora_r", "--no_recall", "default: 64", "tiny-random",
                 "--target_modules TARGET_MODULES [TARGET_MODULES ...]"):
        assert text in out
