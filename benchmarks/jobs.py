"""Folder throughput: ``sigdae denoise IN OUT --jobs 1`` against ``--jobs 2`` on many short files, side by side.

    python benchmarks/jobs.py [--files 200] [--seconds 2] [--repeats 2] [--model speech]

Writes ``--files`` clips of ``--seconds`` at 16 kHz (cut from the bundled example at different offsets) into a
temporary folder, then times the whole ``sigdae denoise`` command (start-up included) with each ``--jobs``
value, alternating, ``--repeats`` times, into a fresh output folder each time. Prints the fastest run of each,
files per second and the ratio.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

EXAMPLE = Path(__file__).parents[1] / "assets" / "examples" / "noisy.wav"


def make_clips(folder: Path, files: int, seconds: float) -> None:
    audio, rate = sf.read(EXAMPLE, dtype="float32")
    n = int(seconds * rate)
    audio = np.tile(audio, -(-(n * 2) // audio.size))
    folder.mkdir(parents=True)
    for i in range(files):
        start = (i * 997) % (audio.size - n)
        sf.write(folder / f"clip{i:04d}.wav", audio[start:start + n], rate, subtype="PCM_16")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--model", default="speech", help="a bundled model name, run or checkpoint")
    args = ap.parse_args()
    sigdae = Path(sys.executable).parent / "sigdae"
    with tempfile.TemporaryDirectory() as tmp:
        clips = Path(tmp) / "in"
        make_clips(clips, args.files, args.seconds)
        best = {1: float("inf"), 2: float("inf")}
        for repeat in range(args.repeats):
            for jobs in (1, 2):
                out = Path(tmp) / f"out{jobs}_{repeat}"
                start = time.perf_counter()
                subprocess.run([str(sigdae), "denoise", "--quiet", "--model", args.model, "--jobs", str(jobs),
                                str(clips), str(out)], check=True)
                elapsed = time.perf_counter() - start
                best[jobs] = min(best[jobs], elapsed)
                print(f"repeat {repeat + 1}: --jobs {jobs} {elapsed:.1f} s", flush=True)
    for jobs, seconds in best.items():
        print(f"--jobs {jobs}: {seconds:.1f} s, {args.files / seconds:.1f} files/s")
    print(f"--jobs 2 / --jobs 1 throughput: {best[1] / best[2]:.2f}x")


if __name__ == "__main__":
    main()
