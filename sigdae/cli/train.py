"""``sigdae train``: a run from a recipe or a TOML config, with flags and ``--set`` overrides."""

from __future__ import annotations

import argparse
import os
import json
import time
from pathlib import Path
from typing import Any

from sigdae.errors import UsageError


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train a model from a recipe or a TOML config",
                       description="Train a model. Start from --recipe NAME or --config FILE; flags override it.")
    p.add_argument("--recipe", help="named recipe (see `sigdae recipes`)")
    p.add_argument("--config", help="TOML run config (a recipe's keys: task, model, corruption, loss, data, train)")
    p.add_argument("--run-dir", help="where the run is written (default: runs/<recipe>-<time>)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run from its last.pt")
    p.add_argument("--init", metavar="RUN_OR_CHECKPOINT",
                   help="start from this model's weights (fine-tuning; its architecture replaces [model]); "
                        "'bundled' or 'speech' is the bundled speech model, "
                        "'realtime' the bundled low-latency one")
    p.add_argument("--epochs", type=int, help="number of epochs (the recipe's by default)")
    p.add_argument("--max-minutes", type=float, help="wall-time budget; the lr schedule anneals by time")
    p.add_argument("--seed", type=int, help="random seed (runs with the same seed and device repeat exactly)")
    p.add_argument("--device", help="auto (default), cpu, cuda, cuda:N or mps")
    p.add_argument("--batch-size", type=int, help="samples per step")
    p.add_argument("--lr", type=float, help="peak learning rate")
    p.add_argument("--corruption", help="corruption spec, e.g. 'gaussian(std=0.3) + masking(fraction=0.2)'")
    p.add_argument("--loss", help="loss spec, e.g. 'bce' or 'l1*1.0 + stft*0.5'")
    p.add_argument("--clean-dir", action="append", help="speech: folder of clean speech (repeatable)")
    p.add_argument("--noise-dir", action="append", help="speech: folder of noise recordings (repeatable)")
    p.add_argument("--rir-dir", help="speech: folder of room impulse responses")
    p.add_argument("--pairs-dir", help="speech: validation pairs folder (clean/ + noisy/)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override any setting, e.g. --set train.warmup=0.05 --set model.channels=[32,64]")
    p.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's choice)")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(handler=run)


def train_config(args: argparse.Namespace) -> dict[str, Any]:
    """The run config the arguments describe: a recipe, a config file or a run to resume, then the flags."""
    from sigdae.config import apply_override, deep_merge, load_toml, set_dotted
    from sigdae.recipes import recipe

    if args.corruption is not None and not args.corruption.strip():
        raise UsageError("--corruption needs a spec, e.g. 'gaussian(std=0.3)' (see sigdae corruptions list)")
    if args.resume:
        if not Path(args.resume).is_dir():
            raise UsageError(f"--resume {args.resume}: not a run directory")
        config = load_toml(Path(args.resume) / "config.toml")
    elif args.config:
        config = load_toml(args.config)
        if args.recipe:
            config = deep_merge(recipe(args.recipe), config)
    elif args.recipe:
        config = recipe(args.recipe)
    else:
        raise UsageError("train needs --recipe NAME, --config FILE or --resume RUN_DIR")
    init = args.init
    if init:
        from sigdae.bundled import bundled_model_path, resolve

        init = str(bundled_model_path() if init == "bundled" else resolve(init))
    overrides = {"train.init": init, "train.epochs": args.epochs, "train.max_minutes": args.max_minutes,
                 "seed": args.seed, "device": args.device, "train.batch_size": args.batch_size, "train.lr": args.lr,
                 "corruption.spec": args.corruption, "loss.spec": args.loss, "data.clean_dirs": args.clean_dir,
                 "data.noise_dirs": args.noise_dir, "data.rir_dir": args.rir_dir, "data.pairs_dir": args.pairs_dir}
    for key, value in overrides.items():
        if value is not None:
            set_dotted(config, key, value)
    for item in args.set:
        apply_override(config, item)
    return config


def run(args: argparse.Namespace) -> int:
    from sigdae.progress import ProgressDisplay
    from sigdae.trainer import Trainer

    config = train_config(args)
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not (args.resume or args.run_dir):
        raise UsageError("training in several processes needs --run-dir (each process must name the same folder)")
    run_dir = args.resume or args.run_dir or f"runs/{config.get('recipe', config['task'])}-{time.strftime('%Y%m%d-%H%M%S')}"
    trainer = Trainer(config, run_dir, listeners=[ProgressDisplay(quiet=args.quiet)], resume=bool(args.resume))
    summary = trainer.fit()
    if not trainer.group.main:  # under torchrun, rank 0 speaks for the group
        return 0 if summary["status"] == "finished" else 1
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        print(f"run directory: {summary['run_dir']}")
    return 0 if summary["status"] == "finished" else 1
