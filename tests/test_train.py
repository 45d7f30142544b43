"""The Trainer on tiny MNIST runs (CPU): run directory, checkpoints, API, reproducibility, resume, STOP,
time budget, safe checkpoint loading, and the dense/classic models through the same loop."""

import torch

torch.set_num_threads(1)

import copy  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402
import tomllib  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from sigdae import checkpoint  # noqa: E402
from sigdae.api import load_model  # noqa: E402
from sigdae.checkpoint import CheckpointError  # noqa: E402
from sigdae.config import ConfigError, load_toml  # noqa: E402
from sigdae.corruptions import parse  # noqa: E402
from sigdae.runs import read_events  # noqa: E402
from sigdae.models import build_model  # noqa: E402
from sigdae.recipes import recipe  # noqa: E402
from sigdae.trainer import Trainer  # noqa: E402


pytestmark = pytest.mark.usefixtures("cached_mnist")


def tiny(name="mnist", epochs=1, **train):
    config = recipe(name)
    config["device"] = "cpu"
    config["seed"] = 3
    config["data"] = {"limit": 512, "val_limit": 128}
    config["train"].update({"epochs": epochs, "steps_per_epoch": 8, "batch_size": 32, **train})
    return config


def weights(run_dir, name="last.pt"):
    return checkpoint.load(Path(run_dir) / name)["model"]["state"]


def assert_same_weights(a, b, atol=1e-6):
    assert a.keys() == b.keys()
    for key in a:
        assert a[key].shape == b[key].shape, key
        diff = (a[key].double() - b[key].double()).abs().max().item() if a[key].numel() else 0.0
        assert diff <= atol, f"{key} differs by {diff}"


def event_types(run_dir):
    return [e["type"] for e in read_events(Path(run_dir) / "events.jsonl")]


# ---- one run, its directory and what can be done with it --------------------------------------------

@pytest.fixture(scope="module")
def one_epoch(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("runs") / "one"
    config = tiny(log_every_s=0.0)
    events = []
    trainer = Trainer(config, run_dir, listeners=[events.append])
    summary = trainer.fit()
    return run_dir, trainer, summary, events


def test_run_directory_layout(one_epoch):
    run_dir, trainer, summary, _ = one_epoch
    for name in ("config.toml", "run.json", "events.jsonl", "last.pt", "best.pt", "preview.npz"):
        assert (run_dir / name).is_file(), name
    assert summary["status"] == "finished" and summary["epochs"] == 1 and summary["steps"] == 8
    assert summary["run_dir"] == str(run_dir)
    leftovers = [p.name for p in run_dir.iterdir() if p.name.startswith(".") or p.name.endswith(".tmp")]
    assert leftovers == [], "temporary files left behind"

    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "finished" and info["error"] is None
    assert info["pid"] == os.getpid() and info["epoch"] == 1
    assert info["task"] == "mnist" and info["model"] == "conv" and info["device"] == "cpu"
    assert info["corruption"] == trainer.corruption.spec()
    assert parse(info["corruption"]) == parse("noise_factor(factor=0.5)")

    with open(run_dir / "config.toml", "rb") as f:
        saved = tomllib.load(f)
    assert saved == trainer.config
    assert saved["data"] == {"limit": 512, "val_limit": 128} and saved["train"]["epochs"] == 1


def test_events_are_start_steps_epoch_end_in_order(one_epoch):
    run_dir, _, summary, listened = one_epoch
    events = list(read_events(run_dir / "events.jsonl"))
    types = [e["type"] for e in events]
    assert types == ["start"] + ["step"] * 8 + ["epoch", "end"]
    assert [e["type"] for e in listened] == types  # listeners see what the file gets
    start, epoch, end = events[0], events[-2], events[-1]
    assert start["model"] == "conv" and start["parameters"] == 133_841 and start["steps_per_epoch"] == 8
    assert start["data"] == {"train": 512, "val": 128} and start["resumed_from_epoch"] == 0
    assert [e["step"] for e in events[1:9]] == list(range(1, 9))
    assert all(np.isfinite(e["loss"]) and e["lr"] > 0 for e in events[1:9])
    assert epoch["epoch"] == 1 and epoch["improved"] is True and set(epoch["val"]) == {"loss", "psnr", "ssim"}
    assert end["status"] == "finished" and end["epoch"] == 1 and end["step"] == 8
    times = [e["time"] for e in events]
    assert times == sorted(times)
    assert summary["best"] == pytest.approx(epoch["val"]["psnr"])


def test_checkpoints_load_with_weights_only(one_epoch):
    run_dir, trainer, _, _ = one_epoch
    last = torch.load(run_dir / "last.pt", weights_only=True)
    best = torch.load(run_dir / "best.pt", weights_only=True)
    for payload in (last, best):
        assert payload["format"] == 1
        assert payload["model"]["name"] == "conv"
        assert payload["model"]["config"] == trainer.model.config
        assert payload["task"] == "mnist" and payload["signal"] == "image"
        assert parse(payload["corruption"]) == parse("noise_factor(factor=0.5)")
        assert tomllib.loads(payload["config_toml"]) == trainer.config
    assert "optimizer" in last and "optimizer" not in best  # best.pt is for inference
    assert {"shuffle", "noise", "torch"} <= set(last["rng"])
    assert last["trainer"]["epoch"] == 1 and last["trainer"]["step"] == 8
    state = trainer.model.state_dict()
    assert_same_weights(last["model"]["state"], state, atol=0)
    assert_same_weights(best["model"]["state"], state, atol=0)


def test_load_model_denoises_like_the_trained_model(one_epoch):
    run_dir, trainer, _, _ = one_epoch
    model = load_model(run_dir, device="cpu")
    assert model.name == "conv" and model.signal == "image" and model.task == "mnist"
    assert model.path == str(run_dir / "best.pt")
    assert model.num_parameters() == trainer.model.num_parameters() == 133_841  # U-Net-16 + attention
    x = torch.rand(5, 1, 28, 28)
    y = model.denoise(x)
    assert y.shape == x.shape and y.dtype == x.dtype
    assert y.min() >= 0 and y.max() <= 1
    trainer.model.eval()
    with torch.no_grad():
        expected = trainer.model(x).clamp(0, 1)
    torch.testing.assert_close(y, expected)
    odd = torch.rand(2, 1, 27, 29)  # the conv model pads and crops
    assert model.denoise(odd).shape == odd.shape
    assert load_model(run_dir / "last.pt", device="cpu").path == str(run_dir / "last.pt")


def test_preview(one_epoch):
    run_dir, trainer, _, _ = one_epoch
    with np.load(run_dir / "preview.npz") as preview:
        assert preview["clean"].shape == preview["noisy"].shape == preview["denoised"].shape == (8, 1, 28, 28)
        assert int(preview["epoch"]) == 1 and str(preview["signal"]) == "image"
        np.testing.assert_array_equal(preview["clean"], trainer.task.val_clean[:8].numpy())
        np.testing.assert_array_equal(preview["noisy"], trainer.task.val_noisy[:8].numpy())
        assert 0 <= preview["denoised"].min() and preview["denoised"].max() <= 1


def test_refuses_to_start_over_an_existing_run(one_epoch):
    run_dir, _, _, _ = one_epoch
    before = {name: (run_dir / name).read_bytes() for name in ("events.jsonl", "run.json", "config.toml", "last.pt")}
    with pytest.raises(ConfigError, match="already holds a run") as info:
        Trainer(tiny(epochs=2), run_dir).fit()
    assert "\n" not in str(info.value) and "--resume" in str(info.value)
    after = {name: (run_dir / name).read_bytes() for name in before}
    assert after == before, "a refused start must not touch the existing run"


# ---- learning, reproducibility, resume, STOP ------------------------------------------------------

class StopAfterEpoch:
    """A listener that drops a STOP file into the run directory once ``epoch`` has ended."""

    def __init__(self, run_dir, epoch):
        self.run_dir, self.epoch = Path(run_dir), epoch

    def __call__(self, event):
        if event["type"] == "epoch" and event["epoch"] == self.epoch:
            (self.run_dir / "STOP").touch()


@pytest.fixture(scope="module")
def three_epochs(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("runs") / "three"
    summary = Trainer(tiny(epochs=3), run_dir).fit()
    return run_dir, summary


def test_loss_goes_down(three_epochs):
    run_dir, summary = three_epochs
    assert summary["status"] == "finished" and summary["epochs"] == 3 and summary["steps"] == 24
    history = [e for e in read_events(run_dir / "events.jsonl") if e["type"] == "epoch"]
    train_loss = [e["train_loss"] for e in history]
    val_loss = [e["val"]["loss"] for e in history]
    psnr = [e["val"]["psnr"] for e in history]
    assert train_loss[-1] < train_loss[0] and val_loss[-1] < val_loss[0], (train_loss, val_loss)
    assert psnr[-1] > psnr[0]


def test_same_seed_same_weights(three_epochs, tmp_path):
    run_dir, _ = three_epochs
    Trainer(tiny(epochs=3), tmp_path / "again").fit()
    assert_same_weights(weights(run_dir), weights(tmp_path / "again"), atol=0)
    assert_same_weights(weights(run_dir, "best.pt"), weights(tmp_path / "again", "best.pt"), atol=0)


def test_stop_file_then_resume_equals_an_uninterrupted_run(three_epochs, tmp_path):
    reference, _ = three_epochs
    run_dir = tmp_path / "stopped"
    summary = Trainer(tiny(epochs=3), run_dir, listeners=[StopAfterEpoch(run_dir, 1)]).fit()
    assert summary["status"] == "stopped" and summary["epochs"] == 1 and summary["steps"] == 8
    assert json.loads((run_dir / "run.json").read_text())["status"] == "stopped"
    assert (run_dir / "last.pt").is_file() and not (run_dir / "STOP").exists()
    assert event_types(run_dir)[-1] == "end"
    assert list(read_events(run_dir / "events.jsonl"))[-1]["epoch"] == 1
    assert list(read_events(run_dir / "events.jsonl"))[-1]["status"] == "stopped"
    assert checkpoint.load(run_dir / "last.pt")["trainer"]["epoch"] == 1

    events = []
    resumed = Trainer(load_toml(run_dir / "config.toml"), run_dir, resume=True, listeners=[events.append]).fit()
    assert resumed["status"] == "finished" and resumed["epochs"] == 3 and resumed["steps"] == 24
    assert events[0]["type"] == "start" and events[0]["resumed_from_epoch"] == 1
    assert [e["epoch"] for e in events if e["type"] == "epoch"] == [2, 3]
    assert_same_weights(weights(run_dir), weights(reference))
    ref_history = [e for e in read_events(reference / "events.jsonl") if e["type"] == "epoch"]
    assert resumed["last"]["train_loss"] == pytest.approx(ref_history[-1]["train_loss"], abs=1e-6)
    assert resumed["best"] == pytest.approx(ref_history[-1]["best"], abs=1e-5)
    types = [t for t in event_types(run_dir) if t != "step"]  # step events are timed (log_every_s)
    assert types == ["start", "epoch", "end", "start", "epoch", "epoch", "end"]


def test_one_epoch_then_resume_equals_two_epochs(tmp_path):
    # A constant learning rate: with a schedule, a 1-epoch run anneals to the end of *its* schedule,
    # so only the epoch count differs between the two configs here.
    two = Trainer(tiny(epochs=2, schedule="constant", warmup=0.0), tmp_path / "two").fit()
    one = Trainer(tiny(epochs=1, schedule="constant", warmup=0.0), tmp_path / "split").fit()
    assert one["epochs"] == 1
    config = load_toml(tmp_path / "split" / "config.toml")
    config["train"]["epochs"] = 2
    resumed = Trainer(config, tmp_path / "split", resume=True).fit()
    assert resumed["epochs"] == two["epochs"] == 2 and resumed["steps"] == two["steps"] == 16
    assert_same_weights(weights(tmp_path / "split"), weights(tmp_path / "two"))
    optim_a = checkpoint.load(tmp_path / "split" / "last.pt")["optimizer"]["state"]
    optim_b = checkpoint.load(tmp_path / "two" / "last.pt")["optimizer"]["state"]
    for key in optim_a:
        for name in ("exp_avg", "exp_avg_sq"):
            torch.testing.assert_close(optim_a[key][name], optim_b[key][name], rtol=0, atol=1e-6)


def test_resume_without_a_checkpoint_starts_fresh(tmp_path):
    summary = Trainer(tiny(epochs=1, steps_per_epoch=2), tmp_path / "new", resume=True).fit()
    assert summary["status"] == "finished" and summary["epochs"] == 1


def test_time_budget_stops_training(tmp_path):
    budget_minutes = 0.5 / 60
    started = time.perf_counter()
    summary = Trainer(tiny(epochs=1000, max_minutes=budget_minutes), tmp_path / "budget").fit()
    wall = time.perf_counter() - started
    assert summary["status"] == "finished"
    assert 1 <= summary["epochs"] < 20
    assert summary["elapsed"] >= budget_minutes * 60
    assert wall < 30
    assert json.loads((tmp_path / "budget" / "run.json").read_text())["status"] == "finished"
    assert (tmp_path / "budget" / "last.pt").is_file()


# ---- safe loading ------------------------------------------------------------------------------------

class Payload:
    """An arbitrary object: unpickling it would run code (its __reduce__ creates a marker file)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_checkpoint_with_a_pickled_object_is_refused(tmp_path, one_epoch):
    run_dir, _, _, _ = one_epoch
    marker = tmp_path / "code-ran"
    good = torch.load(run_dir / "best.pt", weights_only=True)
    evil = tmp_path / "evil.pt"
    torch.save({**good, "extra": Payload(marker)}, evil)
    assert not marker.exists()
    with pytest.raises(CheckpointError, match="cannot read checkpoint") as info:
        checkpoint.load(evil)
    assert "\n" not in str(info.value)
    with pytest.raises(CheckpointError):
        load_model(evil, device="cpu")
    evil_dir = tmp_path / "evil-run"
    evil_dir.mkdir()
    torch.save({"model": {"name": "conv", "config": {}, "state": {}}, "x": Payload(marker)}, evil_dir / "best.pt")
    with pytest.raises(CheckpointError):
        load_model(evil_dir, device="cpu")
    assert not marker.exists(), "loading a checkpoint executed code from it"


def test_checkpoint_errors_are_one_line(tmp_path):
    (tmp_path / "garbage.pt").write_bytes(b"not a checkpoint at all")
    torch.save({"weights": torch.zeros(3)}, tmp_path / "foreign.pt")
    for path, match in ((tmp_path / "garbage.pt", "cannot read"), (tmp_path / "foreign.pt", "not a sigdae checkpoint"),
                        (tmp_path / "missing.pt", "no such checkpoint"), (tmp_path, "no checkpoint")):
        with pytest.raises(CheckpointError, match=match) as info:
            checkpoint.load(path)
        assert "\n" not in str(info.value)


# ---- other models through the same loop ---------------------------------------------------------------

def test_dense_recipe_trains(tmp_path):
    config = tiny("mnist-dense", steps_per_epoch=4)
    summary = Trainer(config, tmp_path / "dense").fit()
    assert summary["status"] == "finished" and summary["steps"] == 4
    payload = torch.load(tmp_path / "dense" / "best.pt", weights_only=True)
    assert payload["model"]["name"] == "dense" and payload["model"]["config"]["hidden"] == [128, 64, 32]
    model = load_model(tmp_path / "dense", device="cpu")
    x = torch.rand(3, 1, 28, 28)
    y = model.denoise(x)
    assert y.shape == x.shape and 0 <= y.min() and y.max() <= 1


CLASSIC = {
    "sparse": ({"name": "sparse", "in_features": 784, "hidden": [64], "sparsity": "kl", "rho": 0.05}, "sparsity"),
    "contractive": ({"name": "contractive", "in_features": 784, "hidden": [64]}, "contractive"),
    "vae": ({"name": "vae", "in_features": 784, "hidden": [64], "latent": 8}, "kl"),
}


@pytest.mark.parametrize("name", sorted(CLASSIC))
def test_classic_models_train_with_penalty_weights(name, tmp_path):
    model_cfg, penalty = CLASSIC[name]
    config = tiny("mnist-dense", steps_per_epoch=3, log_every_s=0.0)
    config["model"] = dict(model_cfg)
    config["loss"]["penalties"] = {penalty: 0.5}
    summary = Trainer(config, tmp_path / name).fit()
    assert summary["status"] == "finished" and summary["steps"] == 3
    steps = [e for e in read_events(tmp_path / name / "events.jsonl") if e["type"] == "step"]
    assert len(steps) == 3 and all(np.isfinite(e["loss"]) for e in steps)
    saved = load_toml(tmp_path / name / "config.toml")
    assert saved["loss"]["penalties"] == {penalty: 0.5}
    model = load_model(tmp_path / name, device="cpu")
    assert model.name == name
    x = torch.rand(2, 1, 28, 28)
    assert model.denoise(x).shape == x.shape


@pytest.mark.parametrize("weight", [0.0, 3.0])
def test_penalty_weight_enters_the_training_loss(weight):
    config = tiny("mnist-dense")
    config["model"] = dict(CLASSIC["sparse"][0])
    config["loss"]["penalties"] = {"sparsity": weight}
    config["train"]["amp"] = "off"  # compared with an fp32 forward below
    trainer = Trainer(config, None)
    clean = next(iter(trainer.task.train))
    noise_state = trainer.noise_gen.get_state()
    before = copy.deepcopy(trainer.model)
    loss = trainer.train_step(clean)

    noisy = trainer.corruption(clean, torch.Generator().set_state(noise_state))
    raw = before.forward_raw(noisy)
    recon = trainer.loss_fn(torch.sigmoid(raw), clean, logits=raw)
    sparsity = before.penalties()["sparsity"]
    assert sparsity > 0
    torch.testing.assert_close(loss, (recon + weight * sparsity).detach())


def test_lr_schedules_shapes_and_unknown_names():
    from sigdae.optim import lr_factor

    assert lr_factor(0.5, 0.0, "cosine", 0.0) == pytest.approx(0.5)
    assert lr_factor(0.25, 0.0, "cosine", 0.0) == pytest.approx(0.5 * (1 + 2 ** -0.5))
    assert lr_factor(0.25, 0.0, "linear", 0.0) == pytest.approx(0.75)
    assert lr_factor(1.0, 0.0, "linear", 0.1) == pytest.approx(0.1)
    assert lr_factor(0.05, 0.1, "linear", 0.0) == pytest.approx(0.5)   # half-way through the warm-up
    assert lr_factor(0.55, 0.1, "linear", 0.0) == pytest.approx(0.5)   # half-way through the decay
    assert lr_factor(0.9, 0.0, "constant", 0.0) == 1.0
    with pytest.raises(ConfigError, match="unknown train.schedule 'linaer'"):
        Trainer(tiny(schedule="linaer"))


def test_mixed_precision_choice_follows_the_hardware_and_the_config():
    from sigdae.device import autocast_dtype, cpu_has_native_bf16

    cpu = torch.device("cpu")
    assert autocast_dtype(cpu, False) is None and autocast_dtype(cpu, "off") is None
    assert autocast_dtype(cpu, "bf16") == torch.bfloat16
    assert autocast_dtype(cpu, True) == autocast_dtype(cpu, "auto")
    assert autocast_dtype(cpu, "auto") == (torch.bfloat16 if cpu_has_native_bf16() else None)
    with pytest.raises(ConfigError, match="needs a CUDA device"):
        autocast_dtype(cpu, "fp16")
    with pytest.raises(ConfigError, match="train.amp must be"):
        autocast_dtype(cpu, "half")


def test_bf16_training_learns_and_reports_its_precision(tmp_path):
    config = tiny(epochs=2, amp="bf16", lr=1e-2)
    Trainer(config, tmp_path / "bf16").fit()
    events = list(read_events(tmp_path / "bf16" / "events.jsonl"))
    assert next(e for e in events if e["type"] == "start")["precision"] == "bfloat16"
    val = [e["val"]["psnr"] for e in events if e["type"] == "epoch"]
    assert len(val) == 2 and val[1] > 12.0, val  # well above the noisy input's ~9.4 dB
    # the checkpoint holds fp32 weights (autocast never changes the parameters' dtype)
    assert all(t.dtype == torch.float32 for t in weights(tmp_path / "bf16").values() if t.is_floating_point())


def test_init_fine_tunes_from_a_checkpoint_and_adopts_its_architecture(tmp_path):
    Trainer(tiny(), tmp_path / "base").fit()
    base = weights(tmp_path / "base")
    config = tiny()
    config["model"]["channels"] = [4, 8]  # replaced by the checkpoint's architecture
    config["train"]["init"] = str(tmp_path / "base")
    tuned = Trainer(config, tmp_path / "tuned")
    assert tuned.config["model"]["channels"] == [16, 32, 64]
    assert_same_weights({k: v.cpu() for k, v in tuned.model.state_dict().items()}, base, atol=0)
    tuned.fit()
    saved = load_toml(tmp_path / "tuned" / "config.toml")
    assert saved["model"]["channels"] == [16, 32, 64] and saved["train"]["init"].endswith("best.pt")
    assert not torch.equal(weights(tmp_path / "tuned")["head.weight"], base["head.weight"])


def _checkpoint_without_context(tmp_path):
    """A checkpoint as sigdae wrote it before the ``context`` option existed."""
    torch.manual_seed(0)
    model = build_model("conv", channels=[8, 16, 32])
    payload = checkpoint.model_payload(model, signal="image", task="mnist")
    del payload["model"]["config"]["context"]
    checkpoint.save(tmp_path / "old.pt", payload)
    return model.eval(), tmp_path / "old.pt"


def test_init_grows_options_the_checkpoint_predates_as_identity_layers(tmp_path):
    old, path = _checkpoint_without_context(tmp_path)
    config = tiny()
    config["model"]["context"] = 2  # the old checkpoint records no context: this run's value is taken
    config["train"]["init"] = str(path)
    grown = Trainer(config, tmp_path / "grown")
    assert grown.config["model"]["channels"] == [8, 16, 32] and grown.config["model"]["context"] == 2
    x = torch.rand(2, 1, 28, 28)
    with torch.no_grad():
        assert torch.allclose(grown.model.eval()(x), old(x), atol=1e-6)  # the new layers start as the identity
    grown.fit()
    tuned = weights(tmp_path / "grown")
    assert any(k.startswith("context.") for k in tuned) and tuned["context.blocks.1.3.weight"].abs().sum() > 0


def test_init_widens_the_model_with_train_widen_and_starts_from_its_function(tmp_path):
    Trainer(tiny("mnist-undercomplete"), tmp_path / "base").fit()
    base = load_model(tmp_path / "base" / "last.pt").module.eval()
    config = tiny("mnist-undercomplete")
    config["train"].update({"init": str(tmp_path / "base"), "widen": {"code": 96}})
    wide = Trainer(config, tmp_path / "wide")
    assert wide.config["model"]["code"] == 96
    x = torch.rand(4, 1, 28, 28)
    with torch.no_grad():
        assert torch.allclose(wide.model.eval()(x), base(x), atol=1e-6)
    wide.fit()
    saved = load_toml(tmp_path / "wide" / "config.toml")
    assert saved["model"]["code"] == 96 and saved["train"]["widen"] == {"code": 96}
    assert load_model(tmp_path / "wide" / "last.pt").module.config["code"] == 96


def test_init_weights_that_lack_parameters_are_one_clear_error(tmp_path):
    _, path = _checkpoint_without_context(tmp_path)
    payload = checkpoint.load(path)
    del payload["model"]["state"]["head.weight"]
    checkpoint.save(path, payload)
    config = tiny()
    config["train"]["init"] = str(path)
    with pytest.raises(ConfigError, match="lack parameters of the model: head.weight"):
        Trainer(config, tmp_path / "run")
    payload["model"]["state"]["extra.weight"] = torch.zeros(1)
    payload["model"]["state"]["head.weight"] = torch.zeros(1, 8, 3, 3)
    checkpoint.save(path, payload)
    with pytest.raises(ConfigError, match="do not fit the model"):
        Trainer(config, tmp_path / "run")


def test_init_from_a_missing_checkpoint_is_one_clear_error(tmp_path):
    config = tiny()
    config["train"]["init"] = str(tmp_path / "nothing-here")
    with pytest.raises(CheckpointError, match="no such checkpoint or run directory"):
        Trainer(config, tmp_path / "run")
    from sigdae.enhance import bundled_model_path

    config["train"]["init"] = str(bundled_model_path())
    with pytest.raises(ConfigError, match="trained for task 'speech-spec', this run is 'mnist'"):
        Trainer(config, tmp_path / "run")
