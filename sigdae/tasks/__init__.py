"""Tasks: what a run trains on. ``get_task(config["task"])`` gives the data, validation pairs, metrics,
preview size and default corruption; other packages add tasks through the ``sigdae.tasks`` entry points."""

from sigdae.tasks.base import TASKS, Task, TaskData, TaskError, TensorBatches, fixed_noisy, get_task
from sigdae.tasks import mnist as _mnist  # noqa: F401  (registers the built-in tasks)
from sigdae.tasks import speech as _speech  # noqa: F401

__all__ = ["TASKS", "Task", "TaskData", "TaskError", "TensorBatches", "fixed_noisy", "get_task"]
