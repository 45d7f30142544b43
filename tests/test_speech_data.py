import os

import numpy as np
import pytest
import soundfile as sf
import torch
from torch.utils.data import DataLoader

from sigdae import audio
from sigdae.datasets.speech import (CleanSpeech, PairedFolders, SpeechDataError, speaker_of, split_by_speaker)

torch.set_num_threads(1)


def voice(seconds, sr, f0, seed=0):
    t = np.arange(int(seconds * sr)) / sr
    rng = np.random.default_rng(seed)
    x = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 5)) * 0.2 + 0.01 * rng.standard_normal(len(t))
    return x.astype(np.float32)


@pytest.fixture()
def libri(tmp_path):
    """LibriSpeech-like layout: root/<speaker>/<chapter>/<spk>-<chap>-<utt>.flac (+ a stray text file)."""
    root = tmp_path / "libri"
    spec = {"19": (198, [0.5, 0.3]), "26": (495, [0.4]), "103": (1240, [0.6, 0.2, 0.25]), "1034": (121, [0.35])}
    for spk, (chap, durations) in spec.items():
        folder = root / spk / str(chap)
        folder.mkdir(parents=True)
        for u, dur in enumerate(durations):
            sf.write(folder / f"{spk}-{chap}-{u:04d}.flac", voice(dur, 16000, 100 + int(spk) % 200, u), 16000)
        (folder / f"{spk}-{chap}.trans.txt").write_text("HELLO\n")
    sf.write(root / "19" / "198" / "19-198-0009.wav", np.stack([voice(0.3, 8000, 150)] * 2, 1), 8000)
    return root


def test_speaker_of_understands_common_layouts():
    assert speaker_of("/data/LibriSpeech/train-clean-100/19/198/19-198-0001.flac") == "19"
    assert speaker_of("/flat/train-clean-100/7113-86041-0000.flac") == "7113"
    assert speaker_of("/vb/clean_trainset_wav/p287_001.wav") == "p287"
    assert speaker_of("noisy/p232_014.wav") == "p232"
    assert speaker_of("fsdd/recordings/0_jackson_0.wav") == "jackson"
    assert speaker_of("fsdd/recordings/7_george_49.wav") == "george"
    assert speaker_of("/x/allison/digits/1.wav") == "digits"


def test_split_by_speaker_is_disjoint_seeded_and_complete(libri):
    files = audio.list_audio(libri)
    train, val = split_by_speaker(files, val_fraction=0.3, seed=1)
    assert sorted(train + val) == sorted(files)
    assert {speaker_of(f) for f in train}.isdisjoint({speaker_of(f) for f in val})
    assert val and train
    assert split_by_speaker(files, 0.3, seed=1) == (train, val)
    seen = {tuple(split_by_speaker(files, 0.3, seed=s)[1]) for s in range(10)}
    assert len(seen) > 1
    assert split_by_speaker(files, 0.0) == (files, [])
    with pytest.raises(SpeechDataError, match="two speakers"):
        split_by_speaker([f for f in files if speaker_of(f) == "103"], 0.5)
    with pytest.raises(SpeechDataError, match="val_fraction"):
        split_by_speaker(files, 1.0)


def test_clean_speech_random_segments(libri):
    ds = CleanSpeech(libri, sample_rate=16000, segment_seconds=0.25, segments_per_epoch=20)
    assert len(ds.files) == 8 and not any(f.endswith(".txt") for f in ds.files)
    assert len(ds) == 20
    torch.manual_seed(0)
    items = [ds[i] for i in range(len(ds))]
    assert all(x.shape == (1, 4000) and x.dtype == torch.float32 for x in items)
    assert len({tuple(x[0, :20].tolist()) for x in items}) > 10  # random crops differ
    # the 8 kHz stereo file was averaged and resampled at load
    i = [os.path.basename(f) for f in ds.files].index("19-198-0009.wav")
    assert ds.lengths[i] == 4800
    batch = next(iter(DataLoader(ds, batch_size=4)))
    assert batch.shape == (4, 1, 4000)


def test_clean_speech_default_epoch_and_short_files(libri):
    ds = CleanSpeech(libri, segment_seconds=0.5)
    assert len(ds) == int(ds.lengths.sum()) // 8000
    short = ds.files.index(next(f for f in ds.files if f.endswith("103-1240-0001.flac")))  # 0.2 s
    padded = ds.segment_at(short, 0)
    assert padded.shape == (1, 8000) and (padded[0, 3200:] == 0).all() and padded[0, :3200].abs().sum() > 0
    looped = CleanSpeech(libri, segment_seconds=0.5, pad="loop").segment_at(short, 0)
    assert torch.equal(looped[0, 3200:6400], looped[0, :3200])
    with pytest.raises(SpeechDataError, match="pad"):
        CleanSpeech(libri, pad="mirror")


def test_clean_speech_deterministic_validation(libri):
    a = CleanSpeech(libri, segment_seconds=0.2, segments_per_epoch=12, deterministic=True, seed=3)
    b = CleanSpeech(libri, segment_seconds=0.2, segments_per_epoch=12, deterministic=True, seed=3)
    torch.manual_seed(0)
    first = [a[i] for i in range(12)]
    torch.manual_seed(99)
    assert all(torch.equal(x, a[i]) and torch.equal(x, b[i]) for i, x in enumerate(first))
    c = CleanSpeech(libri, segment_seconds=0.2, segments_per_epoch=12, deterministic=True, seed=4)
    assert not all(torch.equal(x, c[i]) for i, x in enumerate(first))
    with pytest.raises(IndexError):
        a[12]


def test_clean_speech_disk_cache_is_used_and_keyed_by_mtime(libri, tmp_path):
    cache = tmp_path / "cache"
    files = audio.list_audio(libri)
    first = CleanSpeech(files=files, segment_seconds=0.2, cache_dir=cache)
    entries = sorted(cache.glob("*.pt"))
    assert len(entries) == len(files) and not list(cache.glob(".*"))
    # a second run reads the cache, not the audio: make the cached audio recognisable
    marker = torch.full((1234,), 0.5)
    torch.save(marker, entries[0])
    again = CleanSpeech(files=files, segment_seconds=0.2, cache_dir=cache)
    assert any(torch.equal(x, marker) for x in again.audio)
    # touching a file changes its key, so it is decoded again
    for f in files:
        os.utime(f, ns=(os.stat(f).st_atime_ns, os.stat(f).st_mtime_ns + 10**9))
    fresh = CleanSpeech(files=files, segment_seconds=0.2, cache_dir=cache)
    assert not any(torch.equal(x, marker) for x in fresh.audio)
    assert all(torch.equal(x, y) for x, y in zip(fresh.audio, first.audio))


def test_clean_speech_errors(tmp_path, libri):
    with pytest.raises(SpeechDataError, match="does not exist"):
        CleanSpeech(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SpeechDataError, match="no audio files"):
        CleanSpeech(tmp_path / "empty")
    with pytest.raises(audio.AudioError, match="gone.flac"):
        CleanSpeech(files=[str(tmp_path / "gone.flac")])
    with pytest.raises(SpeechDataError, match="segment_seconds"):
        CleanSpeech(libri, segment_seconds=0)
    with pytest.raises(SpeechDataError, match="segments_per_epoch"):
        CleanSpeech(libri, segments_per_epoch=0)


@pytest.fixture()
def paired(tmp_path):
    root = tmp_path / "vb"
    for side in ("clean", "noisy"):
        (root / side).mkdir(parents=True)
    rng = np.random.default_rng(0)
    for k, dur in enumerate([0.5, 0.3, 0.12]):
        clean = voice(dur, 16000, 150 + 20 * k, k)
        sf.write(root / "clean" / f"p287_00{k}.wav", clean, 16000)
        sf.write(root / "noisy" / f"p287_00{k}.wav", clean + 0.05 * rng.standard_normal(len(clean)).astype(np.float32),
                 16000)
    return root


def test_paired_folders_full_files_and_segments(paired):
    ds = PairedFolders(paired)
    assert len(ds) == 3 and ds.names == ["p287_000.wav", "p287_001.wav", "p287_002.wav"]
    noisy, clean = ds[0]
    assert noisy.shape == clean.shape == (1, 8000)
    assert 0.001 < (noisy - clean).pow(2).mean() < 0.01  # aligned: only the added noise differs
    seg = PairedFolders(paired, segment_seconds=0.1)
    for i in range(3):
        noisy, clean = seg[i]
        assert noisy.shape == clean.shape == (1, 1600)
        assert (noisy - clean).pow(2).mean() < 0.01
    short = PairedFolders(paired, segment_seconds=0.2)[2]  # 0.12 s file, zero-padded
    assert short[0].shape == (1, 3200) and (short[1][0, 1920:] == 0).all()
    fixed = PairedFolders(paired, segment_seconds=0.1, deterministic=True, cache=True)
    torch.manual_seed(0)
    first = fixed[0][1]
    torch.manual_seed(1)
    assert torch.equal(PairedFolders(paired, segment_seconds=0.1, deterministic=True)[0][1], first)
    assert torch.equal(fixed[0][1], first)
    torch.manual_seed(0)
    starts = {tuple(seg[0][1][0, :5].tolist()) for _ in range(8)}
    assert len(starts) > 1  # random segments otherwise
    resampled = PairedFolders(paired, sample_rate=8000)[1]
    assert resampled[0].shape == (1, 2400)


def test_paired_folders_reports_missing_pairs(paired, tmp_path):
    os.remove(paired / "noisy" / "p287_001.wav")
    sf.write(paired / "noisy" / "p287_009.wav", voice(0.1, 16000, 100), 16000)
    with pytest.raises(SpeechDataError) as e:
        PairedFolders(paired)
    msg = str(e.value)
    assert "noisy/ lacks p287_001.wav" in msg and "clean/ lacks p287_009.wav" in msg and "\n" not in msg
    (tmp_path / "only").mkdir()
    (tmp_path / "only" / "clean").mkdir()
    with pytest.raises(SpeechDataError, match="noisy"):
        PairedFolders(tmp_path / "only")


def test_paired_folders_pair_by_stem(paired):
    for name in ("p287_001", "p287_002"):  # the noisy side in other formats
        x, sr = sf.read(paired / "noisy" / f"{name}.wav", dtype="float32")
        os.remove(paired / "noisy" / f"{name}.wav")
        sf.write(paired / "noisy" / f"{name}.{'flac' if name.endswith('1') else 'ogg'}", x, sr)
    ds = PairedFolders(paired)
    assert ds.names == ["p287_000.wav", "p287_001.wav", "p287_002.wav"]
    assert ds.noisy_names == ["p287_000.wav", "p287_001.flac", "p287_002.ogg"]
    noisy, clean = ds[1]
    assert noisy.shape == clean.shape and (noisy - clean).pow(2).mean() < 0.01
    sf.write(paired / "noisy" / "p287_001.wav", voice(0.1, 16000, 100), 16000)
    with pytest.raises(SpeechDataError, match="both p287_001.flac and p287_001.wav"):
        PairedFolders(paired)
