import tomllib

import pytest

from sigdae.config import ConfigError, apply_override, complete, dumps_toml
from sigdae.recipes import RECIPES, recipe
from sigdae.values import format_value, parse_quoted, parse_value, parse_word


@pytest.mark.parametrize("text", ["ctl\x01char", "tab\there", "new\nline", "é 中 🎧", 'q"uote\\', "del\x7f", ""])
def test_any_string_round_trips_through_toml(text):
    config = {"task": text, "model": {"name": text, "nested": {"deeper": [text, text]}}, text or "k": text}
    assert tomllib.loads(dumps_toml(config)) == config


def test_none_is_left_out_and_scalars_come_before_tables():
    text = dumps_toml({"model": {"name": "conv", "gone": None}, "seed": 3, "device": None, "data": {}})
    assert tomllib.loads(text) == {"seed": 3, "model": {"name": "conv"}, "data": {}}
    assert text.index("seed = 3") < text.index("[model]")


def test_run_configs_of_every_recipe_round_trip():
    for name in RECIPES:
        config = complete(recipe(name))
        assert tomllib.loads(dumps_toml(config)) == config


def test_values_toml_cannot_hold_give_a_config_error():
    with pytest.raises(ConfigError, match="cannot write"):
        dumps_toml({"model": {"name": object()}})


@pytest.mark.parametrize("item, value", [
    ("train.lr=1e-3", 1e-3), ("seed=7", 7), ("model.channels=[8, 16]", [8, 16]), ("train.amp=true", True),
    ('model.name="conv"', "conv"), ("model.name=conv", "conv"), ("data.dir= /some where ", "/some where"),
])
def test_set_overrides_parse_toml_or_take_the_text(item, value):
    config: dict = {}
    apply_override(config, item)
    node = config
    *parents, leaf = item.partition("=")[0].split(".")
    for key in parents:
        node = node[key]
    assert node[leaf] == value


def test_parse_value_can_refuse_plain_text():
    assert parse_value(" [1, 2] ", plain_text=False) == [1, 2]
    with pytest.raises(ValueError):
        parse_value("not toml", plain_text=False)


@pytest.mark.parametrize("value", [0, -3, 1.0, 0.5, 1e-3, 1e20, float("inf"), True, False, None, "word", "two words",
                                   "none", "TRUE", "12", "1e3", "/a/path.wav", "é", "a\tb", [1, 2.0, "x"], ""])
def test_format_value_reads_back_as_the_same_value(value):
    text = format_value(value)
    assert "\n" not in text
    if isinstance(value, list):
        assert text == "[1, 2.0, x]"
        return
    back = parse_quoted(text) if text.startswith('"') else parse_word(text)
    assert back == value and type(back) is type(value)
