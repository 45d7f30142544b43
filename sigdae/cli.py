"""The ``sigdae`` command: train, eval, denoise, corruptions, demo, tui.

Errors in what the user gave (arguments, files, configs) print one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from sigdae import __version__

EXIT_USAGE = 2


class UsageError(ValueError):
    """Bad command-line input."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not the usage block
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def _add_train(sub) -> None:
    p = sub.add_parser("train", help="train a model from a recipe or a TOML config",
                       description="Train a model. Start from --recipe NAME or --config FILE; flags override it.")
    p.add_argument("--recipe", help="named recipe (see `sigdae recipes`)")
    p.add_argument("--config", help="TOML run config (a recipe's keys: task, model, corruption, loss, data, train)")
    p.add_argument("--run-dir", help="where the run is written (default: runs/<recipe>-<time>)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run from its last.pt")
    p.add_argument("--init", metavar="RUN_OR_CHECKPOINT",
                   help="start from this model's weights (fine-tuning; its architecture replaces [model]); "
                        "'bundled' is the bundled speech model")
    p.add_argument("--epochs", type=int)
    p.add_argument("--max-minutes", type=float, help="wall-time budget; the lr schedule anneals by time")
    p.add_argument("--seed", type=int)
    p.add_argument("--device", help="auto (default), cpu, cuda, cuda:N or mps")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="sigdae", description="Denoising autoencoders for images and sound.")
    parser.add_argument("--version", action="version", version=f"sigdae {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _add_train(sub)

    p = sub.add_parser("eval", help="score a model: PSNR/SSIM on MNIST test, or speech metrics on pairs")
    p.add_argument("model", metavar="RUN_OR_CHECKPOINT")
    p.add_argument("--corruption", help="evaluate at this corruption instead of the training one")
    p.add_argument("--pairs", help="speech: folder of pairs (clean/ + noisy/)")
    p.add_argument("--limit", type=int, default=0, help="only the first N test items")
    p.add_argument("--device", default="auto")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("denoise", help="denoise a file or a folder (audio, or images with an image model)",
                       description="Denoise IN into OUT (both files, or both folders). Without --model, the "
                                   "bundled speech model is used.")
    p.add_argument("input", metavar="IN")
    p.add_argument("output", metavar="OUT")
    p.add_argument("--model", help="run directory or checkpoint (default: the bundled speech model)")
    p.add_argument("--strength", type=float, default=1.0, help="0..1: blend of denoised and input (default 1)")
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's choice)")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    p.add_argument("--quiet", action="store_true")

    p = sub.add_parser("corruptions", help="list, describe and preview corruptions")
    csub = p.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    csub.add_parser("list", help="every registered corruption (plugins included)")
    q = csub.add_parser("show", help="a corruption's parameters")
    q.add_argument("name")
    q = csub.add_parser("preview", help="write a PNG of a corruption applied to MNIST digits")
    q.add_argument("spec", help="a name or a spec, e.g. 'salt_pepper(amount=0.2)'")
    q.add_argument("--out", default="corruption-preview.png")
    q.add_argument("--seed", type=int, default=0)

    sub.add_parser("recipes", help="list the named training recipes")
    sub.add_parser("models", help="list the registered models")

    p = sub.add_parser("demo", help="train, evaluate and show a small model on bundled data")
    p.add_argument("job", nargs="?", default="mnist", choices=["mnist"])
    p.add_argument("--minutes", type=float, default=1.5, help="training budget for the conv model")
    p.add_argument("--run-dir", default="runs/demo-mnist")
    p.add_argument("--device", default="auto")

    p = sub.add_parser("export", help="write an inference-only checkpoint of a run (to share or bundle)")
    p.add_argument("model", metavar="RUN_OR_CHECKPOINT")
    p.add_argument("output", metavar="OUT.pt")
    p.add_argument("--note", default="", help="a line stored with the weights (e.g. training data, licence)")
    p.add_argument("--average", action="append", default=[], metavar="RUN_OR_CHECKPOINT",
                   help="average the weights with this run's (repeatable; same architecture, e.g. runs "
                        "fine-tuned from one model with different seeds)")

    p = sub.add_parser("tui", help="the terminal UI: launch, watch and preview runs")
    p.add_argument("--runs-dir", default="runs")
    return parser


# ---- commands ---------------------------------------------------------------------------------
def train_config(args: argparse.Namespace) -> dict[str, Any]:
    from sigdae.config import ConfigError, apply_override, deep_merge, load_toml, set_dotted
    from sigdae.recipes import recipe

    if args.resume:
        config = load_toml(Path(args.resume) / "config.toml")
    elif args.config:
        config = load_toml(args.config)
        if args.recipe:
            config = deep_merge(recipe(args.recipe), config)
    elif args.recipe:
        config = recipe(args.recipe)
    else:
        raise UsageError("sigdae train: give --recipe NAME, --config FILE or --resume RUN_DIR")
    init = args.init
    if init == "bundled":
        from sigdae.enhance import bundled_model_path

        init = str(bundled_model_path())
    overrides = {"train.init": init, "train.epochs": args.epochs, "train.max_minutes": args.max_minutes,
                 "seed": args.seed, "device": args.device, "train.batch_size": args.batch_size, "train.lr": args.lr,
                 "corruption.spec": args.corruption, "loss.spec": args.loss, "data.clean_dirs": args.clean_dir,
                 "data.noise_dirs": args.noise_dir, "data.rir_dir": args.rir_dir, "data.pairs_dir": args.pairs_dir}
    for key, value in overrides.items():
        if value is not None:
            set_dotted(config, key, value)
    for item in args.set:
        try:
            apply_override(config, item)
        except ConfigError as exc:
            raise UsageError(f"sigdae train: {exc}") from None
    return config


def cmd_train(args: argparse.Namespace) -> int:
    from sigdae.progress import ProgressDisplay
    from sigdae.train import Trainer

    config = train_config(args)
    run_dir = args.resume or args.run_dir or f"runs/{config.get('recipe', config['task'])}-{time.strftime('%Y%m%d-%H%M%S')}"
    trainer = Trainer(config, run_dir, listeners=[ProgressDisplay(quiet=args.quiet)], resume=bool(args.resume))
    summary = trainer.fit()
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        print(f"run directory: {summary['run_dir']}")
    return 0 if summary["status"] == "finished" else 1


def cmd_eval(args: argparse.Namespace) -> int:
    from sigdae.api import load_model

    model = load_model(args.model, device=args.device)
    if args.pairs or model.signal == "waveform":
        from sigdae.speech_eval import evaluate_pairs_command

        return evaluate_pairs_command(model, args)
    from sigdae.evaluate import evaluate_mnist

    result = evaluate_mnist(model, args.corruption, args.limit)
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"MNIST test ({result['images']} images), corruption {result['corruption']}")
    for col in ("", "PSNR dB", "SSIM"):
        table.add_column(col, justify="right" if col else "left")
    for name in ("noisy", "denoised"):
        table.add_row("noisy input" if name == "noisy" else Path(result["model"]).parent.name or "model",
                      f"{result[name]['psnr']:.2f}", f"{result[name]['ssim']:.3f}")
    Console().print(table)
    return 0


def cmd_denoise(args: argparse.Namespace) -> int:
    from sigdae.denoise_cli import run_denoise

    return run_denoise(args)


def cmd_corruptions(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from sigdae.corruptions import CORRUPTIONS, parse

    console = Console()
    if args.action in (None, "list"):
        table = Table(title="corruptions (`sigdae corruptions show NAME` for the whole story)")
        rows = []
        for name in CORRUPTIONS.list():
            info = CORRUPTIONS.describe(name)
            origin = "built-in" if info["origin"].startswith("sigdae.") else info["origin"]
            rows.append((name, ", ".join(info["supports"]), info["headline"], origin))
        # one line per corruption at any terminal width: only the summary and a plugin's origin get cut short
        widths = [max(len(row[col]) for row in rows) for col in range(4)]
        widths[3] = min(widths[3], 30)
        frame = 5 + 4 * 2  # the table's five vertical rules and two spaces of padding in each of four columns
        widths[2] = max(16, min(widths[2], console.width - frame - widths[0] - widths[1] - widths[3]))
        for title, width in zip(("name", "supports", "summary", "origin"), widths):
            table.add_column(title, no_wrap=True, overflow="ellipsis", max_width=width)
        for row in rows:
            table.add_row(*row)
        console.print(table)
        for failure in CORRUPTIONS.failures.values():  # one plain line each, never wrapped
            print(f"warning: {failure}", file=sys.stderr)
        return 0
    if args.action == "show":
        info = CORRUPTIONS.describe(args.name)
        console.print(f"[bold]{args.name}[/]: {info['summary']}\nsupports: {', '.join(info['supports'])}"
                      f"{'  (needs the sample rate)' if info['needs_sample_rate'] else ''}\norigin: {info['origin']}")
        table = Table()
        for col in ("parameter", "type", "default", "range", "help"):
            table.add_column(col)
        for prm in info["params"]:
            rng = prm.get("range") or prm.get("choices") or ""
            table.add_row(prm["name"], prm["type"], json.dumps(prm["default"]), json.dumps(rng) if rng else "",
                          prm["help"])
        console.print(table)
        return 0
    import torch

    from sigdae.datasets.mnist import MNIST
    from sigdae.images import write_grid

    corruption = parse(args.spec)
    if "image" not in corruption.supports:
        raise UsageError(f"preview draws MNIST digits; {corruption.spec()} does not support images")
    clean = MNIST("test").images[:8]
    noisy = corruption(clean, torch.Generator().manual_seed(args.seed))
    write_grid(args.out, [clean, noisy.clamp(0, 1)])
    print(f"wrote {args.out}: top clean, bottom {corruption.spec()}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from sigdae.models import MODELS
    from sigdae.recipes import RECIPES

    if args.command == "recipes":
        for name, cfg in RECIPES.items():
            print(f"{name:<14} {cfg.get('description', '')}")
    else:
        for name in MODELS.list():
            print(f"{name:<14} {MODELS.describe(name)['summary']}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from sigdae.demo import run_mnist_demo

    return run_mnist_demo(args)


def cmd_export(args: argparse.Namespace) -> int:
    from sigdae.checkpoint import export

    slim = export(args.model, args.output, args.note, average=args.average)
    averaged = f", the mean of {len(slim['averaged_from'])} checkpoints" if args.average else ""
    print(f"wrote {args.output}: {slim['model']['name']} for {slim.get('task', '?')}{averaged}, "
          f"{Path(args.output).stat().st_size / 1e6:.2f} MB")
    return 0


def cmd_tui(args: argparse.Namespace) -> int:
    from sigdae.tui.app import run

    return run(runs_dir=args.runs_dir)


COMMANDS = {"train": cmd_train, "eval": cmd_eval, "denoise": cmd_denoise, "corruptions": cmd_corruptions,
            "recipes": cmd_list, "models": cmd_list, "demo": cmd_demo, "export": cmd_export,
            "tui": cmd_tui}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not args.command:
            parser.print_help()
            return EXIT_USAGE
        if getattr(args, "threads", None) is not None:
            if args.threads < 1:
                raise UsageError(f"sigdae {args.command}: --threads must be at least 1")
            import torch

            torch.set_num_threads(args.threads)
        return COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (ValueError, LookupError, FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        print(f"sigdae: error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("sigdae: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
