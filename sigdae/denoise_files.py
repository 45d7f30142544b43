"""Denoise a file, a folder of files, or a pipe (images with an image model, audio with a speech model).

Outputs are written atomically and never over an input; a folder keeps its subfolders. In a folder, a
file that cannot be denoised is reported and the others go on; outputs finished by an earlier run are
skipped unless ``overwrite``. SIGINT and SIGTERM stop at the next chunk: finished outputs stay, the file
being written leaves nothing behind. See docs/denoising.md.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Callable

from sigdae.api import LoadedModel, load_model
from sigdae.denoise_plan import STDIO, DenoiseError, Plan, plan
from sigdae.denoise_report import DENOISED, FAILED, NOT_STARTED, SKIPPED, DenoiseReport, FileResult
from sigdae.denoise_work import FileDenoiser, Options
from sigdae.fullband import BANDS
from sigdae.interrupts import graceful_stop

FILES_PER_GROUP = 64  # short files read into memory at once to share model calls on a GPU

__all__ = ["denoise_path", "DenoiseError", "DenoiseReport", "FileResult", "STDIO"]


def denoise_path(src: str | os.PathLike, dst: str | os.PathLike, model: LoadedModel | str | os.PathLike | None = None,
                 *, strength: float = 1.0, device: str = "auto", overwrite: bool = False, progress: bool = False,
                 jobs: int = 1, threads: int | None = None, subtype: str | None = None, format: str | None = None,
                 band: str = "full", on_result: Callable[[FileResult], None] | None = None) -> DenoiseReport:
    """Denoise the file ``src`` into the file ``dst`` (or into the folder ``dst``), or every supported file
    under the folder ``src`` into the same place under the folder ``dst``; ``"-"`` for ``src`` or ``dst``
    is standard input or output (audio; WAV unless ``format`` says otherwise).

    ``model`` is a loaded model, a run directory or checkpoint, or None for the bundled speech model;
    ``strength`` (0..1) blends the denoised signal with the input; ``subtype``/``format`` choose the audio
    sample format and container; ``band="model"`` gives an input above the model's rate the model's band
    alone instead of its whole bandwidth. An existing output file is refused, and existing outputs in a folder
    are skipped, unless ``overwrite``. ``jobs`` > 1 denoises a folder's files in that many processes
    (``threads`` torch threads each; default: the CPUs shared out). ``progress`` shows a progress bar on
    a terminal (stderr); ``on_result`` is called with each file's :class:`FileResult` as it finishes.

    Returns a :class:`DenoiseReport`. For a single file, a file that cannot be denoised raises its error;
    in a folder it is reported (status ``"failed"``) and the other files go on.
    """
    if not 0.0 <= strength <= 1.0:
        raise DenoiseError(f"strength must be in [0, 1], got {strength}")
    if int(jobs) != jobs or jobs < 1:
        raise DenoiseError(f"jobs must be a positive integer, got {jobs}")
    if band not in BANDS:
        raise DenoiseError(f"band must be one of {', '.join(BANDS)}, got {band!r}")
    model = _loaded(model, device)
    options = Options(strength=strength, band=band, subtype=subtype.upper() if subtype else None,
                      format=format.upper() if format else None)
    if STDIO in (os.fspath(src), os.fspath(dst)):
        from sigdae.denoise_pipes import denoise_stdio

        def one_file(a: Path, b: Path) -> DenoiseReport:
            return _denoise(model, options, a, b, overwrite=True, progress=progress, on_result=on_result)

        return denoise_stdio(os.fspath(src), os.fspath(dst), model, options, overwrite, one_file)
    if options.format:
        raise DenoiseError("--format is for standard output (OUT -): a file's format comes from its extension")
    return _denoise(model, options, src, dst, overwrite=overwrite, progress=progress, on_result=on_result,
                    device=device, jobs=jobs, threads=threads)


def _denoise(model: LoadedModel, options: Options, src, dst, *, overwrite: bool, progress: bool,
             on_result: Callable[[FileResult], None] | None, device: str = "auto", jobs: int = 1,
             threads: int | None = None) -> DenoiseReport:
    work = plan(model.path, model.signal, src, dst, overwrite=overwrite)
    report = _report(src, dst, work)
    if not work.folder:
        _check_writable(model, work.todo[0][1], options)
    runner = _Runner(model, options, report, on_result, device=device, jobs=jobs, threads=threads)
    runner.run(progress, raise_errors=not work.folder)
    return report


def _loaded(model: LoadedModel | str | os.PathLike | None, device: str) -> LoadedModel:
    if isinstance(model, LoadedModel):
        return model
    if model is None:
        from sigdae.enhance import bundled_model_path

        model = bundled_model_path()
    return load_model(model, device=device)


def _report(src, dst, work: Plan) -> DenoiseReport:
    skipped = set(work.skipped)
    pairs = sorted([*work.todo, *work.skipped])
    return DenoiseReport(os.fspath(src), os.fspath(dst), work.folder,
                         [FileResult(str(a), str(b), SKIPPED if (a, b) in skipped else NOT_STARTED)
                          for a, b in pairs])


def _check_writable(model: LoadedModel, dst: Path, options: Options) -> None:
    """A single output whose extension, format or subtype cannot be written fails before any work."""
    if model.signal == "image":
        from sigdae.images import check_writable

        check_writable(dst)
    else:
        from sigdae.audio import check_writable

        check_writable(dst, format=options.format, subtype=options.subtype)


class _Runner:
    """Runs the files of a report that are not started yet, in this process or in worker processes."""

    def __init__(self, model: LoadedModel, options: Options, report: DenoiseReport,
                 on_result: Callable[[FileResult], None] | None, *, device: str, jobs: int, threads: int | None):
        self.model, self.options, self.report, self.on_result = model, options, report, on_result
        self.device, self.jobs, self.threads = device, jobs, threads
        self.stop: dict = {"stop": False}
        self.todo = [i for i, f in enumerate(report.files) if f.status == NOT_STARTED]
        self.infos: dict = {}  # index -> AudioInfo, or None when unreadable

    def run(self, progress: bool, raise_errors: bool) -> None:
        with graceful_stop(self.stop):
            sizes = self._sizes()
            with _Display(progress, sum(sizes.values()), self.model.signal == "image") as bar:
                self._work(bar, sizes, raise_errors)
        if self.stop["stop"]:
            self.report.signal = self.stop.get("signal")

    def _work(self, bar: "_Display", sizes: dict[int, float], raise_errors: bool) -> None:
        if self.jobs > 1 and len(self.todo) > 1:
            self._in_workers(bar, sizes)
        else:
            self._here(bar, sizes, raise_errors)

    def _sizes(self) -> dict[int, float]:
        """Work per file for the progress bar: 1 per image, seconds of audio (0 when unreadable)."""
        if self.model.signal == "image":
            return dict.fromkeys(self.todo, 1.0)
        from sigdae.audio import info

        for i in self.todo:
            try:
                self.infos[i] = info(self.report.files[i].input)
            except Exception:  # noqa: BLE001 - reported when the file's turn comes
                self.infos[i] = None
        return {i: self.infos[i].duration if self.infos[i] else 0.0 for i in self.todo}

    def _groups(self, denoiser: FileDenoiser) -> list[tuple[int, list[int]]]:
        """On a GPU: (sample rate, files) groups of short audio files to enhance together."""
        if self.model.signal == "image" or not getattr(denoiser.enhancer, "on_gpu", False):
            return []
        by_rate: dict[int, list[int]] = {}
        for i in self.todo:
            found = self.infos.get(i)
            if found is not None and 0 < found.frames <= denoiser.enhancer.plan(found.sample_rate)[0]:
                by_rate.setdefault(found.sample_rate, []).append(i)
        return [(rate, files[k:k + FILES_PER_GROUP]) for rate, files in by_rate.items()
                for k in range(0, len(files), FILES_PER_GROUP)]

    def _finish(self, index: int, result: FileResult) -> None:
        self.report.files[index] = result
        if self.on_result is not None and result.status in (DENOISED, FAILED):
            self.on_result(result)

    def _here(self, bar: "_Display", sizes: dict[int, float], raise_errors: bool) -> None:
        denoiser = FileDenoiser(self.model, self.options)
        done = set()
        for rate, group in [] if raise_errors else self._groups(denoiser):
            if self.stop["stop"]:
                return
            bar.describe(f"{len(group)} short files")
            pairs = [(Path(self.report.files[i].input), Path(self.report.files[i].output)) for i in group]
            for i, result in zip(group, denoiser.run_together(pairs, rate)):
                bar.advance(sizes[i])
                self._finish(i, result)
            done.update(group)
        for i in self.todo:
            if self.stop["stop"]:
                break
            if i in done:
                continue
            f = self.report.files[i]
            bar.describe(Path(f.input).name)
            self._finish(i, denoiser.run(Path(f.input), Path(f.output), lambda: self.stop["stop"], bar.advance,
                                         raise_errors=raise_errors))

    def _in_workers(self, bar: "_Display", sizes: dict[int, float]) -> None:
        from sigdae.denoise_jobs import run_pool, start_method, threads_per_job

        jobs = min(self.jobs, len(self.todo))
        pairs = [(Path(self.report.files[i].input), Path(self.report.files[i].output)) for i in self.todo]

        def on_result(k: int, result: FileResult) -> None:
            bar.advance(sizes[self.todo[k]])
            self._finish(self.todo[k], result)

        bar.describe(f"denoising in {jobs} processes")
        stopped = run_pool(self.model.path, self.device, self.options, pairs, jobs,
                           self.threads or threads_per_job(jobs), lambda: self.stop["stop"], on_result,
                           method=start_method(self.model.device.type))
        if stopped and not self.stop["stop"]:  # a worker was asked to stop (SIGTERM to the process group)
            self.stop.update(stop=True, signal=self.stop.get("signal", signal.SIGTERM))


class _Display:
    """A Rich progress bar on stderr (only on a terminal): seconds of audio, or images."""

    def __init__(self, enabled: bool, total: float, images: bool):
        self.progress = None
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        console = Console(stderr=True)
        if console.is_terminal:
            amount = MofNCompleteColumn() if images else TextColumn("{task.percentage:>3.0f}%")
            self.progress = Progress(TextColumn("{task.description}"), BarColumn(), amount, TimeRemainingColumn(),
                                     console=console, transient=True, redirect_stdout=False)
            self.task = self.progress.add_task("denoising", total=total)

    def __enter__(self) -> "_Display":
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.progress is not None:
            self.progress.stop()

    def describe(self, name: str) -> None:
        if self.progress is not None:
            self.progress.update(self.task, description=f"denoising {name}")

    def advance(self, amount: float) -> None:
        if self.progress is not None:
            self.progress.advance(self.task, amount)
