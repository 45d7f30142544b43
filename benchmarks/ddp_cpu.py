"""Distributed data parallel training on the CPU: 1 process x 1 thread against 2 processes x 1 thread,
side by side in one run (alternating), at the same global batch.

    python benchmarks/ddp_cpu.py --out bench-runs/ddp [--clean-dir SPEECH_FOLDER] [--repeats 2]

Each configuration trains a recipe for a fixed number of steps with ``torch.distributed.run`` (gloo) and
reads the step events: throughput is global samples over the training time between the second and the
last step (start-up and the first step excluded). Recipes: ``mnist`` (the bundled digits) and
``speech-spec`` (on ``--clean-dir``, or on generated voiced speech when it is not given).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from sigdae.report import Column, markdown_table
from sigdae.runs import read_events

RECIPES = {
    "mnist": dict(steps=40, batch=64, extra=[]),
    "speech-spec": dict(steps=6, batch=16, extra=["--set", "data.val_segments=4", "--set", "data.workers=0",
                                                  "--corruption", "colored_noise(color=white)"]),
}


def generated_speech(folder: Path, rate: int = 16000) -> Path:
    """Voiced, speech-like recordings of 8 speakers (2 files of 6 s each): enough for a training set."""
    rng = np.random.default_rng(0)
    for speaker in range(8):
        for utt in range(2):
            path = folder / str(300 + speaker) / "1" / f"{300 + speaker}-1-{utt}.flac"
            if path.exists():
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            t = np.arange(6 * rate) / rate
            f0 = 100 + 15 * speaker + 20 * np.sin(2 * np.pi * 0.5 * t)
            phase = 2 * np.pi * np.cumsum(f0) / rate
            voice = sum(np.sin(k * phase + rng.uniform(0, 6)) / k for k in range(1, 30))
            envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t + rng.uniform(0, 6))
            sf.write(path, (0.1 * voice * envelope).astype(np.float32), rate)
    return folder


def train(recipe: str, processes: int, run_dir: Path, clean_dir: Path | None) -> float:
    """Global samples per second of ``processes`` x 1-thread training."""
    spec = RECIPES[recipe]
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"]
    args = ["-m", "sigdae", "train", "--recipe", recipe, "--run-dir", str(run_dir), "--device", "cpu", "--quiet",
            "--threads", "1", "--epochs", "1", "--batch-size", str(spec["batch"]),
            "--set", f"train.steps_per_epoch={spec['steps']}", "--set", "train.log_every_s=0", *spec["extra"]]
    if clean_dir is not None:
        args += ["--clean-dir", str(clean_dir)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run([*launcher, *args], check=True, env=env, capture_output=True)
    steps = [e for e in read_events(run_dir / "events.jsonl") if e["type"] == "step"]
    first, last = steps[1], steps[-1]
    return (last["step"] - first["step"]) * spec["batch"] / (last["elapsed"] - first["elapsed"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="bench-runs/ddp")
    ap.add_argument("--clean-dir", help="clean speech for speech-spec (default: generated voiced speech)")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--recipes", nargs="+", default=list(RECIPES), choices=list(RECIPES))
    args = ap.parse_args()
    out = Path(args.out)
    clean = Path(args.clean_dir) if args.clean_dir else generated_speech(out / "speech")
    results = {}
    for recipe in args.recipes:
        rates = {1: [], 2: []}
        for repeat in range(args.repeats):
            for processes in (1, 2):
                run = out / f"{recipe}-{processes}p-{repeat}"
                rates[processes].append(train(recipe, processes, run, clean if recipe != "mnist" else None))
                print(f"{recipe} {processes} x 1 thread: {rates[processes][-1]:.1f} samples/s", flush=True)
        best = {p: max(v) for p, v in rates.items()}
        results[recipe] = {"one": best[1], "two": best[2], "ratio": best[2] / best[1], "all": rates}
    rows = [[recipe, f"{r['one']:.1f}", f"{r['two']:.1f}", f"{r['ratio']:.2f}"] for recipe, r in results.items()]
    print(markdown_table(["recipe", Column("1 x 1 thread samples/s", "right"),
                          Column("2 x 1 thread samples/s", "right"), Column("ratio", "right")], rows))
    (out / "results.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
