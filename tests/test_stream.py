"""StreamEnhancer and `sigdae live`: blocks of any size in, the file path's output out."""

import gc
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

import sigdae
from sigdae.api import load_model
from sigdae.enhance import Enhancer, bundled_model_path
from sigdae.pcm_stream import PcmFormat, decode, encode, read_wav_header, wav_header
from sigdae.stream import StreamEnhancer


@pytest.fixture(scope="module")
def bundled():
    return load_model(bundled_model_path(), device="cpu")


def _noisy(rate: int, seconds: float, channels: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(rate * seconds)) / rate
    voice = np.sin(2 * np.pi * 180 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
    return np.stack([0.2 * voice + 0.05 * rng.standard_normal(t.size) for _ in range(channels)]).astype(np.float32)


def _file_path_output(model, x: np.ndarray, rate: int, tmp_path: Path) -> np.ndarray:
    sf.write(tmp_path / "in.wav", x.T, rate, subtype="FLOAT")
    Enhancer(model).enhance_file(tmp_path / "in.wav", tmp_path / "out.wav")
    return sf.read(tmp_path / "out.wav", dtype="float32", always_2d=True)[0].T


@pytest.mark.parametrize("rate, channels, seconds", [(16000, 1, 3.2), (48000, 2, 2.5)])
def test_stream_equals_the_file_path(tmp_path, bundled, rate, channels, seconds):
    x = _noisy(rate, seconds, channels)
    stream = sigdae.StreamEnhancer(bundled, rate, channels, chunk_seconds=0.5)
    rng = np.random.default_rng(1)
    outs, pos = [], 0
    while pos < x.shape[1]:
        n = int(rng.choice([1, 7, 160, 480, 4000, 13000]))
        outs.append(stream.process(x[:, pos:pos + n]))
        assert outs[-1].shape[0] == channels
        pos += n
    outs.append(stream.flush())
    streamed = torch.cat(outs, dim=1).numpy()
    assert streamed.shape == x.shape
    assert np.abs(streamed - _file_path_output(bundled, x, rate, tmp_path)).max() < 1e-5


def test_latency_is_look_ahead_plus_one_chunk(bundled):
    stream = StreamEnhancer(bundled, 16000, 1, chunk_seconds=0.25)
    context = Enhancer(bundled).context(16000)
    assert stream.lookahead == context >= bundled.module.receptive_samples
    assert stream.chunk % 1024 == 0 and abs(stream.chunk - 4000) <= 512
    assert stream.latency == pytest.approx((context + stream.chunk) / 16000)
    default = StreamEnhancer(bundled, 16000, 1)
    assert 1.7 < default.latency < 3.0  # the bundled model looks 1.7 s ahead
    # output comes out no later than the latency after its input went in
    x = _noisy(16000, 4.0, 1)[0]
    emitted = 0
    for end in range(160, x.size + 1, 160):
        emitted += stream.process(x[end - 160:end]).shape[0]
        assert emitted >= end - stream.latency_samples


def test_short_streams_silence_and_one_dimensional_blocks(tmp_path, bundled):
    stream = StreamEnhancer(bundled, 48000, 1)
    for length in (1, 2, 100, 511):
        x = _noisy(48000, 0.02, 1)[:, :length]
        assert stream.process(x[0]).shape == (0,)
        out = stream.flush()
        assert out.shape == (length,)
        assert np.abs(out.numpy() - _file_path_output(bundled, x, 48000, tmp_path)[0]).max() < 1e-5
    assert stream.flush().shape == (1, 0)  # nothing in, nothing out
    silence = torch.cat([stream.process(torch.zeros(1, 8000)), stream.flush()], dim=1)
    assert silence.shape == (1, 8000) and silence.abs().max() < 1e-6


def test_a_block_of_the_wrong_shape_is_refused(bundled):
    stream = StreamEnhancer(bundled, 16000, 2)
    with pytest.raises(ValueError, match=r"\(2, samples\)"):
        stream.process(np.zeros(100, np.float32))
    with pytest.raises(ValueError, match="channels"):
        StreamEnhancer(bundled, 16000, 0)


@pytest.mark.parametrize("sample_format", ["s16le", "s24le", "s32le", "f32le"])
def test_pcm_round_trip(sample_format):
    fmt = PcmFormat(8000, 2, sample_format)
    x = np.clip(_noisy(8000, 0.01, 2) * 3, -1, 0.99)
    back = decode(encode(x, fmt), fmt)
    assert back.shape == x.shape and np.abs(back - x).max() <= 2 ** -15
    stream = io.BytesIO(wav_header(fmt) + encode(x, fmt))
    assert read_wav_header(stream) == fmt
    sf_read = sf.read(io.BytesIO(wav_header(fmt, len(encode(x, fmt))) + encode(x, fmt)), dtype="float32")[0]
    assert np.abs(sf_read.T - back).max() < 1e-6


def _sigdae() -> str:
    return str(Path(sys.executable).parent / "sigdae")


class _Pipe:
    """Stands in for sys.stdin / sys.stdout: the command reads and writes ``.buffer``."""

    def __init__(self, buffer):
        self.buffer = buffer


def _live(monkeypatch, stdin: bytes, args: list[str], stdout=None) -> tuple[int, object]:
    from sigdae.cli import main

    stdout = stdout if stdout is not None else io.BytesIO()
    monkeypatch.setattr(sys, "stdin", _Pipe(io.BytesIO(stdin)))
    monkeypatch.setattr(sys, "stdout", _Pipe(stdout))
    return main(["live", *args]), stdout


def test_live_command_streams_stdin_to_stdout(tmp_path, bundled, monkeypatch, capsys):
    x = _noisy(16000, 2.5, 1)
    sf.write(tmp_path / "in.wav", x.T, 16000, subtype="FLOAT")
    run = subprocess.run([_sigdae(), "live", "--threads", "1"], stdin=(tmp_path / "in.wav").open("rb"),
                         capture_output=True)
    assert run.returncode == 0, run.stderr
    assert b"latency" in run.stderr and len(run.stderr.decode().strip().splitlines()) == 1
    (tmp_path / "live.wav").write_bytes(run.stdout)  # an open-ended WAV header, as pipes give
    live, rate = sf.read(tmp_path / "live.wav", dtype="float32", always_2d=True)
    assert rate == 16000 and live.shape == (x.shape[1], 1)
    assert np.abs(live.T - _file_path_output(bundled, x, 16000, tmp_path)).max() < 1e-5
    status, raw = _live(monkeypatch, encode(x, PcmFormat(16000, 1, "s16le")), ["--raw", "s16le", "--rate", "16000",
                                                                                "--quiet"])
    assert status == 0 and capsys.readouterr().err == "" and len(raw.getvalue()) == 2 * x.shape[1]
    with (tmp_path / "seekable.wav").open("wb") as out:  # a file on stdout gets the true sizes
        assert _live(monkeypatch, (tmp_path / "in.wav").read_bytes(), ["--quiet"], out)[0] == 0
    assert sf.info(tmp_path / "seekable.wav").frames == x.shape[1]


class _FreezeWatch(io.BytesIO):
    """Standard output that records whether the garbage collector had objects frozen at each write."""

    def __init__(self):
        super().__init__()
        self.frozen = []

    def write(self, data):
        self.frozen.append(gc.get_freeze_count() > 0)
        return super().write(data)


def test_live_command_streams_with_the_collector_frozen(monkeypatch):
    """A full collection over torch's objects takes tens of ms: the stream loop runs with them frozen out."""
    x = _noisy(16000, 0.5, 1)
    out = _FreezeWatch()
    assert _live(monkeypatch, encode(x, PcmFormat(16000, 1, "s16le")), ["--raw", "s16le", "--rate", "16000",
                                                                         "--model", "realtime", "--quiet"], out)[0] == 0
    assert out.frozen and all(out.frozen) and gc.get_freeze_count() == 0


def test_live_command_refuses_what_it_cannot_read(monkeypatch, capsys):
    for stdin, args, message in ((b"", [], "empty"), (b"not a wav file at all", [], "--raw"),
                                 (b"\0\0", ["--raw", "s16le"], "--rate")):
        status, out = _live(monkeypatch, stdin, args)
        err = capsys.readouterr().err
        assert status == 2 and message in err and len(err.strip().splitlines()) == 1 and out.getvalue() == b""
