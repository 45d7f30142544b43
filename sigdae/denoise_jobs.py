"""``denoise --jobs N``: files spread over N worker processes, each with its own copy of the model.

On the CPU under Linux, workers are forked: they start at once, with torch already imported (a spawned
interpreter spends seconds importing torch and loading the model before its first file, which on a folder
of short files costs a large share of the second process's gain). The parent runs no torch computation
before the fork, so no thread pool is inherited half-used. On CUDA, or where fork is missing, workers are
spawned (CUDA cannot be forked once initialised). Workers ignore SIGINT (a Ctrl-C reaches the whole process group; the parent decides) and treat SIGTERM as a
request to stop. A stop reaches running workers through a shared event, which they check between chunks,
so each abandons its file without leaving a temporary file.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Callable

from sigdae.denoise_report import FileResult
from sigdae.denoise_work import FileDenoiser, Options

_worker: FileDenoiser | None = None
_stop = None


def threads_per_job(jobs: int) -> int:
    """Torch threads for each of ``jobs`` workers: the CPUs shared out, at least one."""
    return max(1, (os.cpu_count() or 1) // jobs)


def _init(model_path: str, device: str, threads: int, options: Options, stop_event) -> None:
    global _worker, _stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda signum, frame: stop_event.set())
    import torch

    from sigdae.api import load_model

    torch.set_num_threads(threads)
    _stop = stop_event
    _worker = FileDenoiser(load_model(model_path, device=device), options)


def _run(src: str, dst: str) -> FileResult:
    assert _worker is not None and _stop is not None
    if _stop.is_set():
        return FileResult(src, dst)
    return _worker.run(Path(src), Path(dst), should_stop=_stop.is_set)


def start_method(device_type: str) -> str:
    """``fork`` for CPU work where the platform has it, else ``spawn``."""
    return "fork" if device_type == "cpu" and "fork" in multiprocessing.get_all_start_methods() else "spawn"


def run_pool(model_path: str, device: str, options: Options, pairs: list[tuple[Path, Path]], jobs: int,
             threads: int, should_stop: Callable[[], bool], on_result: Callable[[int, FileResult], None],
             method: str = "spawn") -> bool:
    """Denoise ``pairs`` with ``jobs`` processes started by ``method``; ``on_result(index, result)`` as each
    file finishes (in any order). Returns True if a stop was requested (files not started are left out)."""
    context = multiprocessing.get_context(method)
    stop_event = context.Event()
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_init,
                               initargs=(model_path, device, threads, options, stop_event))
    stopped = False
    try:
        pending: dict[Future, int] = {pool.submit(_run, str(src), str(dst)): i
                                      for i, (src, dst) in enumerate(pairs)}
        while pending:
            done, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in done:
                index = pending.pop(future)
                if not future.cancelled():
                    on_result(index, future.result())
            if not stopped and (should_stop() or stop_event.is_set()):
                stopped = True
                stop_event.set()
                for future in list(pending):
                    if future.cancel():
                        pending.pop(future)
    finally:
        stop_event.set()
        pool.shutdown(wait=True, cancel_futures=True)
    return stopped
