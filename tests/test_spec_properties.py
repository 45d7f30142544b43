"""Property tests of the corruption spec parser and the config checks: any text gives a corruption or
one documented one-line error, never another exception; every corruption's spec reads back to itself."""

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sigdae.config import complete
from sigdae.corruptions import CORRUPTIONS, CorruptionError, parse
from sigdae.errors import ConfigError
from sigdae.recipes import recipe

SPEC_ALPHABET = string.ascii_lowercase[:8] + "0123456789.,=+|()[] \"_-"
NAMES = [n for n in CORRUPTIONS.list() if not CORRUPTIONS.get(n).needs_sample_rate
         and all(p.type not in ("path", "str") or p.default is not None for p in CORRUPTIONS.get(n).params)]
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_one_line(error):
    assert str(error) and "\n" not in str(error)


@FAST
@given(st.text(alphabet=SPEC_ALPHABET, max_size=60) | st.sampled_from(NAMES).map(lambda n: n + "(") )
def test_any_text_is_a_corruption_or_a_corruption_error(text):
    try:
        parse(text)
    except CorruptionError as error:
        assert_one_line(error)


@FAST
@given(st.integers(1, 400), st.sampled_from(["(", "chain(", "["]))
def test_deep_nesting_is_a_clear_error(depth, opener):
    closer = {"(": ")", "chain(": ")", "[": "]"}[opener]
    text = (opener * depth + "gaussian" + closer * depth) if opener != "[" else f"gaussian(std={'[' * depth}"
    try:
        parse(text)
    except CorruptionError as error:
        assert_one_line(error)


@st.composite
def corruptions(draw):
    """A built-in corruption with each numeric parameter drawn inside its declared range."""
    name = draw(st.sampled_from(NAMES))
    kwargs = {}
    for prm in CORRUPTIONS.get(name).params:
        if prm.type in ("float", "range") and prm.low is not None and prm.high is not None and draw(st.booleans()):
            value = draw(st.floats(prm.low, min(prm.high, prm.low + 1e6), allow_nan=False))
            kwargs[prm.name] = value
    try:
        return CORRUPTIONS.get(name)(**kwargs)
    except CorruptionError:  # a cross-parameter rule refused the draw
        return CORRUPTIONS.get(name)()


@FAST
@given(st.lists(corruptions(), min_size=1, max_size=3), st.booleans())
def test_a_spec_reads_back_to_the_same_corruption(parts, one_of):
    from sigdae.corruptions import Chain, OneOf

    if len(parts) == 1:
        corruption = parts[0]
    else:
        corruption = OneOf(parts) if one_of else Chain(parts)
    again = parse(corruption.spec())
    assert again.spec() == corruption.spec() and again == corruption


TOML_VALUES = st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats() | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=3), max_leaves=6)
KEYS = st.sampled_from(["epochs", "lr", "batch_size", "seed", "task", "device", "spec", "warmup", "epohcs", "x"])


@FAST
@given(st.sampled_from(["", "train.", "loss.", "corruption.", "data."]), KEYS, TOML_VALUES)
def test_config_checks_raise_only_config_errors(section, key, value):
    config = recipe("mnist")
    node = config
    for part in section.rstrip(".").split(".") if section else []:
        node = node.setdefault(part, {})
    node[key] = value
    try:
        complete(config)
    except ConfigError as error:
        assert_one_line(error)
