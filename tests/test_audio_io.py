import math
import os

import numpy as np
import pytest
import soundfile as sf
import torch

from sigdae import audio
from sigdae.audio import AudioError, StreamWriter

torch.set_num_threads(1)


def tone(channels=2, frames=4000, sr=16000, amp=0.5):
    t = torch.arange(frames) / sr
    return torch.stack([amp * torch.sin(2 * math.pi * (220 + 110 * c) * t) for c in range(channels)])


@pytest.mark.parametrize("name,subtype,exact_subtype,tol", [
    ("a.wav", "PCM_16", "PCM_16", 1 / 2**14),
    ("a.wav", "PCM_24", "PCM_24", 1 / 2**22),
    ("a.wav", "FLOAT", "FLOAT", 0.0),
    ("a.flac", None, "PCM_16", 1 / 2**14),
    ("a.flac", "PCM_24", "PCM_24", 1 / 2**22),
    ("a.ogg", None, "VORBIS", None),
])
def test_round_trip_keeps_rate_channels_length_subtype(tmp_path, name, subtype, exact_subtype, tol):
    x = tone(channels=2, frames=4000, sr=22050)
    path = tmp_path / name
    audio.write(path, x, 22050, subtype=subtype)
    i = audio.info(path)
    assert (i.sample_rate, i.channels, i.frames, i.subtype) == (22050, 2, 4000, exact_subtype)
    assert i.duration == pytest.approx(4000 / 22050)
    y, sr = audio.read(path)
    assert sr == 22050 and y.shape == (2, 4000) and y.dtype == torch.float32
    if tol is not None:
        assert (y - x).abs().max() <= tol
    else:  # lossy: still the same signal
        cos = (x * y).sum() / (x.norm() * y.norm())
        assert cos > 0.95


def test_opus_round_trip(tmp_path):
    x = tone(channels=1, frames=48000, sr=48000)
    audio.write(tmp_path / "a.opus", x, 48000)
    i = audio.info(tmp_path / "a.opus")
    assert (i.format, i.subtype, i.sample_rate, i.channels) == ("OGG", "OPUS", 48000, 1)
    y, sr = audio.read(tmp_path / "a.opus")
    assert sr == 48000 and y.shape[0] == 1 and abs(y.shape[1] - 48000) < 1000


def test_mono_1d_input_and_clipping_for_integer_subtypes(tmp_path):
    x = torch.tensor([0.0, 0.5, 2.0, -3.0])
    audio.write(tmp_path / "m.wav", x, 8000)
    y, _ = audio.read(tmp_path / "m.wav")
    assert y.shape == (1, 4)
    assert y.max() <= 1.0 and y.min() >= -1.0 and y[0, 2] > 0.99 and y[0, 3] == -1.0
    audio.write(tmp_path / "f.wav", x, 8000, subtype="FLOAT")
    y, _ = audio.read(tmp_path / "f.wav")
    assert torch.equal(y[0], x)


def test_write_is_atomic_and_does_not_clobber_on_error(tmp_path):
    target = tmp_path / "keep.wav"
    audio.write(target, tone(1, 800), 16000)
    before = target.read_bytes()
    with pytest.raises(AudioError, match="keep.wav"):
        audio.write(target, torch.full((1, 10), float("nan")), 16000)
    with pytest.raises(AudioError, match="not allowed in OGG"):
        audio.write(tmp_path / "x.ogg", tone(1, 800), 16000, subtype="PCM_24")
    with pytest.raises(AudioError, match="keep.wav"):
        audio.write(target, torch.zeros(2, 3, 4), 16000)
    assert target.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["keep.wav"]
    audio.write(target, tone(1, 1600), 16000)  # replacing works and leaves nothing behind
    assert audio.info(target).frames == 1600 and sorted(os.listdir(tmp_path)) == ["keep.wav"]


def test_missing_and_unreadable_files_raise_one_line(tmp_path):
    for bad in (tmp_path / "nope.wav", tmp_path):
        with pytest.raises(AudioError) as e:
            audio.read(bad)
        assert str(bad) in str(e.value) and "\n" not in str(e.value)
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"this is not audio at all" * 10)
    for fn in (audio.read, audio.info):
        with pytest.raises(AudioError) as e:
            fn(junk)
        assert "junk.wav" in str(e.value) and "\n" not in str(e.value)
    assert issubclass(AudioError, ValueError)
    with pytest.raises(AudioError, match="nope"):
        list(audio.iter_blocks(tmp_path / "nope.wav", 100))
    with pytest.raises(AudioError, match="does not exist"):
        audio.list_audio(tmp_path / "missing")


def test_streaming_blocks_concatenate_to_whole_file(tmp_path):
    x = tone(2, 10_007, sr=16000)
    path = tmp_path / "s.flac"
    audio.write(path, x, 16000, subtype="PCM_24")
    blocks = list(audio.iter_blocks(path, 1000))
    assert len(blocks) == 11 and all(b.shape == (2, 1000) for b in blocks[:-1]) and blocks[-1].shape == (2, 7)
    whole, _ = audio.read(path)
    assert torch.equal(torch.cat(blocks, dim=1), whole)
    with pytest.raises(AudioError):
        list(audio.iter_blocks(path, 0))


def test_stream_writer_keeps_format_and_renames_on_close(tmp_path):
    src = tmp_path / "src.wav"
    audio.write(src, tone(2, 5000), 16000, subtype="PCM_24")
    out = tmp_path / "out.wav"
    with StreamWriter.like(out, src) as w:
        assert not out.exists()  # only a temp file while writing
        for block in audio.iter_blocks(src, 1024):
            w.write(block)
    assert w.frames == 5000
    i = audio.info(out)
    assert (i.sample_rate, i.channels, i.frames, i.subtype) == (16000, 2, 5000, "PCM_24")
    assert torch.equal(audio.read(out)[0], audio.read(src)[0])
    assert sorted(os.listdir(tmp_path)) == ["out.wav", "src.wav"]


def test_stream_writer_removes_temp_on_exception(tmp_path):
    out = tmp_path / "out.flac"
    audio.write(out, tone(1, 100), 8000)
    before = out.read_bytes()
    with pytest.raises(RuntimeError, match="boom"):
        with StreamWriter(out, 8000, channels=1) as w:
            w.write(tone(1, 500)[0])
            raise RuntimeError("boom")
    with pytest.raises(AudioError, match="2 channels"):
        with StreamWriter(out, 8000, channels=1) as w:
            w.write(tone(2, 500))
    assert out.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["out.flac"]


@pytest.mark.parametrize("orig,new,frames", [(16000, 8000, 16000), (8000, 16000, 8000), (44100, 16000, 44100),
                                             (48000, 16000, 4801)])
def test_resample_lengths(orig, new, frames):
    x = torch.randn(2, frames)
    y = audio.resample(x, orig, new)
    assert y.shape == (2, math.ceil(frames * new / orig))
    assert audio.resample(x, orig, orig) is x
    with pytest.raises(AudioError):
        audio.resample(x, orig, 0)


def test_resample_keeps_a_tone():
    sr, f = 16000, 440.0
    x = torch.sin(2 * math.pi * f * torch.arange(sr) / sr)
    y = audio.resample(x, sr, 8000)
    spectrum = torch.fft.rfft(y).abs()
    assert abs(int(spectrum.argmax()) - f) <= 1  # 1 s at 8 kHz: bin k = k Hz


def test_list_audio_and_load(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    sf.write(tmp_path / "a" / "b" / "x.flac", np.zeros((800, 2), np.float32), 8000)
    sf.write(tmp_path / "y.wav", np.zeros(400, np.float32), 8000)
    (tmp_path / "MANIFEST.tsv").write_text("not audio")
    files = audio.list_audio(tmp_path)
    assert [os.path.basename(f) for f in files] == ["x.flac", "y.wav"]
    assert [os.path.basename(f) for f in audio.list_audio(tmp_path, recursive=False)] == ["y.wav"]
    x = audio.load(files[0], sample_rate=16000, mono=True)
    assert x.shape == (1, 1600)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_samples_are_refused_at_read_time(tmp_path, bad):
    x = np.full((3000, 2), 0.25, np.float32)
    x[2000, 1] = bad
    path = tmp_path / "bad.wav"
    sf.write(path, x, 8000, subtype="FLOAT")
    for reader in (lambda: audio.read(path), lambda: list(audio.iter_blocks(path, 512)),
                   lambda: audio.check_finite(path, block_frames=700), lambda: audio.load(path, 16000)):
        with pytest.raises(AudioError) as e:
            reader()
        message = str(e.value)
        assert "bad.wav" in message and "non-finite" in message and "0.250 s" in message and "\n" not in message
    assert audio.read(path, frames=1000)[0].shape == (2, 1000)  # the finite part reads
    audio.check_finite(_pcm(tmp_path))  # integer formats cannot hold NaN: nothing to read


def _pcm(tmp_path):
    audio.write(tmp_path / "pcm.wav", tone(1, 800), 8000)
    return tmp_path / "pcm.wav"


def test_empty_file_and_unknown_extensions_say_so(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(AudioError, match="empty.wav: the file is empty"):
        audio.info(tmp_path / "empty.wav")
    for name, words in [("out.xyz", "unknown audio extension '.xyz' (known: "), ("out", "no extension")]:
        with pytest.raises(AudioError) as e:
            audio.write(tmp_path / name, tone(1, 100), 8000)
        assert words in str(e.value) and ".flac" in str(e.value) and "format=" not in str(e.value)
    with pytest.raises(AudioError, match=r"unknown format 'NOPE' \(known: .*WAV"):
        audio.check_writable(tmp_path / "o.wav", format="nope")
    assert ".wav" in audio.writable_extensions() and ".mat" not in audio.writable_extensions()
    assert sorted(os.listdir(tmp_path)) == ["empty.wav"]
