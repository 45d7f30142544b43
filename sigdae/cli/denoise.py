"""``sigdae denoise IN OUT``: a file, a folder or a pipe, images or audio; the bundled speech model by default.

Exit status: 0 when every file was denoised (or skipped, its output already there); 1 when some files of
a folder failed (each reported in one line, the others written); 2 for a usage error or a single file
that cannot be denoised; 128 + the signal's number (130, 143) when interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys

from sigdae.cli.common import add_json_flag
from sigdae.errors import UsageError

EXIT_SOME_FAILED = 1


def add_parser(sub) -> None:
    p = sub.add_parser("denoise", help="denoise a file, a folder or a pipe (audio, or images with an image model)",
                       description="Denoise IN into OUT: a file into a file (or into a folder, keeping its "
                                   "name), a folder into a folder, or - for standard input/output (audio, WAV "
                                   "unless --format says otherwise). Without --model, the bundled speech "
                                   "model is used. In a folder, bad files are reported and the others "
                                   "denoised (exit status 1 if any failed); outputs already there are "
                                   "skipped unless --overwrite.")
    p.add_argument("input", metavar="IN", help="a file, a folder (searched recursively), or - for standard input")
    p.add_argument("output", metavar="OUT", help="the output file, a folder (subfolders are kept; a file's "
                                                 "name is kept in it), or - for standard output")
    p.add_argument("--model", help="run directory, checkpoint, .onnx file, or a bundled model: speech (default) or "
                        "realtime (causal, 20 ms latency)")
    p.add_argument("--strength", type=float, default=1.0, help="0..1: blend of denoised and input (default 1)")
    p.add_argument("--band", choices=("full", "model"), default="full",
                   help="full (default): an input above the model's rate keeps its whole bandwidth, noise "
                        "reduced across it; model: the model's band alone (8 kHz for the bundled model)")
    p.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:N or mps")
    p.add_argument("--threads", type=int, help="CPU threads for torch (per process with --jobs; default: "
                                               "torch's choice, or the CPUs shared out between jobs)")
    p.add_argument("--jobs", type=int, default=1, help="denoise a folder's files in N processes (default 1)")
    p.add_argument("--format", help="container for standard output: WAV (default), FLAC, OGG, ...")
    p.add_argument("--subtype", help="sample format of audio outputs, e.g. PCM_16, PCM_24, FLOAT (default: the "
                                     "input's where the output format allows it)")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs (a folder skips them "
                                                            "otherwise)")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary line")
    add_json_flag(p, "a report of every file (input, output, status, seconds, error)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from sigdae.denoise_files import STDIO, denoise_path
    from sigdae.interrupts import exit_status

    if not 0.0 <= args.strength <= 1.0:
        raise UsageError(f"--strength must be in [0, 1], got {args.strength}")
    if args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {args.jobs}")
    to_stdout = args.output == STDIO
    if to_stdout and args.json:
        raise UsageError("--json prints to standard output, which carries the audio when OUT is -")
    messages = sys.stderr if to_stdout or args.json else sys.stdout

    def on_result(result) -> None:
        if result.error:
            print(f"sigdae: failed: {result.error}", file=sys.stderr, flush=True)

    report = denoise_path(args.input, args.output, args.model, strength=args.strength, device=args.device,
                          overwrite=args.overwrite, progress=not args.quiet, jobs=args.jobs, threads=args.threads,
                          subtype=args.subtype, format=args.format, band=args.band,
                          on_result=on_result)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    if report.interrupted:
        print(f"sigdae: {report.interruption()}", file=sys.stderr)
        return exit_status(report.signal)
    if not args.quiet:
        print(report.summary(), file=messages)
    return EXIT_SOME_FAILED if report.failed else 0
