"""Full-band (48 kHz) speech enhancement benchmark: sigdae's full-band output beside its 16 kHz path and
DeepFilterNet3 at its native 48 kHz, scored at 48 kHz.

    python benchmarks/fullband.py --data DATA/speech --harness TOOLS/speech_eval \
        --harness-python HARNESS_VENV/bin/python --out bench-runs/fullband

1. Builds a deterministic 48 kHz set (``--out/set``): every clean speech recording of the data root at 44.1
   or 48 kHz (short announcements joined into longer utterances), each mixed with noises that reach above
   8 kHz (white, pink, ESC-50 clips, a freesound recording) and household noises recorded at 20 kHz, at
   0, 5, 10 and 15 dB SNR (each noise at each SNR once over four utterances), 0.5 s of noise before the speech, RMS -25 dBFS, 24-bit.
2. Denoises it with ``sigdae denoise`` (default, full band), ``sigdae denoise --band model`` (the model's
   16 kHz band resampled back, as before full-band output) and DeepFilterNet3 (the harness's dfn3_48k.py).
3. Scores each output against the clean speech: full-band SI-SDR; segmental SNR per band over
   speech-active frames; high-band retention (output vs clean energy at 8-16 kHz over speech-active
   frames); PESQ-WB and STOI after resampling to 16 kHz.
4. Times a 10-minute 48 kHz file with both sigdae paths and the same audio at 16 kHz, alternating (one
   thread, whole process), and the peak memory of the full-band path for 10 s and 1 h at 48 kHz; draws noisy / sigdae / DeepFilterNet3 spectrograms (``--figure``).
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

from sigdae import audio
from sigdae.report import Column, markdown_table

RATE = 48000
SNRS = (0.0, 5.0, 10.0, 15.0)
BANDS = ((0, 4000), (4000, 8000), (8000, 12000), (12000, 16000), (16000, 24000))
HIGH = (8000, 16000)
FRAME = 1536  # 32 ms
NOISES = ["white", "pink", "esc50/*.wav", "deepfilternet/*.wav", "hu_nonspeech100/n8[1-4].wav"]


def _load(path: Path) -> np.ndarray:
    return audio.load(path, RATE, mono=True)[0].numpy().astype(np.float64)


def utterances(data: Path) -> list[tuple[str, np.ndarray]]:
    """Clean full-band speech: recordings at 44.1/48 kHz; the short announcements joined in fours."""
    root = data / "clean" / "misc_clean_speech"
    files = sorted(p for p in root.rglob("*.wav") if sf.info(str(p)).samplerate >= 44100)
    short = [p for p in files if sf.info(str(p)).duration < 2.0]
    out = [(p.stem, _load(p)) for p in files if p not in short]
    gap = np.zeros(int(0.3 * RATE))
    for k in range(0, len(short), 4):
        parts = [np.concatenate([_load(p), gap]) for p in short[k:k + 4]]
        out.append((f"announcements{k // 4 + 1}", np.concatenate(parts)))
    return out


def noise_signals(data: Path, length: int, rng: np.random.Generator) -> list[tuple[str, np.ndarray]]:
    out = []
    for pattern in NOISES:
        if pattern == "white":
            out.append(("white", rng.standard_normal(length)))
        elif pattern == "pink":
            spectrum = np.fft.rfft(rng.standard_normal(length))
            spectrum[1:] /= np.sqrt(np.arange(1, spectrum.size))
            out.append(("pink", np.fft.irfft(spectrum, n=length)))
        else:
            out += [(p.stem, _load(p)) for p in sorted((data / "noise").glob(pattern))]
    return out


def build_set(data: Path, out: Path, seed: int = 48) -> Path:
    """Noisy/clean pairs at 48 kHz (the same files on every run)."""
    if (out / "noisy").is_dir() and any((out / "noisy").iterdir()):
        return out
    rng = np.random.default_rng(seed)
    speech = utterances(data)
    noises = noise_signals(data, 20 * RATE, rng)
    for side in ("clean", "noisy"):
        (out / side).mkdir(parents=True, exist_ok=True)
    for i, (name, clean) in enumerate(speech):
        clean = np.concatenate([np.zeros(RATE // 2), clean * 10 ** (-25 / 20) / np.sqrt(np.mean(clean ** 2))])
        for j, (noise_name, noise) in enumerate(noises):
            start = int(rng.integers(0, max(1, noise.size - clean.size)))
            noise = np.resize(np.roll(noise, -start), clean.size)
            snr = SNRS[(i + j) % len(SNRS)]  # each noise at a different SNR with each utterance
            noise = noise * np.sqrt(np.mean(clean ** 2) / (np.mean(noise ** 2) * 10 ** (snr / 10)))
            peak = np.abs(clean + noise).max()
            scale = 0.95 / peak if peak > 0.95 else 1.0
            pair = f"{name}__{noise_name}__snr{int(snr)}.wav"
            sf.write(out / "clean" / pair, clean * scale, RATE, subtype="PCM_24")
            sf.write(out / "noisy" / pair, (clean + noise) * scale, RATE, subtype="PCM_24")
    return out


# ---- scores -------------------------------------------------------------------------------------------
def _spectra(x: np.ndarray) -> np.ndarray:
    t = torch.from_numpy(x)
    return torch.stft(t, FRAME, FRAME // 2, window=torch.hann_window(FRAME, dtype=torch.float64),
                      return_complex=True).numpy()


def si_sdr(ref: np.ndarray, est: np.ndarray) -> float:
    ref, est = ref - ref.mean(), est - est.mean()
    target = ref * (est @ ref) / (ref @ ref + 1e-12)
    return float(10 * np.log10((target @ target + 1e-12) / ((est - target) @ (est - target) + 1e-12)))


def band_scores(clean: np.ndarray, est: np.ndarray) -> dict[str, float]:
    """Segmental SNR per band and high-band retention, over speech-active frames (clean frame energy
    within 40 dB of the loudest frame's)."""
    c, e = _spectra(clean), _spectra(est)
    freqs = np.fft.rfftfreq(FRAME, 1 / RATE)
    energy = (np.abs(c) ** 2).sum(0)
    active = energy > energy.max() * 1e-4
    scores = {}
    for lo, hi in BANDS:
        rows = (freqs >= lo) & (freqs < hi)
        signal = (np.abs(c[rows]) ** 2).sum(0)[active]
        error = (np.abs(e[rows] - c[rows]) ** 2).sum(0)[active]
        seg = np.clip(10 * np.log10((signal + 1e-12) / (error + 1e-12)), -10, 35)
        scores[f"segsnr_{lo // 1000}_{hi // 1000}k"] = float(seg.mean())
    rows = (freqs >= HIGH[0]) & (freqs < HIGH[1])
    kept = (np.abs(e[rows][:, active]) ** 2).sum() / ((np.abs(c[rows][:, active]) ** 2).sum() + 1e-20)
    scores["retention_8_16k"] = float(10 * np.log10(kept + 1e-20))
    return scores


def wideband_scores(clean: np.ndarray, est: np.ndarray) -> dict[str, float]:
    from pesq import pesq
    from pystoi import stoi

    c16, e16 = (audio.resample(torch.from_numpy(v).float(), RATE, 16000).double().numpy() for v in (clean, est))
    return {"pesq_wb": float(pesq(16000, c16, e16, "wb")), "stoi": float(stoi(c16, e16, 16000, extended=False))}


def upper_band_noisy(pairs: Path) -> set[str]:
    """The pairs whose noise reaches the upper band: 8-16 kHz SNR of the whole file under 10 dB."""
    names = set()
    freqs = np.fft.rfftfreq(FRAME, 1 / RATE)
    rows = (freqs >= HIGH[0]) & (freqs < HIGH[1])
    for clean_path in sorted((pairs / "clean").glob("*.wav")):
        clean = sf.read(clean_path, dtype="float64")[0]
        noise = sf.read(pairs / "noisy" / clean_path.name, dtype="float64")[0] - clean
        speech, other = ((np.abs(_spectra(v)[rows]) ** 2).sum() for v in (clean, noise))
        if 10 * np.log10(speech / (other + 1e-20)) < 10:
            names.add(clean_path.name)
    return names


def score_folder(pairs: Path, outputs: Path | None, upper: set[str]) -> dict[str, dict[str, float]]:
    """Mean scores over all pairs ("all") and over the ``upper`` ones (noise reaching the upper band)."""
    rows = {}
    for clean_path in sorted((pairs / "clean").glob("*.wav")):
        clean = sf.read(clean_path, dtype="float64")[0]
        est = sf.read((outputs or pairs / "noisy") / clean_path.name, dtype="float64", always_2d=True)[0]
        est = est.mean(1)[: clean.size]
        rows[clean_path.name] = {"si_sdr": si_sdr(clean, est), **band_scores(clean, est), **wideband_scores(clean, est)}

    def mean(names) -> dict[str, float]:
        chosen = [rows[n] for n in names]
        return {key: float(np.mean([r[key] for r in chosen])) for key in chosen[0]} | {"files": len(chosen)}

    return {"all": mean(rows), "upper": mean(sorted(upper))}


# ---- systems ------------------------------------------------------------------------------------------
SIGDAE = str(Path(sys.executable).parent / "sigdae")
ONE_THREAD = {**os.environ, "OMP_NUM_THREADS": "1"}


def run_systems(pairs: Path, out: Path, harness: Path, harness_python: str | None) -> dict[str, Path]:
    outputs = {}
    for name, extra in (("sigdae full band", []), ("sigdae 16 kHz band", ["--band", "model"])):
        dst = out / name.replace(" ", "_")
        subprocess.run([SIGDAE, "denoise", "--quiet", "--overwrite", "--threads", "1", *extra,
                        str(pairs / "noisy"), str(dst)], check=True, env=ONE_THREAD)
        outputs[name] = dst
    if harness_python:
        dst = out / "deepfilternet3_48k"
        subprocess.run([harness_python, str(harness / "dfn3_48k.py"), str(pairs / "noisy"), str(dst)], check=True)
        outputs["DeepFilterNet3 (48 kHz)"] = dst
    return outputs


def speed_and_memory(pairs: Path, out: Path) -> dict[str, float]:
    """Whole-process seconds for a 10-minute 48 kHz file on one thread (both sigdae paths, alternating),
    and the peak memory of the full-band path on 10 s and 1 h."""
    base = np.concatenate([sf.read(p, dtype="float32")[0] for p in sorted((pairs / "noisy").glob("*.wav"))[:8]])
    files = {}
    for label, seconds in (("10 s", 10), ("10 min", 600), ("1 h", 3600)):
        files[label] = out / "long" / f"in_{seconds}.wav"
        files[label].parent.mkdir(parents=True, exist_ok=True)
        if not files[label].exists():
            with sf.SoundFile(files[label], "w", RATE, 1, "PCM_16") as f:
                for start in range(0, seconds * RATE, base.size):
                    f.write(base[: min(base.size, seconds * RATE - start)])
    files["10 min, 16 kHz"] = out / "long" / "in_600_16k.wav"
    if not files["10 min, 16 kHz"].exists():
        at_16k = audio.resample(torch.from_numpy(sf.read(files["10 min"], dtype="float32")[0]), RATE, 16000)
        sf.write(files["10 min, 16 kHz"], at_16k.numpy(), 16000, subtype="PCM_16")
    results: dict[str, float] = {}
    probe = ("import resource, subprocess, sys, time; t = time.perf_counter(); subprocess.run(sys.argv[1:], "
             "check=True); print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")

    def run(src: Path, *extra: str) -> tuple[float, float]:
        done = subprocess.run([sys.executable, "-c", probe, SIGDAE, "denoise", "--quiet", "--overwrite",
                               "--threads", "1", *extra, str(src), str(out / "long" / f"out_{src.name}")],
                              capture_output=True, text=True, check=True, env=ONE_THREAD)
        seconds, rss = done.stdout.split()[-2:]
        return float(seconds), int(rss) / 1024

    times = {"full": [], "model": [], "16k": []}
    for _ in range(2):
        times["full"].append(run(files["10 min"])[0])
        times["model"].append(run(files["10 min"], "--band", "model")[0])
        times["16k"].append(run(files["10 min, 16 kHz"])[0])
    for key in times:
        results[f"rtf_{key}"] = min(times[key]) / 600
    results["full_over_16k"] = results["rtf_full"] / results["rtf_16k"]
    results["full_over_model_band"] = results["rtf_full"] / results["rtf_model"]
    for label in ("10 s", "1 h"):
        results[f"peak_mib_{label}"] = run(files[label])[1]
    return results


def figure(pairs: Path, outputs: dict[str, Path], path: Path, name: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("noisy", pairs / "noisy" / name), ("clean", pairs / "clean" / name)]
    panels += [(label, folder / name) for label, folder in outputs.items() if label != "sigdae 16 kHz band"]
    fig, axes = plt.subplots(len(panels), 1, figsize=(8, 2.0 * len(panels)), sharex=True)
    for ax, (label, file) in zip(axes, panels):
        x = sf.read(file, dtype="float64", always_2d=True)[0].mean(1)
        db = 20 * np.log10(np.abs(_spectra(x)) + 1e-6)
        ax.imshow(db, origin="lower", aspect="auto", cmap="magma", vmin=db.max() - 90, vmax=db.max(),
                  extent=(0, x.size / RATE, 0, RATE / 2000))
        ax.set_ylabel("kHz")
        ax.set_title(label, fontsize=9, loc="left")
    axes[-1].set_xlabel("seconds")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


COLUMNS = [("si_sdr", "SI-SDR"), ("segsnr_0_4k", "segSNR 0-4k"), ("segsnr_4_8k", "4-8k"), ("segsnr_8_12k", "8-12k"),
           ("segsnr_12_16k", "12-16k"), ("segsnr_16_24k", "16-24k"), ("retention_8_16k", "retention 8-16k"),
           ("pesq_wb", "PESQ-WB"), ("stoi", "STOI")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="the speech data root (clean/, noise/)")
    ap.add_argument("--harness", required=True, help="the speech_eval folder (dfn3_48k.py)")
    ap.add_argument("--harness-python", default=os.environ.get("SPEECH_EVAL_PYTHON"),
                    help="python of the harness venv (DeepFilterNet3 is left out without it)")
    ap.add_argument("--out", default="bench-runs/fullband")
    ap.add_argument("--figure", help="write the spectrogram figure here (PNG)")
    ap.add_argument("--skip-speed", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(2)
    out = Path(args.out)
    pairs = build_set(Path(args.data), out / "set")
    outputs = run_systems(pairs, out, Path(args.harness), args.harness_python)
    upper = upper_band_noisy(pairs)
    scores = {"noisy": score_folder(pairs, None, upper)}
    scores |= {name: score_folder(pairs, folder, upper) for name, folder in outputs.items()}
    for subset, title in (("all", "all pairs"), ("upper", "pairs whose noise reaches the upper band")):
        rows = [[name, *(f"{value[subset][key]:.2f}" for key, _ in COLUMNS)] for name, value in scores.items()]
        print(f"\n{title} ({scores['noisy'][subset]['files']} at 48 kHz)\n")
        print(markdown_table(["system"] + [Column(label, "right") for _, label in COLUMNS], rows))
    results = {"scores": scores}
    if not args.skip_speed:
        results["speed"] = speed_and_memory(pairs, out)
        print(json.dumps(results["speed"], indent=2))
    if args.figure:
        name = sorted(p.name for p in (pairs / "clean").glob("*white*snr5*.wav"))[:1] or \
            sorted(p.name for p in (pairs / "clean").glob("*.wav"))[:1]
        figure(pairs, outputs, Path(args.figure), name[0])
    (out / "results.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
