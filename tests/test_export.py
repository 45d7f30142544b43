"""`sigdae export`: an inference-only checkpoint that loads and denoises like the run it came from."""

import torch

from sigdae.api import load_model
from sigdae.cli import main
from sigdae.recipes import recipe
from sigdae.train import train


def test_export_keeps_the_model_and_drops_training_state(tmp_path, capsys):
    config = recipe("mnist")
    config["device"] = "cpu"
    config["data"] = {"limit": 256, "val_limit": 64}
    config["train"].update(epochs=1, steps_per_epoch=3, batch_size=32)
    train(config, tmp_path / "run")
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
