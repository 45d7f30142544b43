"""Widening a trained model (``train.widen``): the init model's weights carried into a larger one that
starts computing what they did, and clear errors for what cannot widen."""

import copy

import pytest
import torch

from sigdae import checkpoint
from sigdae.config import ConfigError
from sigdae.finetune import adopt_init_model, load_init_state, widened
from sigdae.models import build_model

torch.set_num_threads(1)

NARROW = {"width": 16, "hidden": 24, "layers": 2, "stacks": 2}


def _trained_like(path):
    """A small causal model with random weights and batch-norm statistics, saved as a checkpoint."""
    torch.manual_seed(0)
    model = build_model("causal_mask", **NARROW)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm1d):
            module.running_mean.normal_()
            module.running_var.uniform_(0.5, 2.0)
    checkpoint.save(path, checkpoint.model_payload(model, signal="waveform", task="speech-spec"))
    return model.eval()


def _config(path, widen):
    return {"task": "speech-spec", "model": {"name": "causal_mask"}, "train": {"init": str(path), "widen": widen}}


def _grown(config):
    state, grown = adopt_init_model(config)
    torch.manual_seed(1)
    model = build_model(config["model"]["name"], **{k: v for k, v in config["model"].items() if k != "name"})
    load_init_state(model, state, may_lack_parameters=bool(grown), widen=bool(config["train"]["widen"]))
    return model


@pytest.mark.parametrize("widen", [{"hidden": 40}, {"width": 20, "hidden": 32}])
def test_a_widened_model_computes_what_the_narrow_one_did_and_trains_every_weight(tmp_path, widen):
    narrow = _trained_like(tmp_path / "narrow.pt")
    config = _config(tmp_path / "narrow.pt", widen)
    wide = _grown(config)
    assert {k: config["model"][k] for k in widen} == widen and config["model"]["layers"] == 2
    x = torch.randn(2, 1, 4000) * 0.1
    with torch.no_grad():
        assert torch.allclose(wide.eval().forward_raw(x), narrow.forward_raw(x), atol=1e-6)
    assert sum(p.numel() for p in wide.parameters()) > sum(p.numel() for p in narrow.parameters())
    # the new inputs start at zero but are not stuck there: one step moves them
    before = copy.deepcopy(wide.state_dict())
    optimizer = torch.optim.SGD(wide.train().parameters(), lr=0.1)
    wide.forward_raw(x).square().mean().backward()
    optimizer.step()
    project = "blocks.0.project.weight"
    assert before[project][:, NARROW["hidden"]:].abs().sum() == 0
    assert wide.state_dict()[project][:, NARROW["hidden"]:].abs().sum() > 0


def test_widened_puts_the_old_tensor_in_the_corner_and_zeroes_new_inputs_only():
    old = torch.ones(2, 3)
    out = widened(old, torch.full((4, 5), 7.0))
    assert torch.equal(out[:2, :3], old)
    assert torch.equal(out[:, 3:], torch.zeros(4, 2))  # new inputs of every row
    assert torch.equal(out[2:, :3], torch.full((2, 3), 7.0))  # new rows keep their fresh initialisation
    assert torch.equal(widened(torch.ones(3), torch.zeros(5)), torch.tensor([1.0, 1, 1, 0, 0]))


@pytest.mark.parametrize("widen, message", [
    ({"hidden": 8}, "hidden must be a whole-number option of the init model .* at least its value 24, not 8"),
    ({"floor_db": -90.0}, "floor_db must be a whole-number option"),
    ({"depth": 3}, "depth must be a whole-number option of the init model \\(causal_mask\\)"),
    ({"hidden": True}, "hidden must be a whole-number option"),
    ([384], "train.widen must be a table of model options"),
])
def test_what_cannot_widen_is_one_clear_error(tmp_path, widen, message):
    _trained_like(tmp_path / "narrow.pt")
    with pytest.raises(ConfigError, match=message):
        adopt_init_model(_config(tmp_path / "narrow.pt", widen))


def test_weights_that_would_have_to_shrink_do_not_fit(tmp_path):
    _trained_like(tmp_path / "narrow.pt")
    state = checkpoint.load(tmp_path / "narrow.pt")["model"]["state"]
    smaller = build_model("causal_mask", **{**NARROW, "hidden": 16})
    with pytest.raises(ConfigError, match="cannot widen to"):
        load_init_state(smaller, state, may_lack_parameters=False, widen=True)


def test_widen_without_a_model_to_widen_is_one_clear_error(tmp_path):
    from sigdae.config import complete
    from sigdae.recipes import recipe

    with pytest.raises(ConfigError, match="train.widen needs train.init"):
        complete(recipe("speech-realtime", {"train.widen": {"hidden": 384}}))
