"""Write the training side's validation mixtures as noisy/clean pairs, for choosing between speech models.

    python benchmarks/speech_valpairs.py --clean-dir speechdata/clean_train --noise-dir speechdata/noise_train \
        --rir-dir speechdata/rir_train --out valpairs
    sigdae eval runs/A --pairs valpairs --json      # PESQ-WB, STOI, SI-SDR of each candidate

The mixtures are what ``sigdae train --recipe speech-spec`` validates on (speakers held out of training by
its speaker split, the recipe's own corruption), with more and longer segments. They come from the
training material only, so choosing a model on them leaves the benchmark's held-out set unseen.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import soundfile as sf
import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clean-dir", required=True)
    parser.add_argument("--noise-dir", required=True)
    parser.add_argument("--rir-dir")
    parser.add_argument("--out", required=True)
    parser.add_argument("--segments", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--seed", type=int, default=123)
    parser.add_argument("--noise-eq-db", type=float, help="random EQ on the noise recordings (default: the recipe's)")
    parser.add_argument("--corruption", help="a corruption spec in place of the recipe's noise chain "
                                             "(e.g. 'oneof(rumble, tones)')")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override the recipe, as `sigdae train --set` does (e.g. data.rumble=0)")
    args = parser.parse_args()
    torch.set_num_threads(1)

    from sigdae.config import ConfigError, apply_override
    from sigdae.recipes import recipe
    from sigdae.trainer import Trainer

    config = recipe("speech-spec")
    config["data"].update(clean_dirs=[args.clean_dir], noise_dirs=[args.noise_dir], rir_dir=args.rir_dir,
                          val_segments=args.segments, val_seconds=args.seconds)
    if args.noise_eq_db is not None:
        config["data"]["noise_eq_db"] = args.noise_eq_db
    if args.corruption:
        config["corruption"]["spec"] = args.corruption
    for item in args.set:
        try:
            apply_override(config, item)
        except ConfigError as exc:
            parser.error(str(exc))
    config.update(seed=args.seed, device="cpu")
    task = Trainer(config).task
    rate = task.sample_rate
    for side, batch in (("clean", task.val_clean), ("noisy", task.val_noisy)):
        folder = Path(args.out) / side
        folder.mkdir(parents=True, exist_ok=True)
        for i, wave in enumerate(batch):
            sf.write(folder / f"{i:03d}.wav", wave[0].numpy(), rate, subtype="FLOAT")
    print(f"{len(task.val_clean)} pairs of {args.seconds:g} s in {args.out}")


if __name__ == "__main__":
    main()
