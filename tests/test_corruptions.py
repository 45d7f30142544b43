import tomllib

import pytest
import torch

from sigdae.config import dumps_toml
from sigdae.corruptions import Chain, CorruptionError, OneOf, from_config, get, names, parse
from sigdae.testing import check_corruption

IMAGE_BUILTINS = ["gaussian", "noise_factor", "masking", "salt_pepper", "speckle", "poisson"]


@pytest.mark.parametrize("name", IMAGE_BUILTINS)
def test_image_builtins_keep_the_contract(name):
    check_corruption(get(name))


def test_noise_factor_is_the_seed_formula():
    x = torch.rand(3, 1, 28, 28)
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    y = parse("noise_factor(factor=0.5)")(x, g1)
    get("noise_factor")().rand(3, g2, x)  # the per-sample p draw comes first
    expected = (x + 0.5 * torch.randn(x.shape, generator=g2)).clamp(0, 1)
    assert torch.allclose(y, expected)


def test_gaussian_statistics_and_clip():
    x = torch.full((4, 1, 64, 64), 0.5)
    y = parse("gaussian(std=0.2)")(x, torch.Generator().manual_seed(0))
    assert abs(float((y - x).std()) - 0.2) < 0.01
    y = parse("gaussian(std=2, clip=true)")(x, torch.Generator().manual_seed(0))
    assert float(y.min()) == 0.0 and float(y.max()) == 1.0


def test_masking_fraction_and_salt_pepper_values():
    x = torch.full((8, 1, 50, 50), 0.5)
    y = parse("masking(fraction=0.3)")(x, torch.Generator().manual_seed(0))
    assert abs(float((y == 0).float().mean()) - 0.3) < 0.02
    y = parse("salt_pepper(amount=0.2, salt_ratio=0.25)")(x, torch.Generator().manual_seed(0))
    assert abs(float((y == 1).float().mean()) - 0.05) < 0.01
    assert abs(float((y == 0).float().mean()) - 0.15) < 0.01


def test_random_strength_is_per_sample_and_in_range():
    c = parse("gaussian(std=[0.1, 0.5])")
    x = torch.zeros(64, 1, 32, 32)
    params = c.draw(x, torch.Generator().manual_seed(0))
    assert params["std"].shape == (64,)
    assert 0.1 <= float(params["std"].min()) and float(params["std"].max()) <= 0.5
    stds = c.apply(x, params).flatten(1).std(1)
    assert torch.allclose(stds, params["std"], atol=0.05)


def test_p_applies_per_sample():
    x = torch.zeros(400, 1, 4, 4)
    y = parse("gaussian(std=1, p=0.25)")(x, torch.Generator().manual_seed(0))
    touched = (y.flatten(1).abs().sum(1) > 0).float().mean()
    assert 0.18 < float(touched) < 0.32


@pytest.mark.parametrize("spec", [
    "gaussian(std=0.5)",
    "gaussian(std=0.5) + masking(fraction=0.25)",
    "noise_factor(factor=[0.3, 0.6], p=0.5) + salt_pepper(amount=0.05)",
    "(gaussian(std=0.1) | poisson(peak=10)) + speckle()",
    "oneof(gaussian(), masking(), weights=[3.0, 1.0], p=0.8)",
    "chain(gaussian(), masking(), p=0.5)",
])
def test_spec_round_trips_through_string_and_toml(spec):
    c = parse(spec)
    assert parse(c.spec()) == c
    text = dumps_toml({"corruption": {"spec": c.spec()}})
    assert parse(tomllib.loads(text)["corruption"]["spec"]) == c
    assert from_config(c.to_config()) == c


def test_toml_array_of_tables_builds_a_chain():
    cfg = tomllib.loads('[[corruption]]\nname = "gaussian"\nstd = 0.3\n[[corruption]]\nname = "masking"\nfraction = 0.1\n')
    c = from_config(cfg["corruption"])
    assert isinstance(c, Chain) and c == parse("gaussian(std=0.3) + masking(fraction=0.1)")


def test_oneof_picks_each_choice_per_sample():
    c = parse("oneof(masking(fraction=1.0, value=1.0), masking(fraction=1.0, value=2.0), weights=[1, 3])")
    assert isinstance(c, OneOf)
    y = c(torch.zeros(1000, 1, 2, 2), torch.Generator().manual_seed(0))
    share_two = float((y[:, 0, 0, 0] == 2.0).float().mean())
    assert 0.7 < share_two < 0.8 and bool(((y == 1) | (y == 2)).all())


@pytest.mark.parametrize("spec, message", [
    ("gaussian(std=-1)", "out of range"),
    ("gaussian(sdt=1)", "unknown parameter 'sdt'"),
    ("nosuch(x=1)", "unknown corruptions 'nosuch'"),
    ("gaussian(std=0.1", "ended early"),
    ("gaussian(clip=maybe)", "true or false"),
    ("masking(fraction=[0.5, 0.1])", "low must not exceed high"),
])
def test_bad_specs_give_one_line_errors(spec, message):
    with pytest.raises(CorruptionError, match=message) as err:
        parse(spec)
    assert "\n" not in str(err.value)


def test_draw_then_apply_shows_exactly_what_was_applied():
    c = parse("gaussian(std=0.3) + masking(fraction=0.5)")
    x = torch.rand(4, 1, 8, 8)
    params = c.draw(x, torch.Generator().manual_seed(3))
    assert torch.equal(c.apply(x, params), c(x, torch.Generator().manual_seed(3)))


def test_names_lists_builtins():
    assert set(IMAGE_BUILTINS) <= set(names())


def test_operators_compose_without_the_parser():
    gaussian, masking, speckle = get("gaussian")(std=0.2), get("masking")(), get("speckle")()
    chain = gaussian + masking + speckle
    assert isinstance(chain, Chain) and chain.steps == [gaussian, masking, speckle]  # flattened
    either = gaussian | masking
    assert isinstance(either, OneOf) and either.choices == [gaussian, masking]
    assert parse(chain.spec()) == chain and parse(either.spec()) == either


@pytest.mark.parametrize("label", ["plain", "two words", 'q"uote', "back\\slash", "é and 中", "tab\there",
                                   "line\nbreak", "ctl\x01", "none", "true", "1.5"])
def test_string_parameters_round_trip_through_a_spec(monkeypatch, label):
    from sigdae.corruptions.base import Corruption, Param
    from sigdae.registry import CORRUPTIONS

    class Labelled(Corruption):
        name = "labelled"
        params = (Param("label", "plain", "any text", "str"),)

        def apply_params(self, x, params, sample_rate):
            return x

    monkeypatch.setitem(CORRUPTIONS._entries, "labelled", Labelled)
    monkeypatch.setitem(CORRUPTIONS._origins, "labelled", __name__)
    c = Labelled(label=label)
    assert "\n" not in c.spec()
    assert parse(c.spec()) == c
    text = dumps_toml({"corruption": {"spec": c.spec()}})
    assert parse(tomllib.loads(text)["corruption"]["spec"]) == c
