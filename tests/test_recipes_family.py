"""One recipe per member of the dense autoencoder family: each is complete, builds its model, trains a few
steps with its penalties, and is offered by the TUI's new-run form."""

from __future__ import annotations

import math

import pytest

from sigdae.config import complete
from sigdae.recipes import RECIPES, recipe

FAMILY = {"mnist-undercomplete": "undercomplete", "mnist-sparse": "sparse", "mnist-contractive": "contractive",
          "mnist-vae": "vae", "mnist-stacked": "stacked"}
PENALTIES = {"mnist-sparse": "sparsity", "mnist-contractive": "contractive", "mnist-vae": "kl"}


def test_every_family_member_has_a_recipe_and_the_old_ones_stay():
    assert set(FAMILY) | {"mnist", "mnist-dense", "mnist-full", "speech-spec", "speech-wave"} <= set(RECIPES)
    for name, model in FAMILY.items():
        config = complete(recipe(name))
        assert config["task"] == "mnist" and config["model"]["name"] == model
        assert config["corruption"]["spec"] == "noise_factor(factor=0.5)"
        assert 0 < config["train"]["max_minutes"] <= 1.5  # trains within 2 minutes, start-up and validation included
        assert set(config["loss"].get("penalties", {})) == ({PENALTIES[name]} if name in PENALTIES else set())


@pytest.mark.parametrize("name", sorted(FAMILY))
def test_recipe_trains_a_few_steps(name):
    from sigdae.trainer import Trainer

    config = recipe(name, {"train.epochs": 1, "train.steps_per_epoch": 3, "train.max_minutes": 0,
                           "data.limit": 512, "data.val_limit": 64, "device": "cpu"})
    trainer = Trainer(config)
    summary = trainer.fit()
    assert summary["steps"] == 3 and math.isfinite(summary["last"]["val_psnr"])
    assert type(trainer.model).name == FAMILY[name]
    if name in PENALTIES:
        trainer.model.train()
        trainer.model(trainer.task.val_noisy[:8])
        assert PENALTIES[name] in trainer.model.penalties()


def test_the_new_run_form_offers_every_mnist_recipe():
    from sigdae.tui.catalog import load_catalog

    offered = load_catalog().recipes_for("mnist")
    assert set(FAMILY) <= set(offered) and offered[0] == "mnist"


def test_mnist_digits_option_trains_on_the_chosen_classes_only():
    from sigdae.tasks import get_task
    from sigdae.trainer import Trainer

    config = recipe("mnist-undercomplete", {"data.digits": [3, 7], "train.epochs": 1, "train.steps_per_epoch": 1,
                                            "train.max_minutes": 0, "data.val_limit": 32, "device": "cpu"})
    trainer = Trainer(config)
    train_count = trainer.task.info["train"]
    assert 10_000 < train_count < 13_000  # two of ten classes of the 55,000 training images
    assert get_task("mnist").data_defaults["digits"] == []
