"""Training killed with SIGKILL at random moments, then resumed, always finishes with loadable checkpoints
and the same model as an uninterrupted run. CI kills 3 times; SIGDAE_FAULT_KILLS=20 runs the long version."""

import os
import random
import signal
import subprocess
import sys
import time

import pytest
import torch

from sigdae import checkpoint
from sigdae.runs import RunDir

KILLS = int(os.environ.get("SIGDAE_FAULT_KILLS", "3"))

TRAIN = """
import sys, torch
torch.set_num_threads(1)
from sigdae.recipes import recipe
from sigdae.trainer import Trainer
config = recipe("mnist", {"device": "cpu", "seed": 2, "data": {"limit": 384, "val_limit": 64},
                          "model.channels": [8, 16, 16], "train.epochs": 6, "train.steps_per_epoch": 6,
                          "train.batch_size": 16, "train.log_every_s": 0.0})
Trainer(config, sys.argv[1], resume=sys.argv[2] == "resume").fit()
"""


def train(run_dir, mode):
    return subprocess.Popen([sys.executable, "-c", TRAIN, str(run_dir), mode], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")
def test_killed_training_resumes_to_the_same_model(tmp_path):
    whole = tmp_path / "whole"
    assert train(whole, "fresh").wait() == 0
    run = RunDir(tmp_path / "killed")
    rng = random.Random(7)
    for _ in range(KILLS):
        proc = train(run.path, "resume")
        time.sleep(rng.uniform(0.5, 5.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        for name in ("last", "best"):
            if run.checkpoint(name).exists():
                checkpoint.load(run.checkpoint(name))  # loadable after every kill
    final = train(run.path, "resume")
    assert final.wait() == 0, final.stderr.read().decode()[-2000:]
    assert run.read_status().status == "finished" and run.read_status().epoch == 6
    assert not list(run.path.glob(".*.tmp")), "stale temporary files left behind"
    a, b = (checkpoint.load(RunDir(d).last_checkpoint)["model"]["state"] for d in (whole, run.path))
    for key in a:
        assert torch.equal(a[key], b[key]), f"{key} differs from the uninterrupted run"
