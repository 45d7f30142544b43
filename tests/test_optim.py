import pytest
import torch

from sigdae.config import TRAIN_DEFAULTS, ConfigError
from sigdae.optim import lr_factor, make_optimizer


def settings(**changes):
    return {**TRAIN_DEFAULTS, **changes}


def test_adam_betas_reach_the_optimizer():
    model = torch.nn.Linear(3, 2)
    for kind, cls in (("adam", torch.optim.Adam), ("adamw", torch.optim.AdamW)):
        opt = make_optimizer(model, settings(optimizer=kind, adam_betas=[0.8, 0.95]))
        assert isinstance(opt, cls)
        assert opt.param_groups[0]["betas"] == (0.8, 0.95)
    assert make_optimizer(model, settings()).param_groups[0]["betas"] == (0.9, 0.999)


@pytest.mark.parametrize("betas", [[0.9], [0.9, 1.0], [0.9, "x"], 0.9, [True, 0.9]])
def test_bad_adam_betas_are_a_config_error(betas):
    with pytest.raises(ConfigError, match="adam_betas"):
        make_optimizer(torch.nn.Linear(3, 2), settings(adam_betas=betas))


def test_schedules_warm_up_then_decay_to_the_floor():
    assert lr_factor(0.01, 0.05, "cosine", 0.0) == pytest.approx(0.2)
    for schedule in ("cosine", "linear"):
        assert lr_factor(0.05, 0.05, schedule, 0.1) == pytest.approx(1.0)
        assert lr_factor(1.0, 0.05, schedule, 0.1) == pytest.approx(0.1)
    assert lr_factor(0.525, 0.05, "linear", 0.0) == pytest.approx(0.5)
    assert lr_factor(0.525, 0.05, "cosine", 0.0) == pytest.approx(0.5)
    assert lr_factor(0.3, 0.05, "cosine", 0.0) > lr_factor(0.3, 0.05, "linear", 0.0)
    assert lr_factor(0.9, 0.0, "constant", 0.0) == 1.0
