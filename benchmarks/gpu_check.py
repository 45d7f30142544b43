"""GPU figures: inference with the bundled speech model (one long file, a folder of short files, and how far
each inference precision on the GPU is from fp32 on the CPU), the CPU folder throughput of ``--jobs 2`` against
``--jobs 1`` on its cores, and training throughput of the MNIST and
speech recipes (``gpu_training.py``). Runs on the CPU too (``--device cpu``, small
sizes), which is how its parts are tested.

    python benchmarks/gpu_check.py --out figures/ --device cuda --minutes 10 --files 500

Writes ``gpu_check.json`` (every figure) and ``gpu_check.txt`` (a readable summary) to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

RATE = 16000


def speechlike(seconds: float, seed: int) -> np.ndarray:
    """Voiced harmonics with a syllable rhythm plus noise: enough structure for a realistic mask."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    pitch = 120 + 40 * rng.random()
    voice = sum(np.sin(2 * np.pi * k * pitch * t) / k for k in range(1, 8)) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
    return (0.08 * voice + 0.03 * rng.standard_normal(t.size)).astype(np.float32)


def make_data(root: Path, minutes: float, files: int) -> tuple[Path, Path]:
    """A ``minutes``-long file and a folder of ``files`` clips of 1 to 5 s (in half seconds), 16-bit 16 kHz."""
    root.mkdir(parents=True, exist_ok=True)
    long_file = root / "long.wav"
    if not long_file.exists():
        minute = speechlike(60.0, 0)
        whole = np.tile(minute, int(np.ceil(minutes)))[: int(minutes * 60 * RATE)]
        sf.write(long_file, whole, RATE, subtype="PCM_16")
    folder = root / "short"
    if not folder.exists():
        folder.mkdir()
        rng = np.random.default_rng(1)
        for i in range(files):
            sf.write(folder / f"clip{i:04d}.wav", speechlike(float(rng.integers(2, 11)) / 2, i + 2), RATE,
                     subtype="PCM_16")
    return long_file, folder


def whole_process(args: list[str], env: dict[str, str] | None = None) -> float:
    """Wall seconds of ``python -m sigdae ARGS`` from start to exit."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "sigdae", *args], check=True, env=env)
    return time.perf_counter() - start


def cpu_jobs(folder: Path, results: Path, files: int, figures: dict) -> None:
    """Folder throughput on the CPU, ``--jobs 1`` against ``--jobs 2``, on the first ``files`` short clips."""
    subset = results / "jobs_in"
    subset.mkdir(parents=True, exist_ok=True)
    clips = sorted(folder.glob("*.wav"))[:files]
    for clip in clips:
        if not (subset / clip.name).exists():
            os.link(clip, subset / clip.name)
    for jobs in (1, 2):
        figures[f"cpu_jobs{jobs}_s"] = round(whole_process(
            ["denoise", str(subset), str(results / f"jobs{jobs}"), "--device", "cpu", "--jobs", str(jobs),
             "--overwrite", "--quiet"]), 3)
    figures["cpu_jobs_files"] = len(clips)
    figures["cpu_jobs2_throughput_ratio"] = round(figures["cpu_jobs1_s"] / figures["cpu_jobs2_s"], 3)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn, device: torch.device) -> tuple[float, object]:
    synchronize(device)
    start = time.perf_counter()
    result = fn()
    synchronize(device)
    return time.perf_counter() - start, result


def in_process(long_file: Path, folder: Path, device: str, figures: dict) -> None:
    """Enhancer timings without process start-up: chunks one by one against batched, files one by one
    against enhance_many, and each precision's distance from fp32 on the CPU."""
    import sigdae
    from sigdae.enhance import Enhancer

    model = sigdae.load_model(sigdae.bundled_model_path(), device=device)
    dev = model.device
    x = torch.from_numpy(sf.read(long_file, dtype="float32", always_2d=True)[0].T.copy())
    Enhancer(model).enhance(x[:, : 5 * RATE], RATE)  # warm-up: kernels, allocator
    for batch in (1, Enhancer(model).batch_chunks):
        seconds, _ = timed(lambda: Enhancer(model, batch_chunks=batch).enhance_tensor(x, RATE), dev)
        figures[f"long_in_process_batch{batch}_s"] = round(seconds, 3)
        figures[f"long_in_process_batch{batch}_rtf"] = round(seconds / (x.shape[-1] / RATE), 6)
    clips = [torch.from_numpy(sf.read(f, dtype="float32", always_2d=True)[0].T.copy())
             for f in sorted(folder.glob("*.wav"))]
    enhancer = Enhancer(model)
    seconds, _ = timed(lambda: [enhancer.enhance_tensor(c, RATE) for c in clips], dev)
    figures["short_in_process_one_by_one_s"] = round(seconds, 3)
    seconds, _ = timed(lambda: enhancer.enhance_many(clips, RATE), dev)
    figures["short_in_process_enhance_many_s"] = round(seconds, 3)

    reference_model = sigdae.load_model(sigdae.bundled_model_path(), device="cpu")
    piece = x[:, : 60 * RATE]
    reference = Enhancer(reference_model).enhance_tensor(piece, RATE)
    for precision in ("fp32", "fp16", "bf16"):
        try:
            seconds, out = timed(lambda: Enhancer(model, precision=precision).enhance_tensor(piece, RATE), dev)
        except RuntimeError as exc:  # a precision this device does not run
            figures[f"precision_{precision}"] = f"failed: {str(exc).splitlines()[0][:120]}"
            continue
        figures[f"precision_{precision}_max_abs_diff_vs_cpu_fp32"] = float((out - reference).abs().max())
        figures[f"precision_{precision}_60s_s"] = round(seconds, 3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder for gpu_check.json and gpu_check.txt")
    parser.add_argument("--device", default="cuda", help="cuda (default), cuda:N or cpu")
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the long file (default 10)")
    parser.add_argument("--files", type=int, default=500, help="short files in the folder (default 500)")
    parser.add_argument("--data", help="where to write the test audio (default: OUT/data)")
    parser.add_argument("--cpu-threads", type=int, default=os.cpu_count(), help="threads of the CPU baseline")
    parser.add_argument("--jobs-files", type=int, default=200,
                        help="short files for the CPU --jobs 1 against --jobs 2 comparison (0: skip)")
    parser.add_argument("--mnist-seconds", type=float, default=60.0,
                        help="training time of each MNIST recipe for its throughput and test PSNR (0: skip)")
    parser.add_argument("--speech-seconds", type=float, default=20.0,
                        help="training time of each speech recipe for its throughput (0: skip)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = Path(args.data) if args.data else out / "data"
    long_file, folder = make_data(data, args.minutes, args.files)
    figures: dict = {"device": args.device, "long_file_seconds": args.minutes * 60, "short_files": args.files,
                     "torch": torch.__version__}
    if args.device.startswith("cuda"):
        figures["gpu"] = torch.cuda.get_device_name(torch.device(args.device))
    results = data / "results"
    figures["long_whole_process_s"] = round(whole_process(
        ["denoise", str(long_file), str(results / "long.wav"), "--device", args.device, "--overwrite", "--quiet"]), 3)
    figures["long_whole_process_rtf"] = round(figures["long_whole_process_s"] / (args.minutes * 60), 6)
    figures["long_whole_process_cpu_s"] = round(whole_process(
        ["denoise", str(long_file), str(results / "long_cpu.wav"), "--device", "cpu", "--overwrite", "--quiet",
         "--threads", str(args.cpu_threads)]), 3)
    figures["short_whole_process_s"] = round(whole_process(
        ["denoise", str(folder), str(results / "short"), "--device", args.device, "--overwrite", "--quiet"]), 3)
    in_process(long_file, folder, args.device, figures)
    if args.jobs_files:
        cpu_jobs(folder, results, args.jobs_files, figures)
    sys.path.insert(0, str(Path(__file__).parent))
    import gpu_training

    if args.mnist_seconds:
        gpu_training.mnist(args.device, data / "training", figures, args.mnist_seconds)
    if args.speech_seconds:
        gpu_training.speech(args.device, data / "training", figures, args.speech_seconds, speechlike)
    (out / "gpu_check.json").write_text(json.dumps(figures, indent=2) + "\n")
    summary = "\n".join(f"{key}: {value}" for key, value in figures.items())
    (out / "gpu_check.txt").write_text(summary + "\n")
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
