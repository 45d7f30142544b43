"""``sigdae denoise IN OUT``: a file or a folder, images or audio; the bundled speech model by default."""

from __future__ import annotations

import argparse

from sigdae.errors import UsageError


def add_parser(sub) -> None:
    p = sub.add_parser("denoise", help="denoise a file or a folder (audio, or images with an image model)",
                       description="Denoise IN into OUT (both files, or both folders). Without --model, the "
                                   "bundled speech model is used.")
    p.add_argument("input", metavar="IN", help="a file, or a folder (searched recursively)")
    p.add_argument("output", metavar="OUT", help="the output file, or folder (subfolders are kept)")
    p.add_argument("--model", help="run directory or checkpoint (default: the bundled speech model)")
    p.add_argument("--strength", type=float, default=1.0, help="0..1: blend of denoised and input (default 1)")
    p.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:N or mps")
    p.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's choice)")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary line")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from sigdae.denoise_files import denoise_path

    if not 0.0 <= args.strength <= 1.0:
        raise UsageError(f"--strength must be in [0, 1], got {args.strength}")
    pairs = denoise_path(args.input, args.output, args.model, strength=args.strength, device=args.device,
                         overwrite=args.overwrite, progress=not args.quiet)
    if not args.quiet:
        print(f"denoised {len(pairs)} file{'s' if len(pairs) != 1 else ''} -> {args.output}")
    return 0
