"""Training options: loggers (epochs.csv and TensorBoard scalars beside events.jsonl, a CSV from the
event log of any run) and torch.compile."""

import csv

import pytest
import torch

from sigdae.errors import ConfigError
from sigdae.recipes import recipe
from sigdae.runs import RunDir
from sigdae.runs.loggers import epochs_csv, export_csv
from sigdae.trainer import Trainer

torch.set_num_threads(1)


pytestmark = pytest.mark.usefixtures("cached_mnist")


def tiny(**train):
    return recipe("mnist", {"device": "cpu", "data": {"limit": 128, "val_limit": 32}, "model.channels": [4, 8, 8],
                            "train.epochs": 2, "train.steps_per_epoch": 3, "train.batch_size": 16,
                            "train.log_every_s": 0.0, **{f"train.{k}": v for k, v in train.items()}})


def test_csv_and_tensorboard_loggers(tmp_path):
    run = RunDir(tmp_path / "r")
    Trainer(tiny(loggers=["csv", "tensorboard"]), run.path).fit()
    rows = list(csv.DictReader(open(run.path / "epochs.csv")))
    assert [int(r["epoch"]) for r in rows] == [1, 2] and float(rows[1]["val_psnr"]) > 0
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    scalars = EventAccumulator(str(run.path / "tensorboard")).Reload()
    assert {"train/loss", "train/lr", "val/psnr", "val/ssim"} <= set(scalars.Tags()["scalars"])
    assert [e.step for e in scalars.Scalars("val/psnr")] == [3, 6]


def test_csv_from_the_event_log_of_any_run(tmp_path):
    run = RunDir(tmp_path / "r")
    Trainer(tiny(), run.path).fit()
    assert not (run.path / "epochs.csv").exists()
    path = export_csv(run, tmp_path / "out.csv")
    assert open(path).read().splitlines()[0].startswith("epoch,step,elapsed,train_loss,val_loss,val_psnr")
    assert epochs_csv([]) == "epoch,step,elapsed,train_loss\n"


def test_unknown_logger_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="unknown logger 'wandb'"):
        Trainer(tiny(loggers=["wandb"]), tmp_path / "r")


def test_compiled_training_matches_eager(tmp_path):
    eager = Trainer(tiny(), tmp_path / "eager")
    eager.fit()
    compiled = Trainer(tiny(compile="eager"), tmp_path / "compiled")  # dynamo traces; no C++ build in tests
    compiled.fit()
    for key, value in eager.model.state_dict().items():
        assert torch.allclose(value, compiled.model.state_dict()[key], atol=1e-5), key


def test_an_unknown_compile_backend_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="train.compile: unknown backend 'fast'"):
        Trainer(tiny(compile="fast"), tmp_path / "r")
