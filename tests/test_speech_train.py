"""Speech training end to end on tiny generated folders: auto corruption, speaker split, eval on pairs."""

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sigdae.cli import main

RATE = 16000


def _voice(seconds: float, f0: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(RATE * seconds)) / RATE
    x = sum(np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 6)) / k for k in range(1, 10))
    return (0.1 * x * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)


def _folders(root: Path) -> dict[str, Path]:
    clean, noise, pairs = root / "clean", root / "noise", root / "pairs"
    for speaker in range(4):
        folder = clean / str(100 + speaker) / "1"
        folder.mkdir(parents=True)
        for utt in range(2):
            sf.write(folder / f"{100 + speaker}-1-{utt:04d}.flac", _voice(1.5, 110 + 30 * speaker, utt), RATE)
    noise.mkdir()
    rng = np.random.default_rng(9)
    sf.write(noise / "hiss.wav", (0.05 * rng.standard_normal(RATE * 2)).astype(np.float32), 22050)
    for side in ("clean", "noisy"):
        (pairs / side).mkdir(parents=True)
    for k in range(2):
        voice = _voice(1.2, 150 + 20 * k, 10 + k)
        sf.write(pairs / "clean" / f"p{k}.wav", voice, RATE)
        sf.write(pairs / "noisy" / f"p{k}.wav", voice + 0.05 * rng.standard_normal(voice.size).astype(np.float32), RATE)
    return {"clean": clean, "noise": noise, "pairs": pairs}


def test_speech_recipes_train_and_evaluate(tmp_path, capsys):
    d = _folders(tmp_path)
    for recipe in ("speech-spec", "speech-wave", "speech-realtime"):
        run = tmp_path / recipe
        code = main(["train", "--recipe", recipe, "--clean-dir", str(d["clean"]), "--noise-dir", str(d["noise"]),
                     "--run-dir", str(run), "--epochs", "1", "--batch-size", "2", "--device", "cpu", "--quiet",
                     "--set", "data.segments_per_epoch=4", "--set", "data.val_segments=2",
                     "--set", "data.segment_seconds=0.5", "--set", "data.val_seconds=0.5"])
        assert code == 0
        config = (run / "config.toml").read_text()
        assert "noise_file(dir=" in config and "babble(dir=" in config  # "auto" resolved from the folders
        events = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]
        assert events[0]["data"]["train_files"] + events[0]["data"]["val_files"] == 8
        assert "si_sdr" in events[-2]["val"]
    capsys.readouterr()
    assert main(["eval", str(tmp_path / "speech-spec"), "--pairs", str(d["pairs"]), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["files"] == 2 and set(result["mean"]["enhanced"]) >= {"si_sdr", "pesq_wb", "stoi"}
    assert result["rtf"] > 0


def test_speech_task_without_clean_dir_is_a_clear_error(tmp_path, capsys):
    assert main(["train", "--recipe", "speech-spec", "--run-dir", str(tmp_path / "r"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--clean-dir" in err[0]


def test_bad_augmentation_settings_are_a_clear_error(tmp_path, capsys):
    d = _folders(tmp_path)
    for setting, words in (("data.speed=[1.2, 0.9]", "data.speed"), ("data.eq_db=-3", "data.eq_db"),
                           ("data.noise_speed=[0.1, 1.0]", "noise_file: speed"),
                           ("data.noise_level_db=-2", "noise_file: level_db"),
                           ("data.noise_events=1.5", "noise_file: events"),
                           ('data.noise_eq_db="abc"', "noise_file: eq_db"), ("data.rumble=-1", "data.rumble"),
                           ("data.tones=true", "data.tones")):
        code = main(["train", "--recipe", "speech-spec", "--clean-dir", str(d["clean"]), "--noise-dir",
                     str(d["noise"]), "--run-dir", str(tmp_path / "r"), "--quiet", "--device", "cpu", "--set", setting])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and words in err[0]


def auto_corruption(data):
    from sigdae.tasks import get_task

    return get_task("speech-spec").default_corruption(data).spec()


def test_auto_chain_adds_rumble_and_tones_only_when_asked(tmp_path):
    from sigdae.corruptions.spec import parse

    data = {"noise_dirs": [str(tmp_path)], "snr_db": [-5.0, 20.0]}
    assert "rumble(" not in auto_corruption(data) and "rumble(" not in auto_corruption({**data, "rumble": 0})
    assert "tones(" not in auto_corruption(data)
    spec = auto_corruption({**data, "rumble": 0.5, "tones": 0.25})
    noise = parse(spec).steps[1]
    assert [c.name for c in noise.choices[-2:]] == ["rumble", "tones"] and noise.weights[-2:] == [0.5, 0.25]
    assert all(list(c.snr_db) == [-5.0, 20.0] for c in noise.choices[-2:])


def test_auto_chain_weights_each_noise_type_and_leaves_out_those_at_zero(tmp_path):
    from sigdae.corruptions.spec import parse
    from sigdae.tasks import TaskError, get_task

    data = {"noise_dirs": [str(tmp_path)], "clean_dirs": [str(tmp_path)], "snr_db": [-5.0, 7.0]}
    noise = parse(auto_corruption(data)).steps[1]
    assert [c.name for c in noise.choices] == ["noise_file", "babble", *["colored_noise"] * 3]
    assert noise.weights == [3.0, 1.0, 0.5, 0.5, 0.5] and list(noise.choices[1].snr_db) == [0.0, 20.0]
    noise = parse(auto_corruption({**data, "recorded": 4, "colored": 0.4, "babble_snr_db": [0.0, 15.0]})).steps[1]
    assert noise.weights == [4.0, 1.0, 0.4, 0.4, 0.4] and list(noise.choices[1].snr_db) == [0.0, 15.0]
    assert parse(auto_corruption({**data, "babble": 0, "colored": 0})).steps[1].name == "noise_file"
    with pytest.raises(TaskError, match="no noise"):
        get_task("speech-spec").default_corruption({**data, "recorded": 0, "babble": 0, "colored": 0})


def test_auto_chain_gates_recordings_into_events_only_when_asked(tmp_path):
    from sigdae.corruptions.spec import parse

    data = {"noise_dirs": [str(tmp_path)], "snr_db": [-5.0, 20.0]}
    assert "events" not in auto_corruption(data) and "events" not in auto_corruption({**data, "noise_events": 0})
    recordings = parse(auto_corruption({**data, "noise_events": 0.3})).steps[1].choices[0]
    assert recordings.name == "noise_file" and recordings.events == 0.3
