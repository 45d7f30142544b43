import sys
import types

import pytest

from sigdae.registry import Registry, RegistryError


class _EP:
    def __init__(self, name, value, obj=None, exc=None):
        self.name, self.value, self._obj, self._exc = name, value, obj, exc

    def load(self):
        if self._exc:
            raise self._exc
        return self._obj


def test_register_list_get_describe():
    reg = Registry("widgets")

    @reg.register("alpha")
    class Alpha:
        """Alpha widget: ``size`` cm across. Made of
        wood; painted.

        Longer text."""

    @reg.register()
    class beta:  # noqa: N801
        pass

    assert reg.list() == ["alpha", "beta"]
    assert reg.list("a*") == ["alpha"]
    assert reg.get("alpha") is Alpha and Alpha.name == "alpha"
    assert reg.describe("alpha")["summary"] == "Alpha widget: ``size`` cm across. Made of wood; painted."
    assert reg.describe("alpha")["headline"] == "Alpha widget: size cm across"  # first sentence, plain text
    assert "alpha" in reg
    with pytest.raises(RegistryError, match="unknown widgets 'gamma' \\(known: alpha, beta\\)"):
        reg.get("gamma")
    with pytest.raises(RegistryError, match="already registered"):
        reg.add("alpha", object())


def test_broken_plugin_reported_and_others_still_work(monkeypatch):
    class Good:
        """A good plugin."""

    eps = [_EP("good", "goodpkg:Good", obj=Good), _EP("broken", "brokenpkg:Thing", exc=ImportError("no module x"))]
    monkeypatch.setattr("importlib.metadata.entry_points", lambda group: eps if group == "sigdae.gadgets" else [])
    reg = Registry("gadgets")
    assert reg.list() == ["good"]
    assert reg.get("good") is Good
    assert reg.origin("good").startswith("entry point sigdae.gadgets")
    with pytest.raises(RegistryError) as err:
        reg.get("broken")
    message = str(err.value)
    assert "broken" in message and "brokenpkg:Thing" in message and "no module x" in message
    assert "\n" not in message
    assert list(reg.failures) == ["broken"]


def test_builtin_registries_have_builtins():
    import sigdae.corruptions  # noqa: F401
    import sigdae.losses  # noqa: F401
    import sigdae.models  # noqa: F401
    from sigdae.registry import CORRUPTIONS, LOSSES, MODELS

    assert {"gaussian", "noise_factor", "masking", "salt_pepper", "speckle", "poisson"} <= set(CORRUPTIONS.list())
    assert {"conv", "dense"} <= set(MODELS.list())
    assert {"mse", "bce", "l1"} <= set(LOSSES.list())
