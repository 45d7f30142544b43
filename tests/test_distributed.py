"""torchrun with 2 gloo processes on the CPU: the result equals a single-process run at the same global
batch, rank 0 alone writes the run directory, and a run stopped mid-epoch resumes as a group."""

import os
import subprocess
import sys
import time

import pytest
import torch

from sigdae import checkpoint
from sigdae.config import dumps_toml
from sigdae.recipes import recipe
from sigdae.runs import RunDir, read_events

CONFIG = recipe("mnist", {"device": "cpu", "seed": 4, "data": {"limit": 512, "val_limit": 64},
                          "model.channels": [8, 16, 16], "model.norm": "none", "model.attention": 0,
                          "loss.spec": "mse", "train.epochs": 2, "train.steps_per_epoch": 6,
                          "train.batch_size": 16, "train.log_every_s": 0.0,
                          # SGD, not Adam: Adam's step divides by the gradient's size, so on weights whose
                          # gradient is near zero it turns float rounding into differences of up to lr
                          "train.optimizer": "sgd", "train.lr": 0.05})


def sigdae(*args, processes=1):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    launcher = ([sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"]
                if processes > 1 else [sys.executable])
    return subprocess.Popen([*launcher, "-m", "sigdae", "train", *args, "--quiet", "--threads", "1"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def finished(proc):
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()[-3000:]
    return out.decode()


def weights(run_dir):
    return checkpoint.load(RunDir(run_dir).last_checkpoint)["model"]["state"]


@pytest.fixture(scope="module")
def config_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("ddp") / "config.toml"
    path.write_text(dumps_toml(CONFIG))
    return path


@pytest.mark.skipif(not torch.distributed.is_available(), reason="this torch build has no torch.distributed")
def test_two_processes_equal_one_and_resume_as_a_group(config_file, tmp_path):
    one = sigdae("--config", str(config_file), "--run-dir", str(tmp_path / "one"))
    two = sigdae("--config", str(config_file), "--run-dir", str(tmp_path / "two"), processes=2)
    finished(one)
    assert finished(two).count("run directory:") == 1, "only rank 0 speaks"
    a, b = weights(tmp_path / "one"), weights(tmp_path / "two")
    for key in a:  # the same global batch, split in two: equal up to the order of floating-point sums
        assert torch.allclose(a[key], b[key], atol=2e-4, rtol=0), key
    events = list(read_events(tmp_path / "two" / "events.jsonl"))
    assert [e["type"] for e in events].count("start") == 1 and events[-1]["type"] == "end"

    run = RunDir(tmp_path / "parted")
    proc = sigdae("--config", str(config_file), "--run-dir", str(run.path), processes=2)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not any(e["type"] == "step" and e["step"] >= 3
                                                  for e in read_events(run.events_file)):
        time.sleep(0.1)
    run.request_stop()
    proc.communicate(timeout=120)
    assert run.read_status().status == "stopped" and 3 <= checkpoint.load(run.last_checkpoint)["trainer"]["step"] < 12
    finished(sigdae("--resume", str(run.path), processes=2))
    assert run.read_status().status == "finished"
    b, c = weights(tmp_path / "two"), weights(run.path)
    for key in b:  # a stop inside an epoch resumes exactly, as a group too
        assert torch.equal(b[key], c[key]), key


@pytest.mark.skipif(not torch.distributed.is_available(), reason="this torch build has no torch.distributed")
def test_runs_api_launches_and_resumes_a_group(tmp_path, monkeypatch):
    from sigdae.errors import RunError
    from sigdae.runs import manage

    run = RunDir(tmp_path / "group")
    manage.launch_run(CONFIG, run.path, processes=2)  # as the TUI's new-run form does for "all N GPUs"
    deadline = time.monotonic() + 240
    # run.json says "finished" a moment before the exiting trainer lets go of the folder's lock
    while time.monotonic() < deadline and run.effective_status() not in ("finished", "failed"):
        time.sleep(0.2)
    status = run.read_status()
    assert status.status == "finished" and status.processes == 2, run.log_file.read_text()[-2000:]
    commands = []
    monkeypatch.setattr(manage, "_spawn", lambda command, run_dir: commands.append(command) or 1)
    manage.resume_run(run.path)  # with as many processes as it had
    assert "torch.distributed.run" in commands[0] and "--nproc_per_node=2" in commands[0]
    assert run.read_status().processes == 2
    with pytest.raises(RunError, match="divide evenly"):
        manage.launch_run({**CONFIG, "train": {**CONFIG["train"], "batch_size": 15}}, tmp_path / "odd", processes=2)
