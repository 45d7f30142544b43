"""Built-in corruptions for images (and any tensor with values in a known range)."""

from __future__ import annotations

import torch

from sigdae.corruptions.base import Corruption, CorruptionError, Param, Params
from sigdae.registry import CORRUPTIONS

_IMAGE = frozenset({"image", "spectrogram"})
_CLIP = (Param("clip", False, "clip the result to [low, high]", "bool"),
         Param("low", 0.0, "lower clip bound", "float"),
         Param("high", 1.0, "upper clip bound", "float"))


def _per_sample(values: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return values.view(-1, *([1] * (x.dim() - 1))).to(x.dtype)


class _Clipped(Corruption):
    def check(self) -> None:
        if self.config.get("low", 0.0) >= self.config.get("high", 1.0):
            raise CorruptionError(f"{self.name}: low must be below high")

    def finish(self, y: torch.Tensor) -> torch.Tensor:
        return y.clamp(self.low, self.high) if self.clip else y


@CORRUPTIONS.register("gaussian")
class Gaussian(_Clipped):
    """Additive white Gaussian noise with standard deviation ``std`` (optionally clipped)."""

    params = (Param("std", 0.1, "noise standard deviation (a [low, high] pair draws it per sample)",
                    "range", 0.0, 100.0), *_CLIP)

    def draw_params(self, x, generator, sample_rate) -> Params:
        return {"std": self.uniform("std", x.shape[0], generator, x), "noise": self.randn(x.shape, generator, x)}

    def apply_params(self, x, params, sample_rate):
        return self.finish(x + _per_sample(params["std"], x) * params["noise"].to(x.dtype))


@CORRUPTIONS.register("noise_factor")
class NoiseFactor(Gaussian):
    """The classic Keras-blog form: ``clip(x + noise_factor * N(0, 1), 0, 1)``."""

    params = (Param("factor", 0.5, "noise factor (standard deviation before clipping)", "range", 0.0, 100.0),)
    supports = _IMAGE

    def draw_params(self, x, generator, sample_rate) -> Params:
        return {"std": self.uniform("factor", x.shape[0], generator, x), "noise": self.randn(x.shape, generator, x)}

    def finish(self, y):
        return y.clamp(0.0, 1.0)


@CORRUPTIONS.register("masking")
class Masking(Corruption):
    """Masking (dropout) noise: each element is set to ``value`` with probability ``fraction``."""

    params = (Param("fraction", 0.25, "fraction of elements masked", "range", 0.0, 1.0),
              Param("value", 0.0, "value written into masked elements", "float"))

    def draw_params(self, x, generator, sample_rate) -> Params:
        return {"fraction": self.uniform("fraction", x.shape[0], generator, x),
                "u": self.rand(x.shape, generator, x)}

    def apply_params(self, x, params, sample_rate):
        masked = params["u"] < _per_sample(params["fraction"], x)
        return x.masked_fill(masked, self.value)


@CORRUPTIONS.register("salt_pepper")
class SaltPepper(Corruption):
    """Salt-and-pepper noise: a fraction ``amount`` of elements set to ``high`` (salt) or ``low`` (pepper)."""

    params = (Param("amount", 0.1, "fraction of elements replaced", "range", 0.0, 1.0),
              Param("salt_ratio", 0.5, "share of salt among replaced elements", "float", 0.0, 1.0),
              Param("low", 0.0, "pepper value", "float"),
              Param("high", 1.0, "salt value", "float"))
    supports = _IMAGE

    def draw_params(self, x, generator, sample_rate) -> Params:
        return {"amount": self.uniform("amount", x.shape[0], generator, x),
                "u": self.rand(x.shape, generator, x), "v": self.rand(x.shape, generator, x)}

    def apply_params(self, x, params, sample_rate):
        hit = params["u"] < _per_sample(params["amount"], x)
        salt = params["v"] < self.salt_ratio
        y = x.masked_fill(hit & salt, self.high)
        return y.masked_fill(hit & ~salt, self.low)


@CORRUPTIONS.register("speckle")
class Speckle(_Clipped):
    """Multiplicative noise: ``x + x * std * N(0, 1)``."""

    params = (Param("std", 0.2, "relative noise standard deviation", "range", 0.0, 100.0), *_CLIP)
    supports = _IMAGE

    def draw_params(self, x, generator, sample_rate) -> Params:
        return {"std": self.uniform("std", x.shape[0], generator, x), "noise": self.randn(x.shape, generator, x)}

    def apply_params(self, x, params, sample_rate):
        return self.finish(x * (1 + _per_sample(params["std"], x) * params["noise"].to(x.dtype)))


@CORRUPTIONS.register("poisson")
class Poisson(Corruption):
    """Shot noise: ``Poisson(x * peak) / peak`` for values in [0, 1]; lower ``peak`` is noisier."""

    params = (Param("peak", 30.0, "photon count at full intensity", "range", 0.01, 1e6),)
    supports = frozenset({"image"})

    def draw_params(self, x, generator, sample_rate) -> Params:
        seeds = torch.randint(0, 2**62, (x.shape[0],), generator=generator,
                              device=generator.device if generator is not None else "cpu")
        return {"peak": self.uniform("peak", x.shape[0], generator, x), "seed": seeds.cpu()}

    def apply_params(self, x, params, sample_rate):
        peak = _per_sample(params["peak"], x)
        rates = (x.clamp(min=0) * peak).float()
        out = torch.empty_like(rates)
        for i, seed in enumerate(params["seed"].tolist()):
            g = torch.Generator(device=x.device).manual_seed(seed)
            out[i] = torch.poisson(rates[i], generator=g)
        return (out / peak).to(x.dtype)
