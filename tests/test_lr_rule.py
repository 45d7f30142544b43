"""The learning-rate rule for larger batches (train.lr_batch, train.lr_rule) and the one-GPU recipes."""

import json
import math

import pytest
import torch

import sigdae
from sigdae.config import complete
from sigdae.errors import ConfigError
from sigdae.optim import batch_scaled_lr
from sigdae.recipes import recipe

torch.set_num_threads(1)


def test_rules():
    assert batch_scaled_lr(1e-3, 256, 64, "sqrt") == pytest.approx(2e-3)
    assert batch_scaled_lr(1e-3, 256, 64, "linear") == pytest.approx(4e-3)
    assert batch_scaled_lr(1e-3, 16, 64, "sqrt") == pytest.approx(5e-4)
    assert batch_scaled_lr(1e-3, 256, 0, "linear") == 1e-3  # off


def test_bad_settings_are_one_line_errors():
    with pytest.raises(ConfigError, match="lr_rule"):
        complete(recipe("mnist", {"train.lr_rule": "cubic"}))
    with pytest.raises(ConfigError, match="lr_batch"):
        complete(recipe("mnist", {"train.lr_batch": -1}))


@pytest.mark.parametrize("rule, factor", [("sqrt", 2.0), ("linear", 4.0)])
def test_training_steps_at_the_scaled_rate(tmp_path, rule, factor):
    config = recipe("mnist-dense", {"train.batch_size": 8, "train.lr_batch": 2, "train.lr_rule": rule,
                                    "train.lr": 1e-3, "train.schedule": "constant", "train.warmup": 0.0,
                                    "train.epochs": 1, "train.steps_per_epoch": 3, "train.log_every_s": 0.0,
                                    "train.max_minutes": 0.0, "data.limit": 64, "data.val_limit": 16,
                                    "device": "cpu"})
    sigdae.train(config, run_dir=tmp_path / rule)
    events = [json.loads(line) for line in (tmp_path / rule / "events.jsonl").read_text().splitlines()]
    rates = [e["lr"] for e in events if e["type"] == "step"]
    assert rates and all(math.isclose(r, 1e-3 * factor) for r in rates)


def test_gpu_recipes_scale_their_cpu_recipes():
    for name, base in (("mnist-gpu", "mnist"), ("speech-spec-gpu", "speech-spec")):
        gpu, cpu = complete(recipe(name)), complete(recipe(base))
        assert gpu["train"]["lr_batch"] == cpu["train"]["batch_size"] < gpu["train"]["batch_size"]
        assert gpu["train"]["lr"] == cpu["train"]["lr"]
        assert gpu["model"]["name"] == cpu["model"]["name"]
        assert gpu["model"]["channels"][0] > cpu["model"]["channels"][0]
