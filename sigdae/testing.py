"""Helpers for plugin authors: check that a corruption keeps sigdae's contract.

    from sigdae.testing import check_corruption
    def test_my_noise():
        check_corruption(MyNoise, my_param=0.3)

Raises ``AssertionError`` with a readable message on the first broken rule.
"""

from __future__ import annotations

from typing import Any

import torch

from sigdae.corruptions.base import Corruption
from sigdae.corruptions.spec import parse
from sigdae.samples import SAMPLE_RATE, sample_batch

__all__ = ["check_corruption", "sample_batch", "SAMPLE_RATE"]


def check_corruption(corruption: type[Corruption] | Corruption, *, kinds: tuple[str, ...] | None = None,
                     devices: tuple[str, ...] | None = None, **params: Any) -> None:
    """Check the contract on every supported signal kind and device (CPU, and CUDA where present).

    * output has the input's shape, dtype and device, and is finite;
    * the same generator seed gives the same output; ``draw`` then ``apply`` equals calling it;
    * ``p=0`` leaves the input untouched; the default configuration changes it;
    * ``describe()`` lists every parameter with a default, and the spec string round-trips.
    """
    cls = corruption if isinstance(corruption, type) else type(corruption)
    make = (lambda **kw: cls(**{**params, **kw})) if isinstance(corruption, type) else None
    instance = make() if make else corruption
    assert instance.name, f"{cls.__name__} has no registry name"
    assert instance.supports, f"{instance.name}: declares no supported signal kinds"
    names = [p["name"] for p in cls.describe()["params"]]
    assert names[0] == "p" and len(set(names)) == len(names), f"{instance.name}: parameter names clash: {names}"
    rebuilt = parse(instance.spec())
    assert rebuilt == instance, f"{instance.name}: spec {instance.spec()!r} does not round-trip"

    devices = devices or (("cpu", "cuda") if torch.cuda.is_available() else ("cpu",))
    sr = SAMPLE_RATE if instance.needs_sample_rate else None
    for kind in kinds or sorted(instance.supports):
        for device in devices:
            x = sample_batch(kind, device=device)
            where = f"{instance.name} on {kind} ({device})"

            def run(seed: int, c: Corruption = instance) -> torch.Tensor:
                g = torch.Generator(device=device).manual_seed(seed)
                return c(x, g, sample_rate=sr)

            y = run(0)
            assert y.shape == x.shape, f"{where}: shape {tuple(x.shape)} became {tuple(y.shape)}"
            assert y.dtype == x.dtype, f"{where}: dtype {x.dtype} became {y.dtype}"
            assert y.device == x.device, f"{where}: device {x.device} became {y.device}"
            assert torch.isfinite(y).all(), f"{where}: output has NaN or inf"
            assert torch.equal(y, run(0)), f"{where}: same seed, different output"
            assert not torch.equal(y, x), f"{where}: the configuration given does not change the input"
            g = torch.Generator(device=device).manual_seed(0)
            params_drawn = instance.draw(x, g, sr)
            assert torch.equal(instance.apply(x, params_drawn, sr), y), f"{where}: draw + apply differs from call"
            assert torch.equal(instance.apply(x, params_drawn, sr), y), f"{where}: apply is not deterministic"
            if make:
                off = make(p=0.0)
                assert torch.equal(run(0, off), x), f"{where}: p=0 changed the input"
            x_before = x.clone()
            run(1)
            assert torch.equal(x, x_before), f"{where}: modified its input in place"
