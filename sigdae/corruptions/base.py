"""The corruption contract.

A corruption turns a clean batch into a noisy one in two steps:

* ``draw(x, generator)`` draws everything random (per-sample strengths, noise fields, choices) from a
  seeded ``torch.Generator`` and returns it as a dict of tensors whose first dimension is the batch;
* ``apply(x, params)`` is deterministic: the same params always give the same output, so a preview
  can show exactly what training saw.

``corruption(x, generator)`` does both. Every corruption has a probability ``p`` of touching each
sample, declares its parameters (default, range, help) and the signal kinds it supports.

Layering: ``base`` (this contract) <- ``compose`` (Chain, OneOf and the ``+``/``|`` operators) <- ``spec``
(the parser); the built-in corruptions build on ``base``.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, Iterator, Sequence

import torch

from sigdae.errors import CorruptionError, PluginError, SigdaeError
from sigdae.values import format_call

SIGNAL_KINDS = ("image", "waveform", "spectrogram")
Params = dict[str, Any]


@dataclass(frozen=True)
class Param:
    """A declared corruption parameter.

    ``type`` is one of ``float``, ``int``, ``bool``, ``str``, ``path`` or ``range``. A ``range``
    parameter takes a number or a ``[low, high]`` pair; with a pair, each sample draws its own value
    uniformly in it (random strength).
    """

    name: str
    default: Any
    help: str = ""
    type: str = "float"
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] | None = None

    def describe(self) -> dict[str, Any]:
        d = {"name": self.name, "type": self.type, "default": self.default, "help": self.help}
        if self.low is not None or self.high is not None:
            d["range"] = [self.low, self.high]
        if self.choices:
            d["choices"] = list(self.choices)
        return d

    def validate(self, owner: str, value: Any) -> Any:
        where = f"{owner}: {self.name}={value!r}"
        if self.type == "bool":
            if isinstance(value, str) and value.lower() in ("true", "false"):
                value = value.lower() == "true"
            if not isinstance(value, bool):
                raise CorruptionError(f"{where} must be true or false")
            return value
        if self.type in ("str", "path"):
            if value is None and self.default is None:
                return None
            if not isinstance(value, str):
                raise CorruptionError(f"{where} must be a string")
            if self.choices and value not in self.choices:
                raise CorruptionError(f"{where} must be one of {', '.join(self.choices)}")
            return value
        if self.type == "range" and isinstance(value, (list, tuple)):
            if len(value) != 2:
                raise CorruptionError(f"{where} must be a number or a [low, high] pair")
            lo, hi = (self._number(where, v) for v in value)
            if lo > hi:
                raise CorruptionError(f"{where}: low must not exceed high")
            return [lo, hi]
        return self._number(where, value)

    def _number(self, where: str, value: Any) -> float | int:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise CorruptionError(f"{where} must be a number")
        if not math.isfinite(value):
            raise CorruptionError(f"{where} must be a finite number")
        if self.type == "int":
            if int(value) != value:
                raise CorruptionError(f"{where} must be an integer")
            value = int(value)
        else:
            value = float(value)
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            raise CorruptionError(f"{where} is out of range [{self.low}, {self.high}]")
        return value


P = Param("p", 1.0, "probability that a sample is corrupted at all", "float", 0.0, 1.0)


class Corruption:
    """Base class for every corruption (built-in or plugin).

    Subclasses set ``name``, ``params`` (a tuple of :class:`Param`), ``supports`` (signal kinds) and
    ``needs_sample_rate``, and implement ``draw_params`` and ``apply_params``. Values of ``range``
    parameters are read per sample with :meth:`uniform`.
    """

    name: ClassVar[str] = ""
    params: ClassVar[tuple[Param, ...]] = ()
    supports: ClassVar[frozenset[str]] = frozenset(SIGNAL_KINDS)
    needs_sample_rate: ClassVar[bool] = False

    def __init__(self, p: float = 1.0, **kwargs: Any):
        declared = {prm.name: prm for prm in self.params}
        unknown = sorted(set(kwargs) - set(declared))
        if unknown:
            known = ", ".join(declared) or "none"
            raise CorruptionError(f"{self.name}: unknown parameter '{unknown[0]}' (parameters: p, {known})")
        self.p = P.validate(self.name, p)
        self.config: dict[str, Any] = {}
        for prm in self.params:
            value = kwargs.get(prm.name, prm.default)
            self.config[prm.name] = value if value is None and prm.default is None else prm.validate(self.name, value)
        self.check()

    def check(self) -> None:
        """Cross-parameter validation; raise CorruptionError."""

    def __getattr__(self, key: str) -> Any:
        config = self.__dict__.get("config")
        if config is not None and key in config:
            return config[key]
        raise AttributeError(key)

    # ---- the two steps -------------------------------------------------------------------------
    def draw(self, x: torch.Tensor, generator: torch.Generator | None = None,
             sample_rate: int | None = None) -> Params:
        self._check_input(x, sample_rate)
        n = x.shape[0]
        params: Params = {"applied": self.rand(n, generator, x) < self.p}
        with self._blame("draw_params"):
            params.update(self.draw_params(x, generator, sample_rate))
        return params

    def apply(self, x: torch.Tensor, params: Params, sample_rate: int | None = None) -> torch.Tensor:
        self._check_input(x, sample_rate)
        applied = params["applied"]
        if not bool(applied.any()):
            return x
        with self._blame("apply_params"):
            out = self.apply_params(x, params, sample_rate)
        if not torch.is_tensor(out) or out.shape != x.shape or out.device != x.device:
            got = f"{tuple(out.shape)} on {out.device}" if torch.is_tensor(out) else type(out).__name__
            raise CorruptionError(f"corruption '{self.name}' ({self.origin()}) returned {got} for an input of "
                                  f"{tuple(x.shape)} on {x.device}: a corruption must keep shape and device")
        if bool(applied.all()):
            return out
        mask = applied.to(x.device).view(-1, *([1] * (x.dim() - 1)))
        return torch.where(mask, out, x)

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None,
                 sample_rate: int | None = None) -> torch.Tensor:
        return self.apply(x, self.draw(x, generator, sample_rate), sample_rate)

    def draw_params(self, x: torch.Tensor, generator: torch.Generator | None,
                    sample_rate: int | None) -> Params:
        return {}

    def apply_params(self, x: torch.Tensor, params: Params, sample_rate: int | None) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement apply_params")

    # ---- random helpers: draw on the generator's device, return on x's device -----------------
    @staticmethod
    def _gen_device(generator: torch.Generator | None, x: torch.Tensor) -> torch.device:
        return generator.device if generator is not None else x.device

    def rand(self, shape: int | Sequence[int], generator: torch.Generator | None, x: torch.Tensor) -> torch.Tensor:
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        return torch.rand(shape, generator=generator, device=self._gen_device(generator, x)).to(x.device)

    def randn(self, shape: int | Sequence[int], generator: torch.Generator | None, x: torch.Tensor) -> torch.Tensor:
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        return torch.randn(shape, generator=generator, device=self._gen_device(generator, x),
                           dtype=torch.float32).to(device=x.device)

    def randint(self, high: int, shape: int | Sequence[int], generator: torch.Generator | None,
                x: torch.Tensor) -> torch.Tensor:
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        return torch.randint(high, shape, generator=generator, device=self._gen_device(generator, x)).to(x.device)

    def bounds(self, key: str) -> tuple[float, float]:
        """``(low, high)`` of a ``range`` parameter (equal for a single value)."""
        value = self.config[key]
        return (float(value[0]), float(value[1])) if isinstance(value, list) else (float(value), float(value))

    def count_bounds(self, key: str) -> tuple[int, int]:
        """Whole-number ends of a ``range`` parameter that counts things: ``(ceil(low), floor(high))`` of a
        pair (CorruptionError if it holds no whole number), the floor of a single value twice."""
        value = self.config[key]
        if not isinstance(value, list):
            return math.floor(value), math.floor(value)
        low, high = math.ceil(value[0]), math.floor(value[1])
        if low > high:
            raise CorruptionError(f"{self.name}: {key}={value} contains no whole number")
        return low, high

    def uniform(self, key: str, n: int, generator: torch.Generator | None, x: torch.Tensor) -> torch.Tensor:
        """Per-sample values of a ``range`` parameter: constant, or uniform in ``[low, high]``."""
        lo, hi = self.bounds(key)
        if isinstance(self.config[key], list):
            return lo + (hi - lo) * self.rand(n, generator, x)
        return torch.full((n,), lo, device=x.device)

    def uniform_count(self, key: str, n: int, generator: torch.Generator | None, x: torch.Tensor) -> torch.Tensor:
        """Per-sample whole numbers of a counting ``range`` parameter: constant, or uniform over the
        whole numbers of ``[low, high]``, both ends included."""
        low, high = self.count_bounds(key)
        if isinstance(self.config[key], list):
            return (low + (self.rand(n, generator, x) * (high - low + 1)).floor()).long().clamp(low, high)
        return torch.full((n,), low, dtype=torch.long, device=x.device)

    # ---- description and spec -------------------------------------------------------------------
    @classmethod
    def describe(cls) -> dict[str, Any]:
        return {"supports": sorted(cls.supports), "needs_sample_rate": cls.needs_sample_rate,
                "params": [P.describe()] + [prm.describe() for prm in cls.params]}

    def spec(self) -> str:
        """The spec string that rebuilds this corruption (only values that differ from the defaults)."""
        values = {} if self.p == 1.0 else {"p": self.p}
        values.update({prm.name: self.config[prm.name] for prm in self.params
                       if self.config[prm.name] != prm.default})
        return format_call(self.name, values)

    def to_config(self) -> dict[str, Any]:
        return {"name": self.name, "p": self.p, **self.config}

    def __repr__(self) -> str:
        return self.spec()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.to_config() == self.to_config()

    # ``a + b`` (a Chain) and ``a | b`` (a OneOf) are defined in compose.py, which builds on this class.

    @classmethod
    def origin(cls) -> str:
        return "built-in" if cls.__module__.startswith("sigdae.") else f"plugin from {cls.__module__}"

    @contextmanager
    def _blame(self, step: str) -> Iterator[None]:
        """A plugin's own failure names the plugin (built-ins' failures are sigdae's bugs: traceback)."""
        if self.__module__.startswith("sigdae."):
            yield
            return
        try:
            yield
        except SigdaeError:
            raise
        except Exception as exc:
            raise PluginError(f"corruption '{self.name}' ({self.origin()}) failed in {step}: "
                              f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from exc

    def _check_input(self, x: torch.Tensor, sample_rate: int | None) -> None:
        if not torch.is_tensor(x) or x.dim() < 2:
            raise CorruptionError(f"{self.name}: expects a batched tensor (N, ...), got "
                                  f"{tuple(x.shape) if torch.is_tensor(x) else type(x).__name__}")
        if self.needs_sample_rate and not sample_rate:
            raise CorruptionError(f"{self.name}: needs the sample rate (pass sample_rate=...)")


def select(params: Params, index: torch.Tensor) -> Params:
    """The params of a sub-batch: index every per-sample tensor (recursively)."""
    out: Params = {}
    for key, value in params.items():
        if torch.is_tensor(value):
            out[key] = value[index.to(value.device)]
        elif isinstance(value, dict):
            out[key] = select(value, index)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            out[key] = [select(v, index) for v in value]
        else:
            out[key] = value
    return out
