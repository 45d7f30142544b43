"""Distributed data parallel training on the CPU: 1 process x 1 thread against 2 processes x 1 thread,
side by side in one run (alternating), at the same global batch; and, as the host's own ceiling, two
independent single-process runs at half the batch each, at the same time (no communication).

    python benchmarks/ddp_cpu.py --out bench-runs/ddp [--clean-dir SPEECH_FOLDER] [--repeats 2]

Each configuration trains a recipe for a fixed number of steps with ``torch.distributed.run`` (gloo) and
reads the step events: throughput is global samples over the training time between the second and the
last step (start-up and the first step excluded). Recipes: ``mnist`` (the bundled digits) and
``speech-spec`` (on ``--clean-dir``, or on the scale benchmark's speech-like corpus when it is not given).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from sigdae.report import Column, markdown_table
from sigdae.runs import read_events

sys.path.insert(0, str(Path(__file__).parent))
from scale import build_corpus  # noqa: E402

RECIPES = {
    "mnist": dict(steps=40, batch=64, extra=[]),
    "speech-spec": dict(steps=6, batch=16, extra=["--set", "data.val_segments=4", "--set", "data.workers=0",
                                                  "--corruption", "colored_noise(color=white)"]),
}


SPEECH_HOURS = 160 * 6 / 3600  # 160 files of 6 s, 20 per speaker: 8 speakers


def generated_speech(root: Path) -> Path:
    """The scale benchmark's speech-like corpus (benchmarks/scale.py), 8 speakers, 16 min."""
    build_corpus(root, SPEECH_HOURS, file_seconds=6.0, distinct=16)
    return root / f"clean_{SPEECH_HOURS:g}h"


def _command(recipe: str, run_dir: Path, clean_dir: Path | None, batch: int) -> list[str]:
    spec = RECIPES[recipe]
    args = ["-m", "sigdae", "train", "--recipe", recipe, "--run-dir", str(run_dir), "--device", "cpu", "--quiet",
            "--threads", "1", "--epochs", "1", "--batch-size", str(batch),
            "--set", f"train.steps_per_epoch={spec['steps']}", "--set", "train.log_every_s=0", *spec["extra"]]
    return args + (["--clean-dir", str(clean_dir)] if clean_dir is not None else [])


def _rate(run_dir: Path, batch: int) -> float:
    """Samples per second between the second and the last step of a run."""
    steps = [e for e in read_events(run_dir / "events.jsonl") if e["type"] == "step"]
    first, last = steps[1], steps[-1]
    return (last["step"] - first["step"]) * batch / (last["elapsed"] - first["elapsed"])


ONE_THREAD = {**os.environ, "OMP_NUM_THREADS": "1"}


def train(recipe: str, processes: int, run_dir: Path, clean_dir: Path | None) -> float:
    """Global samples per second of ``processes`` x 1-thread training (DDP over gloo when 2)."""
    batch = RECIPES[recipe]["batch"]
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"]
    subprocess.run([*launcher, *_command(recipe, run_dir, clean_dir, batch)], check=True, env=ONE_THREAD,
                   capture_output=True)
    return _rate(run_dir, batch)


def independent(recipe: str, run_dir: Path, clean_dir: Path | None) -> float:
    """Summed samples per second of two single-process runs at half the batch, side by side."""
    half = RECIPES[recipe]["batch"] // 2
    runs = [run_dir / f"part{k}" for k in range(2)]
    procs = [subprocess.Popen([sys.executable, *_command(recipe, run, clean_dir, half)], env=ONE_THREAD,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for run in runs]
    if any(p.wait() != 0 for p in procs):
        raise SystemExit(f"an independent {recipe} run failed")
    return sum(_rate(run, half) for run in runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="bench-runs/ddp")
    ap.add_argument("--clean-dir", help="clean speech for speech-spec (default: a generated speech-like corpus)")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--recipes", nargs="+", default=list(RECIPES), choices=list(RECIPES))
    args = ap.parse_args()
    out = Path(args.out)
    clean = Path(args.clean_dir) if args.clean_dir else generated_speech(out / "speech")
    results = {}
    for recipe in args.recipes:
        rates = {"one": [], "ddp": [], "independent": []}
        speech = clean if recipe != "mnist" else None
        for repeat in range(args.repeats):
            rates["one"].append(train(recipe, 1, out / f"{recipe}-1p-{repeat}", speech))
            rates["ddp"].append(train(recipe, 2, out / f"{recipe}-2p-{repeat}", speech))
            rates["independent"].append(independent(recipe, out / f"{recipe}-apart-{repeat}", speech))
            print(recipe, {key: round(values[-1], 2) for key, values in rates.items()}, flush=True)
        best = {key: max(values) for key, values in rates.items()}
        results[recipe] = {**best, "ddp_ratio": best["ddp"] / best["one"],
                           "independent_ratio": best["independent"] / best["one"], "all": rates}
    rows = [[recipe, f"{r['one']:.1f}", f"{r['ddp']:.1f}", f"{r['ddp_ratio']:.2f}", f"{r['independent']:.1f}",
             f"{r['independent_ratio']:.2f}"] for recipe, r in results.items()]
    print(markdown_table(["recipe", Column("1 x 1 thread samples/s", "right"), Column("DDP 2 x 1 samples/s", "right"),
                          Column("DDP ratio", "right"), Column("2 independent samples/s", "right"),
                          Column("independent ratio", "right")], rows))
    (out / "results.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
