"""Speech training against corpus size: start-up time, peak memory and training samples/s, with the corpus
held in memory or streamed from disk, and 0, 1 or 2 data-loader workers.

    python benchmarks/scale.py                       # 1 h and 50 h corpora, workers 0/1/2
    python benchmarks/scale.py --hours 1 50 --workers 0 2 --steps 2 --data-batches 10

A synthetic corpus is built in a temporary folder (deleted at the end): a few speech-like recordings
(harmonic voices with a syllable rhythm and a moving formant) written once as 16 kHz FLAC and linked under
many LibriSpeech-style names (``SPEAKER/CHAPTER/SPEAKER-CHAPTER-UTT.flac``) until the corpus holds the hours
asked for, plus a noise folder. Each measurement runs in its own process (so peak memory is its own):
``speech-spec`` with the ``auto`` corruption: start-up (building the trainer: index, validation set, noise
banks), the data path alone (batches read, augmented and corrupted, as training consumes them) and whole
training steps, after one warm-up step.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

RATE = 16000


def _voice(seconds: float, seed: int) -> np.ndarray:
    """Speech-like audio: a gliding harmonic voice, a 4 Hz syllable envelope, a moving formant, some breath."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(RATE * seconds)) / RATE
    f0 = rng.uniform(90, 220) * (1 + 0.1 * np.sin(2 * np.pi * rng.uniform(0.2, 0.6) * t))
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    formant = rng.uniform(500, 900) * (1 + 0.5 * np.sin(2 * np.pi * rng.uniform(0.5, 2) * t))
    voice = sum(np.sin(k * phase) * np.exp(-((k * f0 - formant) / 600) ** 2) for k in range(1, 30))
    syllables = np.clip(np.sin(2 * np.pi * rng.uniform(3, 5) * t + rng.uniform(0, 6)), 0, None) ** 0.7
    x = voice * syllables + 0.02 * rng.standard_normal(t.size)
    return (0.2 * x / np.abs(x).max()).astype(np.float32)


def build_corpus(root: Path, hours: float, file_seconds: float, distinct: int) -> int:
    """``hours`` of speech as links to ``distinct`` recordings; returns the number of files."""
    sources = root / "sources"
    sources.mkdir(parents=True, exist_ok=True)
    for k in range(distinct):
        path = sources / f"voice{k}.flac"
        if not path.exists():
            sf.write(path, _voice(file_seconds, k), RATE)
    count = int(round(hours * 3600 / file_seconds))
    clean = root / f"clean_{hours:g}h"
    for i in range(count):
        speaker, chapter, utt = 100 + i // 20, i // 5 % 4, i % 20
        folder = clean / str(speaker) / str(chapter)
        folder.mkdir(parents=True, exist_ok=True)
        link = folder / f"{speaker}-{chapter}-{utt:04d}.flac"
        if not link.exists():
            os.symlink(sources / f"voice{i % distinct}.flac", link)
    noise = root / "noise"
    if not noise.exists():
        noise.mkdir()
        rng = np.random.default_rng(0)
        for k in range(4):
            hum = np.sin(2 * np.pi * (50 + 30 * k) * np.arange(RATE * 20) / RATE)
            sf.write(noise / f"noise{k}.wav", (0.05 * rng.standard_normal(RATE * 20) + 0.02 * hum).astype(np.float32), RATE)
    return count


def measure(clean: str, noise: str, cache_mb: float, workers: int, steps: int, data_batches: int,
            index_dir: str) -> dict:
    """One measurement in this process: build the trainer, time ``data_batches`` batches of the data path
    alone (reading, augmentation, corruption), then ``steps`` whole training steps."""
    import torch

    from sigdae.recipes import recipe
    from sigdae.trainer import Trainer

    os.environ["SIGDAE_CACHE_DIR"] = index_dir
    config = recipe("speech-spec")
    config.update(device="cpu", seed=0)
    config["data"].update(clean_dirs=[clean], noise_dirs=[noise], cache_mb=cache_mb, workers=workers)
    config["data"]["segments_per_epoch"] = 16 * (data_batches + steps + 4)
    start = time.perf_counter()
    trainer = Trainer(config, None)
    startup = time.perf_counter() - start
    batches = iter(trainer.task.train)
    trainer.train_step(next(batches))  # warm-up
    start = time.perf_counter()
    for _ in range(data_batches):
        with torch.no_grad():
            trainer.corruption(next(batches), trainer.noise_gen, sample_rate=trainer.task.sample_rate)
    data_rate = 16 * data_batches / (time.perf_counter() - start)
    start, samples = time.perf_counter(), 0
    for _ in range(steps):
        batch = next(batches)
        trainer.train_step(batch)
        samples += batch.shape[0]
    elapsed = time.perf_counter() - start
    del batches  # the workers exit, so their peak memory is counted below
    return {"startup_s": startup, "samples_per_s": samples / elapsed, "data_samples_per_s": data_rate,
            "streaming": trainer.task.info["streaming"], "files": trainer.task.info["train_files"],
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "worker_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            "threads": torch.get_num_threads()}


def index_times(clean: str, cache: str) -> tuple[float, float]:
    """Seconds to index a corpus with no cached index, then with the cached one."""
    from sigdae import audio
    from sigdae.audio_index import AudioIndex

    files = audio.list_audio(clean)
    times = []
    for _ in range(2):
        start = time.perf_counter()
        AudioIndex.of(files, cache)
        times.append(time.perf_counter() - start)
    return times[0], times[1]


def run_child(**kwargs) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", json.dumps(kwargs)], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"measurement {kwargs} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hours", type=float, nargs="+", default=[1.0, 50.0], help="corpus sizes, hours")
    ap.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2], help="data-loader workers to try")
    ap.add_argument("--steps", type=int, default=3, help="timed training steps per measurement")
    ap.add_argument("--data-batches", type=int, default=12, help="timed batches of the data path alone")
    ap.add_argument("--file-seconds", type=float, default=12.0, help="length of each recording")
    ap.add_argument("--distinct", type=int, default=24, help="different recordings behind the links")
    ap.add_argument("--index-only", action="store_true", help="only time indexing each corpus")
    ap.add_argument("--json", help="also write the rows here")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(measure(**json.loads(args.child))))
        return
    from sigdae.report import Column, print_table

    root = Path(tempfile.mkdtemp(prefix="sigdae-scale-"))
    rows, results = [], []
    try:
        for hours in args.hours:
            files = build_corpus(root, hours, args.file_seconds, args.distinct)
            clean, noise, index_dir = str(root / f"clean_{hours:g}h"), str(root / "noise"), str(root / "cache")
            if args.index_only:
                cold, cached = index_times(clean, str(root / f"index_{hours:g}h"))
                print(f"{hours:g} h, {files} files: index {cold:.2f} s with no cache, {cached:.2f} s cached")
                continue
            common = dict(clean=clean, noise=noise, steps=args.steps, data_batches=args.data_batches,
                          index_dir=index_dir)
            plans = [("memory", 1e9, 0)] if hours <= 4 else []
            plans += [("stream", 0.0, w) for w in args.workers]
            first = True
            for mode, cache_mb, workers in plans:
                result = run_child(cache_mb=cache_mb, workers=workers, **common)
                result.update(hours=hours, mode=mode, workers=workers, index="cold" if first else "cached")
                first = False
                results.append(result)
                rows.append([f"{hours:g}", files, mode, workers, result["index"], f"{result['startup_s']:.1f}",
                             f"{result['peak_rss_mb']:.0f}", f"{result['worker_peak_rss_mb']:.0f}" if workers else "-",
                             f"{result['data_samples_per_s']:.1f}", f"{result['samples_per_s']:.2f}"])
                print(f"  {hours:g} h {mode} workers={workers}: {result['samples_per_s']:.2f} samples/s, "
                      f"peak {result['peak_rss_mb']:.0f} MB, start-up {result['startup_s']:.1f} s", file=sys.stderr)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if args.index_only:
        return
    columns = ["hours", Column("files", "right"), "clean speech", Column("workers", "right"), "index",
               Column("start-up s", "right"), Column("peak RSS MB", "right"), Column("worker peak MB", "right"),
               Column("data path samples/s", "right"), Column("training samples/s", "right")]
    print_table(columns, rows, title=f"speech-spec, batches of 16 x 2 s: {args.data_batches} batches of the data path "
                                     f"alone, {args.steps} training steps")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
