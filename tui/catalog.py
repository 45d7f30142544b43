"""What can be chosen in the forms: tasks, recipes, models and their options, corruptions, devices.

Loading it imports torch and every registered plugin (seconds), so screens call :func:`load_catalog`
from a thread worker; the result is cached for the life of the process.
"""

from __future__ import annotations

import inspect
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sigdae.tasks import Task

@dataclass(frozen=True)
class ModelOption:
    name: str
    default: Any


@dataclass(frozen=True)
class Catalog:
    recipes: dict[str, dict[str, Any]]
    models: dict[str, list[ModelOption]]
    model_summaries: dict[str, str]
    corruptions: dict[str, dict[str, Any]]        # name -> describe() (summary, params, supports)
    plugin_failures: list[str]
    devices: list[tuple[str, str]] = field(default_factory=list)   # (label, value)
    task_registry: dict[str, Task] = field(default_factory=dict)

    def tasks(self) -> list[str]:
        """The tasks a recipe trains, registered ones first (in the registry's order)."""
        found = {str(r["task"]) for r in self.recipes.values()}
        return [t for t in self.task_registry if t in found] + sorted(found - set(self.task_registry))

    def task(self, name: str) -> Task | None:
        """The registered task (its label, signal, data settings and default corruption), or None."""
        return self.task_registry.get(name)

    def task_label(self, name: str) -> str:
        task = self.task(name)
        return task.label if task is not None and task.label else name

    def recipes_for(self, task: str) -> list[str]:
        return [name for name, r in self.recipes.items() if r.get("task") == task]


_lock = threading.Lock()
_cached: Catalog | None = None


def _model_options(cls: type) -> list[ModelOption]:
    try:
        params = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):
        return []
    return [ModelOption(p.name, None if p.default is inspect.Parameter.empty else p.default)
            for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self"]


def list_devices() -> list[tuple[str, str]]:
    import torch

    devices = [("auto (best available)", "auto")]
    for i in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(i)
        devices.append((f"cuda:{i} {props.name} ({props.total_memory / 2**30:.1f} GiB)", f"cuda:{i}"))
    if torch.cuda.device_count() > 1:
        count = torch.cuda.device_count()
        devices.append((f"all {count} GPUs (one process each, DistributedDataParallel)", f"cuda*{count}"))
    devices.append(("cpu", "cpu"))
    return devices


def split_device(value: str) -> tuple[str, int]:
    """A device choice of the form as (device, processes): ``cuda*4`` is CUDA in 4 processes."""
    device, _, count = value.partition("*")
    return device, int(count) if count.isdigit() and int(count) > 0 else 1


def load_catalog() -> Catalog:
    global _cached
    with _lock:
        if _cached is None:
            from sigdae.corruptions import CORRUPTIONS
            from sigdae.models import MODELS
            from sigdae.recipes import RECIPES
            from sigdae.tasks import TASKS

            models = {name: _model_options(MODELS.get(name)) for name in MODELS.list()}
            summaries = {name: MODELS.describe(name)["summary"] for name in MODELS.list()}
            corruptions = {name: CORRUPTIONS.describe(name) for name in CORRUPTIONS.list()}
            failures = [*CORRUPTIONS.failures.values(), *MODELS.failures.values(), *TASKS.failures.values()]
            tasks = {name: TASKS.get(name) for name in TASKS.list()}
            _cached = Catalog(dict(RECIPES), models, summaries, corruptions, failures, list_devices(), tasks)
        return _cached


def describe_param(param: dict[str, Any]) -> str:
    """``std: range = 0.1 in [0.0, 100.0] — noise standard deviation``."""
    bounds = param.get("range")
    where = f" in [{bounds[0]}, {bounds[1]}]" if bounds else ""
    choices = f" one of {', '.join(param['choices'])}" if param.get("choices") else ""
    return f"{param['name']}: {param['type']} = {param['default']!r}{where}{choices} — {param.get('help', '')}"
