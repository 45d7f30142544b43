"""``sigdae denoise FILE OUT``: OUT as a folder, unknown extensions, non-finite samples, colour images and
arrays in the models' own layout."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from denoise_helpers import run, tiny_image_model, tiny_speech_model, write_speech
from PIL import Image

from sigdae.api import load_model


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return tiny_speech_model(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def image_model(tmp_path_factory):
    return tiny_image_model(tmp_path_factory.mktemp("model"))


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_a_folder_as_out_gets_the_input_name(capsys, model, tmp_path):
    src = write_speech(tmp_path / "noisy.wav")
    code, out, err = run(capsys, "denoise", "--model", model, src, str(tmp_path / "newdir") + "/")
    assert code == 0, err
    assert sf.info(tmp_path / "newdir" / "noisy.wav").frames == 8000
    (tmp_path / "existing").mkdir()
    code, out, err = run(capsys, "denoise", "--model", model, src, tmp_path / "existing")
    assert code == 0, err
    assert (tmp_path / "existing" / "noisy.wav").is_file()
    code, out, err = run(capsys, "denoise", "--model", model, src, tmp_path / "existing")
    assert code == 2 and "exists (pass --overwrite" in _one_line(err)


def test_unknown_output_extension_names_the_known_ones(capsys, model, tmp_path):
    src = write_speech(tmp_path / "noisy.wav")
    code, _, err = run(capsys, "denoise", "--model", model, src, tmp_path / "out.xyz")
    line = _one_line(err)
    assert code == 2 and "unknown audio extension '.xyz'" in line and ".flac" in line and ".wav" in line
    assert "format=" not in line
    code, _, err = run(capsys, "denoise", "--model", model, src, tmp_path / "out.wav", "--subtype", "VORBIS")
    assert code == 2 and "not allowed in WAV" in _one_line(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["noisy.wav"]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_samples_are_refused_when_read(capsys, model, tmp_path, bad):
    x = np.full((4000, 2), 0.1, np.float32)
    x[2500, 1] = bad
    sf.write(tmp_path / "nan.wav", x, 16000, subtype="FLOAT")
    code, _, err = run(capsys, "denoise", "--model", model, tmp_path / "nan.wav", tmp_path / "out.wav")
    line = _one_line(err)
    assert code == 2 and "nan.wav" in line and "non-finite" in line and "0.156 s" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nan.wav"]


def test_rgb_images_are_denoised_per_channel(capsys, image_model, tmp_path):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 255, (20, 24, 3), dtype=np.uint8)
    Image.fromarray(rgb, mode="RGB").save(tmp_path / "colour.png")
    code, _, err = run(capsys, "denoise", "--model", image_model, tmp_path / "colour.png", tmp_path / "out.png")
    assert code == 0, err
    with Image.open(tmp_path / "out.png") as img:
        assert img.mode == "RGB" and img.size == (24, 20)
        out = np.asarray(img)
    for c in range(3):  # each channel is what the channel alone, as a gray image, gives
        Image.fromarray(rgb[..., c], mode="L").save(tmp_path / f"c{c}.png")
        assert run(capsys, "denoise", "--model", image_model, tmp_path / f"c{c}.png", tmp_path / f"o{c}.png")[0] == 0
        with Image.open(tmp_path / f"o{c}.png") as img:
            assert np.array_equal(np.asarray(img), out[..., c])

    rgba = np.dstack([rgb, np.full((20, 24), 77, np.uint8)])
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "alpha.png")
    assert run(capsys, "denoise", "--model", image_model, tmp_path / "alpha.png", tmp_path / "alpha-out.png")[0] == 0
    with Image.open(tmp_path / "alpha-out.png") as img:
        assert img.mode == "RGBA" and (np.asarray(img)[..., 3] == 77).all()  # alpha kept, not denoised
        assert np.array_equal(np.asarray(img)[..., :3], out)

    Image.fromarray(np.repeat(rgb[..., :1], 3, axis=2), mode="RGB").save(tmp_path / "gray-in-rgb.png")
    assert run(capsys, "denoise", "--model", image_model, tmp_path / "gray-in-rgb.png", tmp_path / "g.png")[0] == 0
    with Image.open(tmp_path / "g.png") as img:
        assert img.mode == "L" and np.array_equal(np.asarray(img), np.asarray(Image.open(tmp_path / "o0.png")))


def test_npy_in_the_models_layout(capsys, image_model, tmp_path):
    batch = np.random.default_rng(1).random((3, 1, 16, 16)).astype(np.float32)
    np.save(tmp_path / "batch.npy", batch)
    code, _, err = run(capsys, "denoise", "--model", image_model, tmp_path / "batch.npy", tmp_path / "out.npy")
    assert code == 0, err
    out = np.load(tmp_path / "out.npy")
    assert out.shape == (3, 1, 16, 16) and out.dtype == np.float32
    expected = load_model(image_model, device="cpu").denoise(torch.from_numpy(batch)).numpy()
    np.testing.assert_allclose(out, expected, atol=1e-6)
    np.save(tmp_path / "wrong.npy", np.zeros((2, 3, 16, 16), np.float32))
    code, _, err = run(capsys, "denoise", "--model", image_model, tmp_path / "wrong.npy", tmp_path / "o.npy")
    assert code == 2 and "(N, 1, H, W)" in _one_line(err)


def test_a_self_looping_symlink_as_output_is_one_line(tmp_path, capsys):
    import os

    from sigdae.cli import main

    loop = tmp_path / "loop.wav"
    os.symlink(loop.name, loop)
    noisy = Path(__file__).resolve().parents[1] / "assets" / "examples" / "noisy.wav"
    assert main(["denoise", str(noisy), str(loop), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "symbolic link that leads back to itself" in err[0]


def test_export_never_replaces_a_file_without_overwrite(tmp_path, capsys):
    from sigdae.cli import main

    out = tmp_path / "model.pt"
    out.write_bytes(b"mine")
    assert main(["export", str(Path(__file__).resolve().parents[1] / "assets/speech16k.pt"), str(out)]) == 2
    assert "pass --overwrite" in capsys.readouterr().err and out.read_bytes() == b"mine"
