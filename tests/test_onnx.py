"""ONNX: `sigdae export RUN model.onnx`, `load_model("model.onnx")` / `denoise --model model.onnx` through
onnxruntime, and the numpy-only example, each within 1e-4 of the PyTorch path."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from sigdae import checkpoint
from sigdae.api import load_model
from sigdae.cli import main
from sigdae.enhance import Enhancer, bundled_model_path
from sigdae.models import build_model
from sigdae.stream import StreamEnhancer

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "onnx_denoise.py"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    path = tmp_path_factory.mktemp("onnx") / "speech.onnx"
    assert main(["export", str(bundled_model_path()), str(path), "--note", "for tests"]) == 0
    return path


@pytest.fixture(scope="module")
def bundled():
    return load_model(bundled_model_path(), device="cpu")


def _noisy(rate: int, seconds: float, channels: int = 1) -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.arange(int(rate * seconds)) / rate
    voice = np.sin(2 * np.pi * 200 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 2 * t))
    return np.stack([0.2 * voice + 0.05 * rng.standard_normal(t.size) for _ in range(channels)]).astype(np.float32)


def test_export_writes_the_network_with_its_facts(exported, capsys):
    import onnx

    proto = onnx.load(str(exported))
    meta = {p.key: p.value for p in proto.metadata_props}
    assert meta["sigdae_graph"] == "stft_mask" and meta["sample_rate"] == "16000" and meta["note"] == "for tests"
    assert (meta["n_fft"], meta["hop"], meta["time_multiple"]) == ("512", "256", "1024")
    assert not any(node.op_type in ("STFT", "DFT") for node in proto.graph.node)  # STFT stays outside
    loaded = load_model(exported)
    assert loaded.signal == "waveform" and loaded.sample_rate == 16000 and loaded.num_parameters() > 300_000


@pytest.mark.parametrize("rate, channels, length", [(16000, 1, 40000), (44100, 2, 30000), (48000, 1, 100)])
def test_onnx_matches_torch(exported, bundled, rate, channels, length):
    x = torch.from_numpy(_noisy(rate, 1.0, channels)[:, :length].copy()) if length < rate else \
        torch.from_numpy(_noisy(rate, length / rate, channels))
    want = Enhancer(bundled).enhance_tensor(x, rate)
    got = Enhancer(load_model(exported)).enhance_tensor(x, rate)
    assert got.shape == x.shape and (got - want).abs().max() < 1e-4


def test_denoise_and_stream_take_an_onnx_model(tmp_path, exported, bundled, capsys):
    x = _noisy(16000, 2.0)
    sf.write(tmp_path / "in.wav", x.T, 16000, subtype="FLOAT")
    assert main(["denoise", "--model", str(exported), str(tmp_path / "in.wav"), str(tmp_path / "out.wav"),
                 "--quiet"]) == 0
    out = sf.read(tmp_path / "out.wav", dtype="float32")[0]
    want = Enhancer(bundled).enhance_tensor(torch.from_numpy(x), 16000)[0].numpy()
    assert out.shape == want.shape and np.abs(out - want).max() < 1e-4
    stream = StreamEnhancer(load_model(exported), 16000, 1)
    streamed = np.concatenate([stream.process(x[0, :20000]).numpy(), stream.process(x[0, 20000:]).numpy(),
                               stream.flush().numpy()])
    assert np.abs(streamed - want).max() < 1e-4


def _run_example_without_torch(model: Path, folder: Path) -> None:
    """Run the example on folder/noisy.wav into folder/clean.wav with torch made unimportable: it must
    need only numpy and onnxruntime."""
    code = ("import sys, runpy; sys.modules['torch'] = None; sys.argv = sys.argv[1:]; "
            "runpy.run_path(sys.argv[0], run_name='__main__')")
    run = subprocess.run([sys.executable, "-c", code, str(EXAMPLE), str(model), str(folder / "noisy.wav"),
                          str(folder / "clean.wav")], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_the_numpy_example_runs_without_torch(tmp_path, exported, bundled):
    x = np.round(_noisy(16000, 1.5, channels=2) * 32767) / 32768
    sf.write(tmp_path / "noisy.wav", x.T, 16000, subtype="PCM_16")
    _run_example_without_torch(exported, tmp_path)
    clean, rate = sf.read(tmp_path / "clean.wav", dtype="float32", always_2d=True)
    noisy = torch.from_numpy(sf.read(tmp_path / "noisy.wav", dtype="float32", always_2d=True)[0].T.copy())
    want = Enhancer(bundled).enhance_tensor(noisy, 16000).numpy()
    assert rate == 16000 and clean.shape == want.T.shape
    assert np.abs(clean.T - want).max() < 1e-4  # 16-bit output: within half a step plus float rounding


def test_short_input_in_the_example(exported, bundled):
    import runpy

    import onnxruntime as ort

    denoise = runpy.run_path(str(EXAMPLE))["denoise"]
    session = ort.InferenceSession(str(exported), providers=["CPUExecutionProvider"])
    for length in (1, 100, 300):
        x = _noisy(16000, 0.1)[0, :length]
        want = Enhancer(bundled).enhance(torch.from_numpy(x), 16000).numpy()
        assert np.abs(denoise(session, x) - want).max() < 1e-4


@pytest.fixture(scope="module")
def realtime_onnx(tmp_path_factory):
    path = tmp_path_factory.mktemp("onnx") / "realtime.onnx"
    assert main(["export", "realtime", str(path)]) == 0
    return path


def test_causal_model_exports_its_stream_step(realtime_onnx, capsys):
    import onnx

    proto = onnx.load(str(realtime_onnx))
    meta = {p.key: p.value for p in proto.metadata_props}
    assert meta["sigdae_graph"] == "causal_mask" and meta["lookahead_samples"] == "319"
    assert [i.name for i in proto.graph.input] == ["input", "past"]
    assert [o.name for o in proto.graph.output] == ["output", "next_past"]
    assert not any(node.op_type in ("STFT", "DFT") for node in proto.graph.node)
    assert [node.op_type for node in proto.graph.node][-1] == "If"  # a layout for streams, one for files


def test_both_layouts_of_the_causal_step_give_the_model_s_gains(realtime_onnx):
    import onnxruntime as ort

    from sigdae.onnx_causal import MANY_FRAMES, CausalRowsGraph

    session = ort.InferenceSession(str(realtime_onnx), providers=["CPUExecutionProvider"])
    rows = CausalRowsGraph(load_model("realtime", device="cpu").module.frame_step())
    generator = torch.Generator().manual_seed(0)
    for frames in (1, 2, MANY_FRAMES - 1, MANY_FRAMES, 3 * MANY_FRAMES):
        logmag = torch.randn(2, frames, 161, generator=generator) - 3
        past = torch.randn(2, rows.step.history, rows.step.hidden, generator=generator)
        with torch.no_grad():
            want = rows(logmag, past)
        got = session.run(None, {"input": logmag.numpy(), "past": past.numpy()})
        for g, w in zip(got, want):
            assert g.shape == tuple(w.shape) and np.abs(g - w.numpy()).max() < 1e-4, frames


@pytest.mark.parametrize("rate, channels", [(16000, 1), (48000, 2)])
def test_causal_onnx_file_and_stream_match_torch(realtime_onnx, rate, channels):
    x = torch.from_numpy(_noisy(rate, 1.3, channels))
    torch_model, onnx_model = load_model("realtime", device="cpu"), load_model(realtime_onnx)
    want = Enhancer(torch_model, band="model").enhance_tensor(x, rate)
    got = Enhancer(onnx_model, band="model").enhance_tensor(x, rate)
    assert got.shape == x.shape and (got - want).abs().max() < 1e-4
    stream = StreamEnhancer(onnx_model, rate, channels)
    assert stream.latency == StreamEnhancer(torch_model, rate, channels).latency
    block = rate // 100
    streamed = torch.cat([stream.process(x[:, i:i + block]) for i in range(0, x.shape[1], block)] +
                         [stream.flush()], dim=1)
    assert streamed.shape == x.shape and (streamed - want).abs().max() < 1e-4


def test_the_numpy_example_streams_a_causal_model_without_torch(tmp_path, realtime_onnx):
    x = np.round(_noisy(16000, 1.0) * 32767) / 32768
    sf.write(tmp_path / "noisy.wav", x.T, 16000, subtype="PCM_16")
    _run_example_without_torch(realtime_onnx, tmp_path)
    clean = sf.read(tmp_path / "clean.wav", dtype="float32", always_2d=True)[0].T
    noisy = torch.from_numpy(sf.read(tmp_path / "noisy.wav", dtype="float32", always_2d=True)[0].T.copy())
    want = Enhancer(load_model("realtime", device="cpu")).enhance_tensor(noisy, 16000).numpy()
    assert clean.shape == want.shape and np.abs(clean - want).max() < 1e-4


def _model_file(tmp_path: Path, name: str, signal: str, **extra) -> Path:
    torch.manual_seed(0)
    model = build_model(name, **extra.pop("config", {}))
    model.train()
    with torch.no_grad():  # non-trivial batch-norm statistics
        model(torch.rand(4, 1, 28, 28) if signal == "image" else torch.randn(4, 1, 4096) * 0.1)
    path = tmp_path / f"{name}.pt"
    checkpoint.save(path, checkpoint.model_payload(model, signal=signal, **extra))
    return path


def test_other_models_are_exported_whole(tmp_path, capsys):
    image = _model_file(tmp_path, "conv", "image", task="mnist", config={"channels": [8, 16]})
    assert main(["export", str(image), str(tmp_path / "image.onnx")]) == 0
    assert "the whole model" in capsys.readouterr().out
    x = torch.rand(3, 1, 28, 28)
    want = load_model(image, device="cpu").denoise(x)
    assert (load_model(tmp_path / "image.onnx").denoise(x) - want).abs().max() < 1e-4
    wave = _model_file(tmp_path, "wave_unet", "waveform", sample_rate=8000, task="speech",
                       config={"channels": [8, 16, 32]})
    assert main(["export", str(wave), str(tmp_path / "wave.onnx")]) == 0
    x = torch.from_numpy(_noisy(8000, 1.3, channels=2))
    want = Enhancer(load_model(wave, device="cpu")).enhance_tensor(x, 8000)
    assert (Enhancer(load_model(tmp_path / "wave.onnx")).enhance_tensor(x, 8000) - want).abs().max() < 1e-4


def test_onnx_mistakes_are_one_line(tmp_path, exported, capsys, monkeypatch):
    assert main(["export", str(bundled_model_path()), str(tmp_path / "a.onnx"), "--average",
                 str(bundled_model_path())]) == 2
    assert main(["denoise", "--model", str(tmp_path / "missing.onnx"), str(tmp_path / "x.wav"),
                 str(tmp_path / "y.wav")]) == 2
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(ValueError, match="cannot read ONNX model"):
        load_model(tmp_path / "junk.onnx")
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "--average" in err[0] and "missing.onnx" in err[1]
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "onnxruntime" else real(name, *a))
    with pytest.raises(ValueError, match=r"sigdae\[onnx\]"):
        load_model(exported)
