"""Nothing lost, nothing silently wrong: one writer per run folder, resume and start never destroy a
model, mid-epoch resume, finite-or-fail training, torn event logs and stale temporary files."""

import torch

torch.set_num_threads(1)

import json  # noqa: E402
import math  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest
from run_helpers import StopAtStep  # noqa: E402

from sigdae import checkpoint  # noqa: E402
from sigdae.corruptions import CORRUPTIONS, Corruption  # noqa: E402
from sigdae.errors import ConfigError, RunError, TrainingError  # noqa: E402
from sigdae.recipes import recipe  # noqa: E402
from sigdae.runs import EventLog, RunDir, read_events, scan_runs  # noqa: E402
from sigdae.trainer import Trainer  # noqa: E402


pytestmark = pytest.mark.usefixtures("cached_mnist")


def tiny(epochs=1, **train):
    config = recipe("mnist")
    config.update(device="cpu", seed=5, data={"limit": 256, "val_limit": 64})
    config["model"]["channels"] = [8, 16, 16]
    config["train"].update({"epochs": epochs, "steps_per_epoch": 6, "batch_size": 16, "log_every_s": 0.0, **train})
    return config




def test_a_stop_inside_an_epoch_resumes_where_it_stopped(tmp_path):
    whole = tmp_path / "whole"
    Trainer(tiny(epochs=2), whole).fit()
    parted = tmp_path / "parted"
    summary = Trainer(tiny(epochs=2), parted, listeners=[StopAtStep(parted, 4)]).fit()
    assert summary["status"] == "stopped" and summary["steps"] == 4 and summary["epochs"] == 0
    summary = Trainer(tiny(epochs=2), parted, resume=True).fit()
    assert summary["status"] == "finished" and summary["steps"] == 12, "the first epoch must not start over"
    a, b = (checkpoint.load(d / "last.pt")["model"]["state"] for d in (whole, parted))
    for key in a:
        assert torch.equal(a[key], b[key]), f"{key}: the resumed run saw other batches or noise"
    epochs = [e for e in read_events(parted / "events.jsonl") if e["type"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2] and [e["step"] for e in epochs] == [6, 12]


def test_best_alone_is_never_overwritten(tmp_path):
    run = tmp_path / "r"
    Trainer(tiny(), run).fit()
    (run / "last.pt").unlink()
    best = (run / "best.pt").read_bytes()
    with pytest.raises(ConfigError, match="already holds a run") as fresh:
        Trainer(tiny(), run).fit()
    with pytest.raises(RunError, match="no last.pt") as resumed:
        Trainer(tiny(), run, resume=True).fit()
    assert "--init" in str(fresh.value) and "--init" in str(resumed.value)
    assert (run / "best.pt").read_bytes() == best


def test_one_writer_per_run_folder(tmp_path):
    run = RunDir(tmp_path / "r")
    with run.lock():
        assert run.is_locked() and run.effective_status() == "running"
        assert [r.status for r in scan_runs(tmp_path)] == ["running"]
        with pytest.raises(RunError, match=r"in use by a live training process \(pid \d+"):
            Trainer(tiny(), run.path).fit()
        with pytest.raises(RunError, match="in use"):
            Trainer(tiny(), run.path, resume=True).fit()
    assert not run.is_locked()
    assert not run.status_file.exists() and not run.config_file.exists(), "a refused writer wrote nothing"
    assert Trainer(tiny(), run.path).fit()["status"] == "finished"


def test_stale_temporary_files_are_removed_when_a_writer_takes_the_folder(tmp_path):
    run = RunDir(tmp_path / "r")
    run.create()
    stale = [run.path / ".last.pt.0123abcd.tmp", run.path / ".preview.npz.deadbeef.npz"]
    for f in stale:
        f.write_bytes(b"half a file")
    keep = run.path / "notes.txt"
    keep.write_text("mine")
    with run.lock():
        assert not any(f.exists() for f in stale) and keep.exists()


def test_a_torn_event_line_does_not_swallow_the_next_event(tmp_path):
    path = tmp_path / "events.jsonl"
    log = EventLog(path)
    log.emit("start")
    log.close()
    with open(path, "a") as f:
        f.write('{"type": "step", "lo')  # the writer was killed here
    log = EventLog(path)
    log.emit("start", resumed=True)
    log.close()
    assert [(e["type"], e.get("resumed")) for e in read_events(path)] == [("start", None), ("start", True)]


class NonFinite(Corruption):
    """Turns every sample into NaN (a broken plugin)."""

    supports = ("image", "waveform")

    def draw_params(self, x, generator, sample_rate):
        return {}

    def apply_params(self, x, params, sample_rate):
        return x * math.nan


def test_a_non_finite_loss_fails_the_run_and_names_the_corruption(tmp_path):
    CORRUPTIONS.add("test_nonfinite", NonFinite, origin="tests", replace=True)
    config = tiny()
    config["corruption"]["spec"] = "test_nonfinite"
    run = RunDir(tmp_path / "r")
    with pytest.raises(TrainingError, match="test_nonfinite") as info:
        Trainer(config, run.path).fit()
    assert "\n" not in str(info.value)
    status = json.loads(run.status_file.read_text())
    assert status["status"] == "failed" and status["best"] is None
    assert not run.best_checkpoint.exists() and not run.last_checkpoint.exists(), "no NaN model is kept"


def test_run_json_is_valid_json_before_the_first_epoch(tmp_path):
    run = tmp_path / "r"
    Trainer(tiny(epochs=2), run, listeners=[StopAtStep(run, 1)]).fit()
    text = (run / "run.json").read_text()
    assert "Infinity" not in text and json.loads(text)["best"] is None


def test_checkpoint_messages_name_the_problem(tmp_path):
    from sigdae.errors import CheckpointError

    (tmp_path / "empty.pt").write_bytes(b"")
    (tmp_path / "random.pt").write_bytes(bytes(range(256)) * 8)
    torch.save({"model": {"name": "conv", "config": "channels", "state": {}}}, tmp_path / "odd.pt")
    for name, words in (("empty.pt", "the file is empty"), ("random.pt", "not a PyTorch checkpoint"),
                        ("odd.pt", "not tables")):
        with pytest.raises(CheckpointError, match=words) as info:
            checkpoint.load(tmp_path / name)
        assert "\n" not in str(info.value) and "weights_only" not in str(info.value)


def test_a_checkpoint_with_non_finite_weights_is_refused(tmp_path):
    from sigdae.api import load_model
    from sigdae.errors import CheckpointError

    run = tmp_path / "r"
    Trainer(tiny(), run).fit()
    payload = torch.load(run / "best.pt", weights_only=True)
    first = next(k for k, v in payload["model"]["state"].items() if v.is_floating_point())
    payload["model"]["state"][first][...] = math.nan
    torch.save(payload, run / "best.pt")
    with pytest.raises(CheckpointError, match=f"non-finite weights \\({first}"):
        load_model(run, device="cpu")


def test_a_full_disk_fails_the_run_in_one_line(tmp_path, monkeypatch):
    import errno

    def no_space(path, payload):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(checkpoint, "save", no_space)
    run = RunDir(tmp_path / "r")
    with pytest.raises(TrainingError, match="No space left on device") as info:
        Trainer(tiny(), run.path).fit()
    assert "\n" not in str(info.value)
    assert run.read_status().status == "failed"


def test_integer_images_are_scaled_for_the_model(tmp_path):
    from sigdae.api import load_model

    Trainer(tiny(), tmp_path / "r").fit()
    model = load_model(tmp_path / "r", device="cpu")
    images = (torch.rand(3, 1, 28, 28) * 255).round().to(torch.uint8)
    out = model.denoise(images)
    assert out.dtype == torch.uint8 and out.shape == images.shape and int(out.max()) > 1
    floats = model.denoise(images.float() / 255)
    assert (out.float() - (floats * 255).round()).abs().max() <= 1
