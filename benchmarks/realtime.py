"""Low-latency benchmark: the bundled realtime model's cost beside the default model's, and its stream
at 10 ms blocks, in one process on one thread.

    python benchmarks/realtime.py --input NOISY.wav [--seconds 60] [--blocks 3000] [--no-onnx] [--json OUT.json]
        [--also NAME=CHECKPOINT ...]

1. File path: enhances the same ``--seconds`` of audio (the input tiled or cut to that length) with
   ``Enhancer`` and each model, alternating, ``--repeats`` times; prints the real-time factor of each (the
   fastest repeat) and their ratio. Start-up and model loading are left out.
2. Stream: feeds ``--blocks`` blocks of 10 ms through ``StreamEnhancer`` with the realtime model at 16 and
   48 kHz and times each ``process`` call: mean, 99th percentile and worst block, and how many blocks took
   longer than the 10 ms they hold (each one would be a dropout on a live device). Also prints the
   stream's latency and checks that the streamed output equals the file path's. As in ``sigdae live``, the
   objects alive before the stream starts are frozen out of Python's garbage collector (``collector_frozen``).

``--also`` adds models (another version of the realtime model, say) to both parts, timed beside the others.
With onnxruntime installed, the realtime model is also exported to ONNX (in a temporary folder) and run
through both paths beside the PyTorch model (``realtime-onnx``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from sigdae import audio, load_model
from sigdae.enhance import Enhancer
from sigdae.stream import StreamEnhancer, collector_frozen


def tiled(path: str, rate: int, seconds: float) -> torch.Tensor:
    x = audio.load(path, rate, mono=True)[0]
    n = int(seconds * rate)
    return x.repeat(1, -(-n // x.shape[-1]))[:, :n]


def file_rtf(models: dict[str, object], x: torch.Tensor, rate: int, repeats: int) -> dict[str, float]:
    best = {name: float("inf") for name in models}
    enhancers = {name: Enhancer(model) for name, model in models.items()}
    for name, enhancer in enhancers.items():  # warm-up
        enhancer.enhance_tensor(x[:, :rate], rate)
    for _ in range(repeats):
        for name, enhancer in enhancers.items():
            start = time.perf_counter()
            enhancer.enhance_tensor(x, rate)
            best[name] = min(best[name], time.perf_counter() - start)
    seconds = x.shape[-1] / rate
    return {name: t / seconds for name, t in best.items()}


def stream_blocks(model, x: torch.Tensor, rate: int, blocks: int) -> dict[str, float]:
    stream = StreamEnhancer(model, rate, 1)
    block = rate // 100
    x = x[:, :blocks * block]
    times, outs = [], []
    with collector_frozen():
        for i in range(0, x.shape[-1], block):
            start = time.perf_counter()
            outs.append(stream.process(x[:, i:i + block]))
            times.append(time.perf_counter() - start)
    outs.append(stream.flush())
    streamed = torch.cat(outs, dim=1)
    whole = Enhancer(model, band="model").enhance_tensor(x, rate)
    ms = np.array(times) * 1000
    return {"rate": rate, "latency_ms": stream.latency * 1000, "blocks": len(times), "mean_ms": float(ms.mean()),
            "p99_ms": float(np.percentile(ms, 99)), "worst_ms": float(ms.max()),
            "over_10ms": int((ms > 10).sum()), "max_diff_vs_file": float((streamed - whole).abs().max())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", required=True, help="a noisy speech recording")
    ap.add_argument("--seconds", type=float, default=60.0, help="audio length for the file path")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--blocks", type=int, default=3000, help="10 ms blocks streamed at each rate")
    ap.add_argument("--no-onnx", action="store_true", help="leave out the ONNX export of the realtime model")
    ap.add_argument("--json", help="also write the figures here")
    ap.add_argument("--also", action="append", default=[], metavar="NAME=CHECKPOINT",
                    help="another causal model timed beside the bundled ones (repeatable)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    models = {"speech": load_model("speech", device="cpu"), "realtime": load_model("realtime", device="cpu")}
    folder = tempfile.TemporaryDirectory()
    if not args.no_onnx and importlib.util.find_spec("onnxruntime") and importlib.util.find_spec("onnx"):
        from sigdae.onnx_export import export_onnx

        export_onnx("realtime", Path(folder.name) / "realtime.onnx")
        models["realtime-onnx"] = load_model(Path(folder.name) / "realtime.onnx")
    also = []
    for item in args.also:
        name, _, path = item.partition("=")
        if not name or not path or name in models:
            ap.error(f"--also takes a new NAME=CHECKPOINT, got {item!r}")
        models[name] = load_model(path, device="cpu")
        also.append(name)
    x = tiled(args.input, 16000, args.seconds)
    rtf = file_rtf(models, x, 16000, args.repeats)
    print(f"file path, {args.seconds:g} s at 16 kHz, one thread: " +
          ", ".join(f"{name} RTF {value:.4f}" for name, value in rtf.items()) +
          f"; realtime / speech = {rtf['realtime'] / rtf['speech']:.2f}" +
          "".join(f", realtime / {name} = {rtf['realtime'] / rtf[name]:.2f}" for name in also))
    streams = []
    for rate, name in ((rate, name) for rate in (16000, 48000) for name in models if name != "speech"):
        row = stream_blocks(models[name], tiled(args.input, rate, args.blocks / 100 + 1), rate, args.blocks)
        streams.append({"model": name, **row})
        print(f"{name} stream at {rate} Hz, 10 ms blocks: latency {row['latency_ms']:.2f} ms; per block mean "
              f"{row['mean_ms']:.2f} ms, p99 {row['p99_ms']:.2f} ms, worst {row['worst_ms']:.2f} ms; "
              f"{row['over_10ms']} of {row['blocks']} over 10 ms; max |stream - file| {row['max_diff_vs_file']:.1e}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"file_rtf": rtf, "streams": streams}, f, indent=1)


if __name__ == "__main__":
    main()
