"""``sigdae denoise - -``: audio through standard input and output, nothing else on stdout."""

import io
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from denoise_helpers import PYTHON, tiny_image_model, tiny_speech_model, write_speech


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return tiny_speech_model(tmp_path_factory.mktemp("model"))


def _sigdae(*argv, stdin: bytes) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "-m", "sigdae", *map(str, argv)], input=stdin, capture_output=True, timeout=300)


def test_pipe_through_a_real_process(model, tmp_path):
    src = write_speech(tmp_path / "in.wav", seconds=1.0, subtype="PCM_24")
    done = _sigdae("denoise", "--model", model, "--threads", "1", "-", "-", stdin=src.read_bytes())
    assert done.returncode == 0, done.stderr.decode()
    assert b"Traceback" not in done.stderr
    # stdout is the WAV and nothing else: the same bytes as denoising the file
    assert main_denoise(model, src, tmp_path / "file.wav") == 0
    assert done.stdout == (tmp_path / "file.wav").read_bytes()
    out, rate = sf.read(io.BytesIO(done.stdout))
    assert rate == 16000 and out.shape == (16000,) and sf.info(io.BytesIO(done.stdout)).subtype == "PCM_24"

    empty = _sigdae("denoise", "--model", model, "-", "-", stdin=b"")
    assert empty.returncode == 2 and empty.stdout == b""
    assert empty.stderr.decode().strip() == "sigdae: error: standard input is empty: no audio to denoise"


def main_denoise(model, src, dst) -> int:
    from sigdae.cli import main

    return main(["denoise", "--model", str(model), str(src), str(dst), "--quiet"])


def _stdin(monkeypatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


def test_stdin_closed_early_is_one_line(capsysbinary, monkeypatch, model, tmp_path):
    wav = write_speech(tmp_path / "in.wav").read_bytes()
    _stdin(monkeypatch, wav[:30])  # the writer stopped in the middle of the header
    code = run_bytes(capsysbinary, "denoise", "--model", model, "-", "-")
    assert code[0] == 2 and code[1] == b""
    line = code[2].decode().strip()
    assert len(line.splitlines()) == 1 and line.startswith("sigdae: error: cannot read audio from standard input")
    assert "sigdae-" not in line  # the temporary copy is not named


def run_bytes(capsysbinary, *argv):
    from sigdae.cli import main

    code = main([str(a) for a in argv])
    out, err = capsysbinary.readouterr()
    return code, out, err


def test_format_and_subtype_for_stdout(capsysbinary, monkeypatch, model, tmp_path):
    _stdin(monkeypatch, write_speech(tmp_path / "in.wav").read_bytes())
    code, out, err = run_bytes(capsysbinary, "denoise", "--model", model, "-", "-", "--format", "flac",
                               "--subtype", "PCM_24")
    assert code == 0, err
    info = sf.info(io.BytesIO(out))
    assert (info.format, info.subtype, info.frames) == ("FLAC", "PCM_24", 8000)
    assert b"denoised" in err  # messages go to stderr


def test_one_side_only(capsysbinary, monkeypatch, model, tmp_path):
    src = write_speech(tmp_path / "in.wav")
    _stdin(monkeypatch, src.read_bytes())
    code, out, err = run_bytes(capsysbinary, "denoise", "--model", model, "-", tmp_path / "from-stdin.flac")
    assert code == 0 and sf.info(tmp_path / "from-stdin.flac").frames == 8000, err
    code, out, err = run_bytes(capsysbinary, "denoise", "--model", model, src, "-", "--subtype", "FLOAT")
    assert code == 0, err
    assert sf.info(io.BytesIO(out)).subtype == "FLOAT"
    data, _ = sf.read(io.BytesIO(out), dtype="float32")
    expected, _ = sf.read(tmp_path / "from-stdin.flac", dtype="float32")
    assert np.abs(data - expected).max() < 1e-4  # the same audio (the FLAC output is 16-bit)


def test_pipe_usage_errors(capsysbinary, monkeypatch, model, tmp_path):
    src = write_speech(tmp_path / "in.wav")
    for argv, message in [
        (["-", tmp_path / "o.wav", "--format", "flac"], "--format is for standard output"),
        ([src, tmp_path / "o.wav", "--format", "flac"], "--format is for standard output"),
        ([src, "-", "--json"], "--json prints to standard output"),
        ([src, "-", "--format", "nope"], "unknown format 'NOPE'"),
    ]:
        _stdin(monkeypatch, src.read_bytes())
        code, out, err = run_bytes(capsysbinary, "denoise", "--model", model, *argv)
        assert code == 2 and out == b"" and message in err.decode(), (argv, err)
        assert len(err.decode().strip().splitlines()) == 1
    _stdin(monkeypatch, src.read_bytes())
    code, out, err = run_bytes(capsysbinary, "denoise", "--model", tiny_image_model(tmp_path), "-", "-")
    assert code == 2 and b"image model" in err and out == b""
