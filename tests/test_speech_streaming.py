"""Speech corpora read from disk: the header index and its cache, segments read with seeking and
resampled on their own, the automatic choice between memory and streaming, size-limited banks of
recordings, and data-loader workers that keep a run reproducible and resumable."""

import torch

torch.set_num_threads(1)

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest
from run_helpers import StopAtStep  # noqa: E402
import soundfile as sf  # noqa: E402

from sigdae import audio, audio_index, checkpoint  # noqa: E402
from sigdae.audio_index import AudioIndex, read_span  # noqa: E402
from sigdae.corruptions import get  # noqa: E402
from sigdae.corruptions import audio_common  # noqa: E402
from sigdae.datasets.speech import CleanSpeech  # noqa: E402
from sigdae.recipes import recipe  # noqa: E402
from sigdae.runs import RunDir  # noqa: E402
from sigdae.tasks.base import TaskError  # noqa: E402
from sigdae.tasks.speech import default_workers  # noqa: E402
from sigdae.trainer import Trainer  # noqa: E402


def _voice(seconds, rate, f0, seed, channels=1):
    rng = np.random.default_rng(seed)
    t = np.arange(int(rate * seconds)) / rate
    x = sum(np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 6)) / k for k in range(1, 8))
    x = 0.1 * x * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t)) + 0.01 * rng.standard_normal(t.size)
    return np.stack([x * (1 - 0.2 * c) for c in range(channels)], axis=1).astype(np.float32)


def _corpus(root: Path, rate=16000, speakers=3, files=2, seconds=1.3, channels=1) -> list[str]:
    paths = []
    for s in range(speakers):
        folder = root / f"{200 + s}"
        folder.mkdir(parents=True, exist_ok=True)
        for u in range(files):
            path = folder / f"{200 + s}-1-{u:04d}.flac"
            sf.write(path, _voice(seconds + 0.2 * u, rate, 100 + 25 * s, u, channels), rate)
            paths.append(str(path))
    return paths


@pytest.mark.parametrize("rate,channels", [(16000, 2), (22050, 1), (44100, 2), (8000, 1)])
def test_a_span_read_with_seeking_matches_the_whole_file_resampled(tmp_path, rate, channels):
    path = tmp_path / "x.wav"
    sf.write(path, _voice(2.0, rate, 140, 0, channels), rate, subtype="FLOAT")
    entry = AudioIndex.of([path]).entries[0]
    whole = audio.load(path, 16000, mono=True)[0]
    assert entry.frames_at(16000) == whole.numel()
    for start, frames in ((0, 700), (5003, 9000), (whole.numel() - 300, 1000), (whole.numel() + 5, 10)):
        span = read_span(entry, 16000, start, frames)
        expected = whole[start:start + frames]
        assert span.shape == expected.shape
        if rate == 16000:
            assert torch.equal(span, expected)
        else:
            assert span.numel() == 0 or float((span - expected).abs().max()) < 1e-5


def test_the_index_is_cached_and_refreshed_when_a_file_changes(tmp_path, monkeypatch):
    files = _corpus(tmp_path / "speech")
    monkeypatch.setattr(audio_index, "CACHE_MIN_FILES", 1)
    monkeypatch.setenv("SIGDAE_CACHE_DIR", str(tmp_path / "cache"))
    first = AudioIndex.of(files)
    assert len(list((tmp_path / "cache" / "index").glob("*.json"))) == 1
    read = []
    real_info = audio.info
    monkeypatch.setattr(audio, "info", lambda p: read.append(p) or real_info(p))
    assert [e.frames for e in AudioIndex.of(files).entries] == [e.frames for e in first.entries]
    assert read == [], "an unchanged corpus is not read again"
    sf.write(files[1], _voice(3.0, 16000, 120, 5), 16000)
    again = AudioIndex.of(files)
    assert read == [str(Path(files[1]).resolve())] or read == [files[1]]
    assert again.entries[1].frames == 48000


def test_small_corpora_stay_in_memory_and_large_ones_stream_the_same_segments(tmp_path):
    files = _corpus(tmp_path / "a", rate=16000, channels=2) + _corpus(tmp_path / "b", rate=22050)
    common = dict(files=files, sample_rate=16000, segment_seconds=0.5, segments_per_epoch=12)
    memory = CleanSpeech(**common, cache_mb=1024)
    stream = CleanSpeech(**common, cache_mb=0.1)
    assert not memory.streaming and memory.audio is not None
    assert stream.streaming and stream.audio is None, "a streamed corpus holds no decoded audio"
    assert torch.equal(memory.lengths, stream.lengths)
    for deterministic in (True, False):
        torch.manual_seed(3)
        a = [CleanSpeech(**common, cache_mb=1024, deterministic=deterministic)[i] for i in range(12)]
        torch.manual_seed(3)
        b = [CleanSpeech(**common, cache_mb=0.1, deterministic=deterministic)[i] for i in range(12)]
        for x, y in zip(a, b):
            assert x.shape == y.shape == (1, 8000)
            assert float((x - y).abs().max()) < 1e-5
    short = CleanSpeech(files=files[:2], sample_rate=16000, segment_seconds=3.0, cache_mb=0, pad="loop")
    assert torch.equal(short.segment_at(0, 0), CleanSpeech(files=files[:2], segment_seconds=3.0, pad="loop").segment_at(0, 0))


def test_a_folder_larger_than_the_bank_limit_is_held_as_excerpts(tmp_path):
    folder = tmp_path / "noise"
    folder.mkdir()
    for k in range(4):
        sf.write(folder / f"n{k}.wav", (0.1 * np.random.default_rng(k).standard_normal(16000 * 8)).astype(np.float32), 16000)
    noise = get("noise_file")(dir=str(folder), snr_db=5.0)
    audio_common.clear_banks()
    try:
        whole = audio_common.bank(noise, str(folder), 16000)
        assert whole.data.numel() == 4 * 16000 * 8
        audio_common.limit_banks(16000 * 4 * 6 * 4 / 2 ** 20)  # room for 24 s of the 32 s
        cut = audio_common.bank(noise, str(folder), 16000)
        assert cut.data.numel() == 16000 * 24 and len(cut) == 4
        assert len(set(cut.names)) == 4, "every recording contributes"
        x = torch.randn(2, 1, 4000, generator=torch.Generator().manual_seed(0))
        assert noise(x, torch.Generator().manual_seed(1), sample_rate=16000).shape == x.shape
    finally:
        audio_common.limit_banks(audio_common.BANK_LIMIT_MB)
        audio_common.clear_banks()


def test_default_workers_follow_the_cpu_count():
    assert [default_workers(n) for n in (1, 2, 3, 4, 8, 64)] == [0, 0, 2, 3, 4, 4]


def _config(clean: Path, epochs=2, **data):
    config = recipe("speech-spec")
    config.update(device="cpu", seed=3)
    config["model"].update(channels=[4, 8, 8, 8], blocks=1)
    config["corruption"]["spec"] = "colored_noise(color=pink, snr_db=[0, 10])"
    config["loss"]["spec"] = "stft"
    config["data"].update(clean_dirs=[str(clean)], segment_seconds=0.25, segments_per_epoch=12, val_segments=2,
                          val_seconds=0.25, val_fraction=0.3, **data)
    config["train"].update(epochs=epochs, batch_size=2, log_every_s=0.0, steps_per_epoch=0)
    return config


def test_bad_memory_settings_are_one_line_errors(tmp_path):
    _corpus(tmp_path / "speech")
    for key, value in (("workers", -1), ("workers", "many"), ("cache_mb", -5), ("noise_cache_mb", 0)):
        with pytest.raises(TaskError, match=f"data.{key}"):
            Trainer(_config(tmp_path / "speech", **{key: value}), None)


def test_workers_give_the_same_batches_for_the_same_seed(tmp_path):
    _corpus(tmp_path / "speech")

    def batches():
        trainer = Trainer(_config(tmp_path / "speech", workers=2, cache_mb=0), None)
        assert trainer.task.info["workers"] == 2 and trainer.task.info["streaming"]
        torch.manual_seed(11)
        return [b.clone() for b in trainer.task.train]

    first, second = batches(), batches()
    assert len(first) == 6 and all(torch.equal(a, b) for a, b in zip(first, second))




def test_a_run_with_workers_resumes_mid_epoch_exactly(tmp_path):
    _corpus(tmp_path / "speech")
    config = _config(tmp_path / "speech", workers=2)
    whole, parted = tmp_path / "whole", tmp_path / "parted"
    Trainer(config, whole).fit()
    summary = Trainer(config, parted, listeners=[StopAtStep(parted, 4)]).fit()
    assert summary["status"] == "stopped" and summary["steps"] == 4
    summary = Trainer(config, parted, resume=True).fit()
    assert summary["status"] == "finished" and summary["steps"] == 12
    a, b = (checkpoint.load(d / "last.pt")["model"]["state"] for d in (whole, parted))
    for key in a:
        assert torch.equal(a[key], b[key]), f"{key}: the resumed run saw other batches"
