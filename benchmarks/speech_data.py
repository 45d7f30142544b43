"""Lay out the speech training folders and the held-out benchmark material from a data root.

    python benchmarks/speech_data.py --data DATA_ROOT/speech --out speechdata

Creates (as symlinks, nothing copied):
  OUT/clean_train/      LibriSpeech train-clean-100 (251 speakers)             -> training speech
  OUT/noise_train/      Hu non-speech n1-n80, NOISEX-92 leopard + m109, Speech Commands background
  OUT/noise_fit/        noise_train without noise_check                        -> training noise when choosing
  OUT/noise_check/      every 8th Hu file of noise_train (n8 ... n80) + running_tap: noises for validation
                        mixtures that no candidate trained on (the benchmark's held-out noises stay unseen)
  OUT/rir_train/        OpenAIR (quantumverb) + pymixconsole RIRs
  OUT/clean_heldout/    LibriSpeech test-other (10 speakers, never trained on)
  OUT/noise_heldout/    Hu n81-n100, NOISEX-92 machinegun, ESC-50 clips, speechbrain noises, freesound CC0 clip
  OUT/rir_heldout/      the clap-measured seminar room + speechbrain RIRs
No speaker, noise file or RIR is on both sides.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

TRAIN_NOISE = [f"hu_nonspeech100/n{i}.wav" for i in range(1, 81)] + [
    "noisex92/leopard.wav", "noisex92/m109.wav", "speech_commands_bg/doing_the_dishes.wav",
    "speech_commands_bg/exercise_bike.wav", "speech_commands_bg/running_tap.wav"]
CHECK_NOISE = [f"hu_nonspeech100/n{i}.wav" for i in range(8, 81, 8)] + ["speech_commands_bg/running_tap.wav"]
FIT_NOISE = [name for name in TRAIN_NOISE if name not in CHECK_NOISE]
HELDOUT_NOISE = [f"hu_nonspeech100/n{i}.wav" for i in range(81, 101)] + [
    "noisex92/machinegun.wav", "esc50/*.wav", "speechbrain_noise/*.wav", "deepfilternet/*.wav"]
TRAIN_RIRS = ["openair_quantumverb/*.wav", "pymixconsole_irs/*.wav"]
HELDOUT_RIRS = ["spatialaudio/*.wav", "speechbrain_rirs/*.wav"]


def link(root: Path, patterns: list[str], dest: Path) -> int:
    dest.mkdir(parents=True, exist_ok=True)
    count = 0
    for pattern in patterns:
        for src in sorted(root.glob(pattern)):
            target = dest / f"{src.parent.name}__{src.name}"
            if not target.exists():
                os.symlink(src.resolve(), target)
            count += 1
    return count


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="the speech data root (clean/, noise/, rirs/)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    data, out = Path(args.data), Path(args.out)
    libri = data / "clean" / "librispeech_subset"
    for name, src in (("clean_train", libri / "train-clean-100"), ("clean_heldout", libri / "test-other")):
        if not (out / name).exists():
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            os.symlink(src.resolve(), out / name)
    counts = {"noise_train": link(data / "noise", TRAIN_NOISE, out / "noise_train"),
              "noise_fit": link(data / "noise", FIT_NOISE, out / "noise_fit"),
              "noise_check": link(data / "noise", CHECK_NOISE, out / "noise_check"),
              "noise_heldout": link(data / "noise", HELDOUT_NOISE, out / "noise_heldout"),
              "rir_train": link(data / "rirs", TRAIN_RIRS, out / "rir_train"),
              "rir_heldout": link(data / "rirs", HELDOUT_RIRS, out / "rir_heldout")}
    print(" ".join(f"{k}={v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
