"""`sigdae export`: an inference-only checkpoint that loads and denoises like the run it came from."""

import torch

from sigdae.api import load_model
from sigdae.cli import main
from sigdae.recipes import recipe
from sigdae.train_api import train


def _tiny_run(run_dir, seed=0, **model):
    """One short MNIST epoch into ``run_dir`` (the recipe's model, with ``model`` overrides); its best weights."""
    config = recipe("mnist")
    config.update(device="cpu", seed=seed)
    config["model"].update(model)
    config["data"] = {"limit": 128, "val_limit": 32}
    config["train"].update(epochs=1, steps_per_epoch=2, batch_size=32)
    train(config, run_dir)
    return torch.load(run_dir / "best.pt", weights_only=True)["model"]["state"]


def _small_run(run_dir, seed, channels=(8, 16)):
    return _tiny_run(run_dir, seed, channels=list(channels), attention=0)


def test_export_keeps_the_model_and_drops_training_state(tmp_path, capsys):
    _tiny_run(tmp_path / "run")
    assert main(["export", str(tmp_path / "run"), str(tmp_path / "m.pt"), "--note", "trained on MNIST"]) == 0
    assert "m.pt" in capsys.readouterr().out
    payload = torch.load(tmp_path / "m.pt", weights_only=True)
    assert "optimizer" not in payload and "rng" not in payload and payload["note"] == "trained on MNIST"
    assert payload["trained"]["epoch"] == 1
    x = torch.rand(4, 1, 28, 28)
    exported, original = load_model(tmp_path / "m.pt", device="cpu"), load_model(tmp_path / "run", device="cpu")
    assert torch.equal(exported.denoise(x), original.denoise(x))
    assert exported.num_parameters() == original.num_parameters()
    assert main(["export", str(tmp_path / "missing"), str(tmp_path / "n.pt")]) == 2
    assert not (tmp_path / "n.pt").exists()


def test_export_average_writes_the_mean_of_the_runs_weights(tmp_path, capsys):
    a, b = _small_run(tmp_path / "a", seed=0), _small_run(tmp_path / "b", seed=1)
    assert main(["export", str(tmp_path / "a"), str(tmp_path / "soup.pt"), "--average", str(tmp_path / "b")]) == 0
    assert "mean of 2 checkpoints" in capsys.readouterr().out
    payload = torch.load(tmp_path / "soup.pt", weights_only=True)
    soup = payload["model"]["state"]
    key = next(k for k in soup if k.endswith("weight") and soup[k].dim() == 4)
    assert not torch.equal(a[key], b[key])
    assert torch.allclose(soup[key], (a[key] + b[key]) / 2)
    assert len(payload["averaged_from"]) == 2
    assert load_model(tmp_path / "soup.pt", device="cpu").denoise(torch.rand(2, 1, 28, 28)).shape == (2, 1, 28, 28)


def test_export_average_refuses_other_architectures(tmp_path, capsys):
    _small_run(tmp_path / "a", seed=0)
    _small_run(tmp_path / "b", seed=0, channels=(8, 8))
    assert main(["export", str(tmp_path / "a"), str(tmp_path / "soup.pt"), "--average", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert "differ in architecture" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "soup.pt").exists()
