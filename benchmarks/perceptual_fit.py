"""How closely the ``perceptual`` loss tracks the real wide-band PESQ on a folder of pairs.

For every file of PAIRS/clean/ it scores the degraded versions (PAIRS/noisy/ and any --enhanced
folders holding files of the same names) with the real PESQ (``pesq`` package, the metrics extra)
and with the loss's two disturbances, then prints, for each --level, the Pearson correlation between
PESQ's raw score and the loss at its default weights (over all versions and per folder) and the
least-squares weights that fit the processed versions best (how the loss's defaults were set).

    python benchmarks/speech_valpairs.py --clean-dir ... --noise-dir ... --out valpairs
    sigdae denoise valpairs/noisy valpairs_enhanced
    python benchmarks/perceptual_fit.py --pairs valpairs --enhanced valpairs_enhanced --limit 100
"""

from __future__ import annotations

import argparse
import math
import os
import sys

import torch

from sigdae import audio, metrics
from sigdae.losses.perceptual import PerceptualLoss


def raw_pesq(mos: float) -> float:
    """Inverse of P.862.2's mapping from the raw score to MOS-LQO."""
    return (3.8224 - math.log(4.0 / (mos - 0.999) - 1.0)) / 1.3669


def pearson(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / (a.norm() * b.norm()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", required=True, help="folder with clean/ and noisy/")
    parser.add_argument("--enhanced", action="append", default=[], help="folder of processed noisy files")
    parser.add_argument("--levels", default="1e6,1e7,1e8", help="comma-separated loss levels to try")
    parser.add_argument("--limit", type=int, default=0, help="use the first N files only")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    names = sorted(os.listdir(os.path.join(args.pairs, "clean")))[: args.limit or None]
    folders = [os.path.join(args.pairs, "noisy"), *args.enhanced]
    refs, degs, folder_of = [], [], []
    for name in names:
        clean = audio.load(os.path.join(args.pairs, "clean", name), sample_rate=16000, mono=True)[0]
        for index, folder in enumerate(folders):
            refs.append(clean)
            degs.append(audio.load(os.path.join(folder, name), sample_rate=16000, mono=True)[0])
            folder_of.append(index)
    folder_of = torch.tensor(folder_of)
    target = torch.tensor([raw_pesq(metrics.pesq_wb(d, r, 16000)) for d, r in zip(degs, refs)])
    print(f"{len(names)} files x {len(folders)} versions; raw PESQ mean {target.mean():.3f} (sd {target.std():.3f})")
    # the fit uses the processed versions when there are any: those are what a training run moves
    fit_rows = folder_of > 0 if args.enhanced else torch.ones_like(folder_of, dtype=torch.bool)

    for level in (float(v) for v in args.levels.split(",")):
        loss = PerceptualLoss(level=level)
        sym, asym = zip(*(loss.disturbances(d[None], r[None]) for d, r in zip(degs, refs)))
        sym, asym = torch.cat(sym), torch.cat(asym)
        value = loss.sym_weight * sym + loss.asym_weight * asym
        per_folder = ", ".join(f"{os.path.basename(os.path.normpath(f))} {pearson(target[folder_of == i], -value[folder_of == i]):.3f}"
                               for i, f in enumerate(folders))
        design = torch.stack([torch.ones_like(sym), sym, asym], dim=1).double()[fit_rows]
        coef = torch.linalg.lstsq(design, target.double()[fit_rows, None]).solution[:, 0]
        print(f"level {level:g}: Pearson r(raw PESQ, -loss) all {pearson(target, -value):.3f}; {per_folder}\n"
              f"  least squares on {'the processed versions' if args.enhanced else 'all'}: raw PESQ = "
              f"{coef[0]:.3f} {coef[1]:+.3f} D_sym {coef[2]:+.4f} D_asym "
              f"(r {pearson(target[fit_rows], (design @ coef).float()):.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
