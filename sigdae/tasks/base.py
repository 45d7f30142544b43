"""What a task is: where a run's clean training data, fixed noisy validation pairs, metrics, preview and
default corruption come from. The trainer asks the task registry by name and knows no task itself.

A task gives the trainer batches of clean signals (the corruption is applied on the fly, on the
training device) or ready (noisy, clean) pairs, a fixed validation set, and the metrics to report.
"""

from __future__ import annotations

import abc

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

import torch

from sigdae.config_schema import check_keys
from sigdae.corruptions import Corruption
from sigdae.errors import ConfigError
from sigdae.registry import Registry

Metrics = Callable[[torch.Tensor, torch.Tensor], dict[str, torch.Tensor]]

TASKS = Registry("tasks")


class TaskError(ConfigError):
    """A task's data settings are wrong (one readable line)."""


@dataclass
class TaskData:
    signal: str                         # image | waveform
    train: Iterable[Any]                # yields clean batches, or (noisy, clean) pairs
    val_noisy: torch.Tensor
    val_clean: torch.Tensor
    metrics: Metrics
    monitor: str                        # validation metric that picks best.pt (higher is better)
    sample_rate: int | None = None
    preview_items: int = 1              # validation examples written to the run's preview
    info: dict[str, Any] = field(default_factory=dict)


class Task(abc.ABC):
    """A kind of run. Subclasses set the class attributes and implement :meth:`build`."""

    name = ""
    label = ""                          # what a person reads in a menu
    signal = ""                         # image | waveform
    data_defaults: dict[str, Any] = {}  # the [data] settings it reads, with their defaults

    def data(self, config: dict[str, Any]) -> dict[str, Any]:
        """The run's [data] settings over the task's defaults (an unknown key is a one-line error)."""
        data = config.get("data", {})
        check_keys(f"[data] (task {self.name})", data, self.data_defaults)
        return {**self.data_defaults, **data}

    def default_corruption(self, data: dict[str, Any]) -> Corruption:
        """What ``corruption.spec = "auto"`` means for this task."""
        raise TaskError(f"task '{self.name}' has no automatic corruption: give a corruption spec")

    @abc.abstractmethod
    def build(self, config: dict[str, Any], corruption: Corruption, device: torch.device,
              generator: torch.Generator) -> TaskData:
        """The run's training batches, validation pairs and metrics."""


def get_task(name: str) -> Task:
    if name not in TASKS:
        raise TaskError(f"unknown task '{name}' (known: {', '.join(TASKS.list())})")
    return TASKS.get(name)


class TensorBatches:
    """Shuffled mini-batches of an in-memory tensor (a new permutation each epoch from a seeded generator)."""

    def __init__(self, data: torch.Tensor, batch_size: int, generator: torch.Generator, drop_last: bool = True):
        self.data, self.batch_size, self.generator, self.drop_last = data, batch_size, generator, drop_last

    def __len__(self) -> int:
        n = self.data.shape[0]
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[torch.Tensor]:
        order = torch.randperm(self.data.shape[0], generator=self.generator)
        for i in range(len(self)):
            yield self.data[order[i * self.batch_size:(i + 1) * self.batch_size].to(self.data.device)]


def fixed_noisy(clean: torch.Tensor, corruption: Corruption, seed: int, sample_rate: int | None = None,
                batch: int = 1024) -> torch.Tensor:
    """The validation set's noisy side, drawn once on the CPU so it is the same on every device."""
    g = torch.Generator().manual_seed(seed)
    return torch.cat([corruption(clean[i:i + batch], g, sample_rate=sample_rate)
                      for i in range(0, clean.shape[0], batch)])
