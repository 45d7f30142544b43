"""``sigdae denoise - -``: audio from standard input, to standard output, or both.

Standard input is copied to a private temporary folder first (pipes cannot seek, and most audio headers
need it); the output is made there too and copied to standard output only once it is complete, so a
failure or an interrupt never sends half a file. Only audio goes to standard output. Memory stays flat:
both copies are files, deleted at the end whatever happens.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Callable

from sigdae.api import LoadedModel
from sigdae.denoise_plan import STDIO, DenoiseError
from sigdae.denoise_report import NOT_STARTED, DenoiseReport, FileResult
from sigdae.denoise_work import Options
from sigdae.errors import SigdaeError
from sigdae.interrupts import Interrupted, graceful_stop, signals_raise

STDIN, STDOUT = "standard input", "standard output"
_BLOCK = 1 << 20


def denoise_stdio(src: str, dst: str, model: LoadedModel, options: Options, overwrite: bool,
                  one_file: Callable[[Path, Path], DenoiseReport]) -> DenoiseReport:
    """Denoise with ``-`` as ``src`` and/or ``dst``; ``one_file(input, output)`` denoises between files."""
    if model.signal == "image":
        raise DenoiseError(f"{model.path} is an image model: standard input and output carry audio "
                           "(give image file names instead of -)")
    if options.format and dst != STDIO:
        raise DenoiseError("--format is for standard output (OUT -): a file's format comes from its extension")
    if dst != STDIO:
        _check_output_file(Path(dst), overwrite)
    elif _is_terminal(sys.stdout):
        raise DenoiseError("standard output is a terminal: send the audio to a file or a pipe "
                           "(sigdae denoise IN - > out.wav)")
    with tempfile.TemporaryDirectory(prefix="sigdae-") as folder:
        names = {folder: "(temporary folder)"}
        src_path = Path(folder) / "stdin" if src == STDIO else Path(src)
        out_path = Path(folder) / "stdout.wav" if dst == STDIO else Path(dst)
        names.update({str(src_path): STDIN} if src == STDIO else {})
        names.update({str(out_path): STDOUT} if dst == STDIO else {})
        stop: dict = {"stop": False}  # a signal between the steps below
        try:
            with graceful_stop(stop):
                if src == STDIO:
                    _spool_stdin(src_path)
                report = one_file(src_path, out_path)
                if stop["stop"] and not report.interrupted:
                    report.signal = stop.get("signal")
                if dst == STDIO and not report.interrupted:
                    _copy_to_stdout(out_path)
        except Interrupted as caught:
            report = DenoiseReport(src, dst, False, [FileResult(src, dst, NOT_STARTED)], signal=caught.signum)
        except SigdaeError as exc:
            raise _renamed(exc, names) from None
    return _relabelled(report, src, dst)


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _check_output_file(dst: Path, overwrite: bool) -> None:
    if dst.is_dir() or os.fspath(dst).endswith(("/", os.sep)):
        raise DenoiseError(f"{dst} is a folder: name the output file (standard input has no name to use)")
    if dst.exists() and not overwrite:
        raise DenoiseError(f"{dst} exists (pass --overwrite to replace it)")


def _spool_stdin(path: Path) -> None:
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:
        raise DenoiseError("standard input is closed: pipe audio into sigdae denoise -")
    if _is_terminal(stream):
        raise DenoiseError("standard input is a terminal: pipe audio into it "
                           "(ffmpeg -i talk.m4a -f wav - | sigdae denoise - out.wav)")
    with signals_raise(), open(path, "wb") as f:
        shutil.copyfileobj(stream, f, _BLOCK)
    if path.stat().st_size == 0:
        raise DenoiseError("standard input is empty: no audio to denoise")


def _copy_to_stdout(path: Path) -> None:
    sys.stdout.flush()
    out = sys.stdout.buffer
    try:
        with signals_raise(), open(path, "rb") as f:
            shutil.copyfileobj(f, out, _BLOCK)
            out.flush()
    except BrokenPipeError:
        # Python would complain again when it flushes stdout at exit: point it at nothing
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise DenoiseError("standard output was closed before all the audio was written") from None


def _renamed(exc: SigdaeError, names: dict[str, str]) -> SigdaeError:
    """The same error with the temporary files called standard input/output."""
    text = str(exc)
    for path, name in sorted(names.items(), key=lambda item: -len(item[0])):
        preposition = "from" if name == STDIN else "to"
        text = text.replace(f"audio file {path}", f"audio {preposition} {name}").replace(path, name)
    renamed = type(exc).__new__(type(exc))
    renamed.args = (text,)
    return renamed


def _relabelled(report: DenoiseReport, src: str, dst: str) -> DenoiseReport:
    for f in report.files:
        f.input = src if src == STDIO else f.input
        f.output = dst if dst == STDIO else f.output
    report.input, report.output = src, dst
    return report
