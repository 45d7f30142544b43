"""Speech enhancement benchmark: sigdae's models beside the peer systems, on held-out material.

    python benchmarks/speech.py --data DATA/speech --harness TOOLS/speech_eval \
        --harness-python HARNESS_VENV/bin/python --model spec=assets/speech16k.pt --model wave=runs/speech-wave \
        --out bench-runs/speech

1. Builds a deterministic held-out set (``--out/heldout``): LibriSpeech test-other utterances (speakers
   no training run sees) mixed with held-out noise recordings (see benchmarks/speech_data.py) at SNR
   0, 5, 10 and 15 dB, RMS -25 dBFS, 0.5 s noise-only lead-in, 16-bit 16 kHz.
2. Runs the speech_eval harness on that set and on the VoiceBank-DEMAND dev pairs, with every peer and
   each sigdae model (``sigdae denoise --model M {in_dir} {out_dir}``, one thread, one core), and prints
   PESQ-WB, STOI, SI-SDR, their gains and the real-time factor; then the held-out PESQ-WB per input SNR.
3. Measures the peak memory (max RSS) of ``sigdae denoise`` on 10-second, 10-minute and 1-hour inputs.
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

sys.path.insert(0, str(Path(__file__).parent))
from speech_data import HELDOUT_NOISE  # noqa: E402

RATE = 16000
SNRS = (0.0, 5.0, 10.0, 15.0)


def _mono16k(path: Path) -> np.ndarray:
    from sigdae import audio

    return audio.load(path, RATE, mono=True)[0].numpy().astype(np.float64)


def build_heldout(data: Path, out: Path, utterances: int, seed: int = 2026) -> Path:
    """Noisy/clean pairs from held-out speakers and held-out noises (the same files on every run)."""
    if (out / "noisy").is_dir() and len(list((out / "noisy").glob("*.wav"))) == utterances:
        return out
    rng = np.random.default_rng(seed)
    speech = sorted((data / "clean" / "librispeech_subset" / "test-other").rglob("*.flac"))
    picks = [speech[i] for i in sorted(rng.choice(len(speech), size=min(utterances, len(speech)), replace=False))]
    noises = sorted(p for pattern in HELDOUT_NOISE for p in (data / "noise").glob(pattern))
    for side in ("clean", "noisy"):
        (out / side).mkdir(parents=True, exist_ok=True)
    for k, path in enumerate(picks):
        clean = _mono16k(path)[: 8 * RATE]
        clean = np.concatenate([np.zeros(RATE // 2), clean * 10 ** (-25 / 20) / np.sqrt(np.mean(clean ** 2))])
        noise_path = noises[k % len(noises)]
        noise = _mono16k(noise_path)
        start = int(rng.integers(0, max(1, noise.size - clean.size)))
        noise = np.resize(np.roll(noise, -start), clean.size)
        snr = SNRS[k % len(SNRS)]
        noise *= np.sqrt(np.mean(clean ** 2) / (np.mean(noise ** 2) * 10 ** (snr / 10)))
        noisy = clean + noise
        peak = np.abs(noisy).max()
        scale = 0.95 / peak if peak > 0.95 else 1.0
        name = f"{path.stem}__{noise_path.stem}__snr{int(snr)}.wav"
        sf.write(out / "clean" / name, clean * scale, RATE, subtype="PCM_16")
        sf.write(out / "noisy" / name, noisy * scale, RATE, subtype="PCM_16")
    return out


def run_harness(harness: Path, python: str, sets: list[str], models: dict[str, str], out: Path, reuse: bool,
                peers: str = "all") -> dict:
    sigdae = Path(sys.executable).parent / "sigdae"
    cmd = [python, str(harness / "evaluate.py"), "--peers", peers, "--out", str(out / "harness")]
    for s in sets:
        cmd += ["--set", s]
    for name, model in models.items():
        cmd += ["--cmd", f"sigdae_{name}", f"{sigdae} denoise --quiet --overwrite --model {model} {{in_dir}} {{out_dir}}"]
    if reuse:
        cmd.append("--reuse")
    subprocess.run(cmd, check=True)
    return json.loads((out / "harness" / "results.json").read_text())


def peak_memory(model: str, out: Path) -> dict[str, float]:
    """Max RSS (MiB) of `sigdae denoise` on 10 s, 10 min and 1 h of noisy speech (tiled example)."""
    from sigdae import audio

    base = audio.load(Path(__file__).parents[1] / "assets" / "examples" / "noisy.wav", RATE, mono=True)[0].numpy()
    sigdae = Path(sys.executable).parent / "sigdae"
    results = {}
    for label, seconds in (("10 s", 10), ("10 min", 600), ("1 h", 3600)):
        src = out / "memory" / f"in_{seconds}.wav"
        src.parent.mkdir(parents=True, exist_ok=True)
        if not src.exists():
            with sf.SoundFile(src, "w", RATE, 1, "PCM_16") as f:
                for start in range(0, seconds * RATE, base.size):
                    f.write(base[: min(base.size, seconds * RATE - start)])
        probe = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
                 "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
        done = subprocess.run([sys.executable, "-c", probe, str(sigdae), "denoise", "--quiet", "--overwrite",
                               "--model", model, str(src), str(out / "memory" / f"out_{seconds}.wav")],
                              capture_output=True, text=True, check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
        results[label] = int(done.stdout.strip().splitlines()[-1]) / 1024
        print(f"peak memory {label}: {results[label]:.0f} MiB", flush=True)
    return results


def formats(model: str, heldout: Path, out: Path) -> list[dict]:
    """SI-SDR before/after for the same held-out pair at other rates, channel counts and bit depths."""
    from sigdae import audio
    from sigdae.metrics import si_sdr

    import torch

    names = sorted(p.name for p in (heldout / "noisy").glob("*.wav"))[:2]
    sigdae = Path(sys.executable).parent / "sigdae"
    rows = []
    for rate, channels, subtype, ext in ((8000, 1, "PCM_16", ".wav"), (16000, 1, "PCM_16", ".wav"),
                                         (44100, 2, "PCM_24", ".wav"), (48000, 1, "PCM_24", ".flac"),
                                         (48000, 2, "FLOAT", ".wav")):
        folder = out / "formats" / f"{rate}_{channels}ch_{subtype}"
        (folder / "in").mkdir(parents=True, exist_ok=True)
        clean_all = []
        for k, name in enumerate(names):
            noisy = audio.load(heldout / "noisy" / name, rate)
            clean = audio.load(heldout / "clean" / name, rate)
            # the second channel is the same scene at a different SNR: channels are enhanced separately
            noisy = torch.cat([noisy, clean + 0.5 * (noisy - clean)])[:channels]
            audio.write(folder / "in" / f"{k}{ext}", noisy, rate, subtype=subtype)
            clean_all.append(torch.cat([clean, clean])[:channels])
        subprocess.run([str(sigdae), "denoise", "--quiet", "--overwrite", "--model", model, str(folder / "in"),
                        str(folder / "out")], check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
        before, after, kept = [], [], True
        for k, clean in enumerate(clean_all):
            i, o = audio.info(folder / "in" / f"{k}{ext}"), audio.info(folder / "out" / f"{k}{ext}")
            kept &= (i.sample_rate, i.channels, i.frames, i.subtype) == (o.sample_rate, o.channels, o.frames, o.subtype)
            x, _ = audio.read(folder / "in" / f"{k}{ext}")
            y, _ = audio.read(folder / "out" / f"{k}{ext}")
            before.append(float(si_sdr(x, clean)))
            after.append(float(si_sdr(y, clean)))
        row = {"rate": rate, "channels": channels, "subtype": subtype, "format": ext, "kept": bool(kept),
               "si_sdr_noisy": sum(before) / len(before), "si_sdr_denoised": sum(after) / len(after)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def by_snr(harness_set: Path, metric: str = "pesq_wb", digits: int = 2) -> str:
    """One metric of every system on the held-out set, per input SNR (the file names carry it), as Markdown."""
    scores = {d.name: json.loads((d / "_scores.json").read_text())
              for d in sorted(harness_set.iterdir()) if (d / "_scores.json").is_file()}
    snrs = sorted({int(name.rsplit("__snr", 1)[1]) for name in scores.get("noisy", {})})
    if not snrs:
        return ""
    rows = []
    for system, files in scores.items():
        per = [[f["res"][metric] for name, f in files.items() if name.endswith(f"__snr{snr}")] for snr in snrs]
        rows.append((system, [sum(v) / len(v) if v else float("nan") for v in per]))
    rows.sort(key=lambda r: (r[0] != "noisy", -sum(r[1])))
    columns = [Column("system"), *(Column(f"{snr} dB", "right") for snr in snrs)]
    return markdown_table(columns, [(system, *(f"{v:.{digits}f}" for v in values)) for system, values in rows])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="speech data root (clean/, noise/, dev_pairs/)")
    ap.add_argument("--harness", required=True, help="the speech_eval folder (evaluate.py)")
    ap.add_argument("--harness-python", default=os.environ.get("SPEECH_EVAL_PYTHON"),
                    help="python of the harness venv made by its setup.sh (or set SPEECH_EVAL_PYTHON)")
    ap.add_argument("--model", action="append", required=True, metavar="NAME=RUN_OR_CHECKPOINT")
    ap.add_argument("--out", default="bench-runs/speech")
    ap.add_argument("--utterances", type=int, default=40)
    ap.add_argument("--memory-model", help="model for the memory test (default: the first --model)")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--skip-harness", action="store_true")
    ap.add_argument("--reuse", action="store_true", help="reuse the harness outputs of unchanged systems")
    ap.add_argument("--peers", default="all", help="peer systems to run: all (default) or a comma-separated list")
    args = ap.parse_args()
    data, out = Path(args.data), Path(args.out)
    models = dict(m.split("=", 1) for m in args.model)
    heldout = build_heldout(data, out / "heldout", args.utterances)
    sets = [f"heldout={heldout}", f"dev_pairs={data / 'dev_pairs' / 'valentini_trainset_p287'}"]
    if not args.skip_harness:
        if not args.harness_python:
            ap.error("--harness-python (the harness venv's python, from its setup.sh) is needed to run the peers")
        run_harness(Path(args.harness), args.harness_python, sets, models, out, args.reuse, args.peers)
        print((out / "harness" / "results.md").read_text())
        tables = "".join(f"### heldout {title} by input SNR\n\n{by_snr(out / 'harness' / 'heldout', metric, digits)}\n"
                         for title, metric, digits in (("PESQ-WB", "pesq_wb", 2), ("STOI", "stoi", 3)))
        (out / "by_snr.md").write_text(tables)
        print(tables)
    first = args.memory_model or next(iter(models.values()))
    (out / "formats.json").write_text(json.dumps(formats(first, heldout, out), indent=1))
    if not args.skip_memory:
        memory = peak_memory(first, out)
        (out / "memory.json").write_text(json.dumps(memory, indent=1))


if __name__ == "__main__":
    main()
