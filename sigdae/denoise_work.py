"""Denoise one file into one output: the unit of work of ``denoise`` (in the main process or a worker).

A user's mistake about one file (unreadable, not audio, empty, non-finite samples, an output that cannot
be written) becomes a failed :class:`~sigdae.denoise_report.FileResult` with a one-line reason, so a
folder goes on with the next file. Outputs are written atomically: an interrupted or failed file leaves
no partial output and no temporary file.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import soundfile as sf

from sigdae import audio
from sigdae.api import LoadedModel
from sigdae.denoise_report import DENOISED, FAILED, INTERRUPTED, FileResult
from sigdae.errors import DataError, SigdaeError
from sigdae.interrupts import StopRequested

# What one bad file can raise: reported for that file, the others go on. Anything else is a bug.
FILE_ERRORS = (SigdaeError, OSError, sf.SoundFileError)


@dataclass(frozen=True)
class Options:
    """How outputs are made: ``strength`` blends denoised and input; ``subtype`` and ``format`` choose the
    audio sample format and container (default: the input's subtype where the output format allows it,
    the format from the output's extension); ``band`` is ``full`` or ``model`` (see
    :class:`~sigdae.enhance.Enhancer`)."""

    strength: float = 1.0
    band: str = "full"
    subtype: str | None = None
    format: str | None = None


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


class FileDenoiser:
    """Denoise files one at a time with one loaded model."""

    def __init__(self, model: LoadedModel, options: Options = Options()):
        self.model, self.options = model, options
        self._enhancer = None

    @property
    def enhancer(self):
        if self._enhancer is None:
            from sigdae.enhance import Enhancer

            self._enhancer = Enhancer(self.model, strength=self.options.strength, band=self.options.band)
        return self._enhancer

    def run(self, src: Path, dst: Path, should_stop: Callable[[], bool] = lambda: False,
            advance: Callable[[float], None] = lambda amount: None, raise_errors: bool = False) -> FileResult:
        """Denoise ``src`` into ``dst``; ``advance`` gets seconds of audio (or 1 per image) as work is
        done, and ``should_stop`` is asked between chunks (True abandons the file, its output unwritten).
        A bad file gives a failed result, or raises (a :class:`SigdaeError`) with ``raise_errors``."""
        result = FileResult(str(src), str(dst))
        started = time.perf_counter()
        try:
            if self.model.signal == "image":
                self._image(src, dst)
                advance(1.0)
            else:
                self._audio(src, dst, should_stop, advance)
            result.status = DENOISED
        except StopRequested:
            result.status = INTERRUPTED
        except FILE_ERRORS as exc:
            if raise_errors:
                if isinstance(exc, SigdaeError):
                    raise
                raise DataError(_naming(exc, src)) from None
            result.status, result.error = FAILED, _naming(exc, src)
        result.seconds = round(time.perf_counter() - started, 4)
        return result

    def _image(self, src: Path, dst: Path) -> None:
        from sigdae.images import read_image_file, write_image_file

        image = read_image_file(src)
        noisy = image.planes
        out = self.model.denoise(noisy)
        out = self.options.strength * out + (1 - self.options.strength) * noisy
        write_image_file(dst, image, out)

    def _audio(self, src: Path, dst: Path, should_stop: Callable[[], bool], advance: Callable[[float], None]) -> None:
        info = audio.info(src)
        audio.check_finite(src)

        def on_progress(frames: int) -> None:
            advance(frames / info.sample_rate)
            if should_stop():
                raise StopRequested

        self.enhancer.enhance_file(src, dst, on_progress, subtype=self.options.subtype, format=self.options.format)


    def run_together(self, pairs: list[tuple[Path, Path]], rate: int) -> list[FileResult]:
        """Short audio files at one sample rate, each no longer than a chunk, read whole and enhanced together
        (on a GPU, many per model call: ``Enhancer.enhance_many``); each output is written atomically. The
        outputs equal :meth:`run`'s."""
        results = [FileResult(str(src), str(dst)) for src, dst in pairs]
        started = time.perf_counter()
        signals, infos, ok = [], [], []
        for k, (src, _) in enumerate(pairs):
            try:
                signals.append(audio.read(src)[0])
                infos.append(audio.info(src))
                ok.append(k)
            except FILE_ERRORS as exc:
                results[k].status, results[k].error = FAILED, _naming(exc, src)
        outputs = self.enhancer.enhance_many(signals, rate) if signals else []
        for k, info, out in zip(ok, infos, outputs):
            src, dst = pairs[k]
            try:
                dst.parent.mkdir(parents=True, exist_ok=True)
                overrides = {key: v for key, v in (("subtype", self.options.subtype), ("format", self.options.format)) if v}
                with audio.StreamWriter.like(dst, info, **overrides) as writer:
                    writer.write(out)
                results[k].status = DENOISED
            except FILE_ERRORS as exc:
                results[k].status, results[k].error = FAILED, _naming(exc, src)
        share = round((time.perf_counter() - started) / max(1, len(pairs)), 4)
        for result in results:
            result.seconds = share
        return results


def _naming(exc: BaseException, src: Path) -> str:
    """The error's line, with the input's name in front unless the line already names it."""
    if isinstance(exc, FileExistsError) and exc.filename:
        line = f"cannot make the folder {exc.filename}: a file of that name is in the way"
    elif isinstance(exc, OSError) and exc.strerror:
        line = f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    else:
        line = one_line(exc)
    return line if str(src) in line else f"{src}: {line}"
