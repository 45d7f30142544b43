"""One-thread speed of the bundled speech model through onnxruntime against PyTorch, side by side.

    python benchmarks/onnx_speed.py [--seconds 60] [--repeats 5] [--threads 1]

Exports the bundled model to ONNX in a temporary folder, then enhances the same synthetic recording with
both, alternating, and prints each one's median time, real-time factor and the ratio (ONNX / PyTorch time:
below 1 means ONNX is faster), and the largest difference between their outputs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the recording (default 60)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each (default 5)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for both (default 1)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    import sigdae
    from sigdae.enhance import Enhancer
    from sigdae.onnx_export import export_onnx

    rate = 16000
    rng = np.random.default_rng(0)
    t = np.arange(int(args.seconds * rate)) / rate
    x = torch.from_numpy((0.1 * np.sin(2 * np.pi * 150 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
                          + 0.03 * rng.standard_normal(t.size)).astype(np.float32)[None])
    with tempfile.TemporaryDirectory() as folder:
        onnx_file = Path(folder) / "speech.onnx"
        export_onnx(sigdae.bundled_model_path(), onnx_file)
        enhancers = {"torch": Enhancer(sigdae.load_model(sigdae.bundled_model_path(), device="cpu")),
                     "onnx": Enhancer(sigdae.load_model(onnx_file))}
        outputs = {name: e.enhance_tensor(x[:, : 5 * rate], rate) for name, e in enhancers.items()}  # warm-up
        times: dict[str, list[float]] = {name: [] for name in enhancers}
        for _ in range(args.repeats):
            for name, enhancer in enhancers.items():
                start = time.perf_counter()
                outputs[name] = enhancer.enhance_tensor(x, rate)
                times[name].append(time.perf_counter() - start)
    median = {name: statistics.median(values) for name, values in times.items()}
    for name in enhancers:
        print(f"{name:5s}  {median[name]:7.3f} s  RTF {median[name] / args.seconds:.4f}")
    print(f"ratio onnx/torch: {median['onnx'] / median['torch']:.3f}  ({args.threads} thread(s), {args.seconds:g} s "
          f"of audio, median of {args.repeats})")
    print(f"max |onnx - torch|: {float((outputs['onnx'] - outputs['torch']).abs().max()):.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
