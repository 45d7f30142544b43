"""Config validation: unknown keys anywhere with a suggestion, [train] types and limits, one line each,
through the library and through `sigdae train` (exit 2, no traceback)."""

import pytest

from sigdae.cli import main
from sigdae.config import apply_override, complete
from sigdae.errors import ConfigError
from sigdae.recipes import recipe
from sigdae.tasks import get_task


@pytest.mark.parametrize("override, words", [
    ("seeed=3", "unknown top-level setting 'seeed' (did you mean 'seed'?)"),
    ("wandb.project=x", "unknown top-level setting 'wandb'"),
    ("loss.spek=mse", "unknown [loss] setting 'spek' (did you mean 'spec'?)"),
    ("corruption.std=0.3", "unknown [corruption] setting 'std'"),
    ("train.epohcs=3", "unknown [train] setting 'epohcs' (did you mean 'epochs'?)"),
    ("train.epochs=0", "train.epochs must be at least 1"),
    ("train.epochs=-3", "train.epochs must be at least 1"),
    ("train.max_minutes=-5", "train.max_minutes must be at least 0"),
    ("train.lr=0", "train.lr must be above 0"),
    ("train.lr=abc", "train.lr must be a finite number"),
    ("train.lr=nan", "train.lr must be a finite number"),
    ("train.batch_size=1.5", "train.batch_size must be a whole number"),
    ("train.batch_size=0", "train.batch_size must be at least 1"),
    ("train.batch_size=-4", "train.batch_size must be at least 1"),
    ("train.warmup=2", "train.warmup must be at least 0 and at most 1"),
    ("seed=1.5", "seed must be a whole number"),
])
def test_bad_settings_are_one_line_errors(override, words):
    config = recipe("mnist")
    apply_override(config, override)
    with pytest.raises(ConfigError) as info:
        complete(config)
    assert words in str(info.value) and "\n" not in str(info.value)


def test_unknown_data_keys_are_refused_by_the_task():
    with pytest.raises(ConfigError, match=r"unknown \[data\] \(task mnist\) setting 'foo'"):
        get_task("mnist").data({"data": {"foo": 1}})
    with pytest.raises(ConfigError, match="did you mean 'noise_dirs'"):
        get_task("speech-spec").data({"data": {"noise_dir": ["x"]}})
    assert get_task("mnist").data({"data": {"limit": 5}})["limit"] == 5


def test_the_recipes_pass_the_checks():
    from sigdae.recipes import RECIPES

    for name in RECIPES:
        config = complete(recipe(name))
        get_task(config["task"]).data(config)


@pytest.mark.parametrize("args, words", [
    (["--set", "seeed=3"], "did you mean 'seed'"),
    (["--epochs", "0"], "train.epochs must be at least 1"),
    (["--max-minutes", "-5"], "train.max_minutes must be at least 0"),
    (["--lr", "0"], "train.lr must be above 0"),
    (["--batch-size", "0"], "train.batch_size must be at least 1"),
    (["--set", "data.foo=1"], "unknown [data] (task mnist) setting 'foo'"),
])
def test_sigdae_train_refuses_bad_settings_in_one_line(args, words, tmp_path, capsys):
    code = main(["train", "--recipe", "mnist", "--run-dir", str(tmp_path / "r"), "--quiet", *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and words in err[0]
    assert not (tmp_path / "r" / "config.toml").exists()


@pytest.mark.parametrize("spec, words", [
    ("gaussian(std=nan)", "std=nan must be a finite number"),
    ("gaussian(std=[0.1, inf])", "must be a finite number"),
    ("gaussian(p=nan)", "p=nan must be a finite number"),
    ("oneof(gaussian, masking, weights=[nan, 1])", "weights must be finite"),
])
def test_non_finite_corruption_parameters_are_refused(spec, words):
    from sigdae.corruptions import CorruptionError, parse

    with pytest.raises(CorruptionError, match=words.replace("[", r"\[")):
        parse(spec)


@pytest.mark.parametrize("spec, words", [
    ("gain(3)", None),
    ("gaussian(0.3)", "gaussian: give its parameters by name, e.g. gaussian(std=...)"),
    ("(" * 300 + "gaussian" + ")" * 300, "nested more than 64 levels deep"),
    ("gaussian(std=" + "[" * 300, "nested more than 64 levels deep"),
])
def test_positional_values_and_deep_nesting(spec, words):
    from sigdae.corruptions import CorruptionError, parse

    if words is None:
        assert parse(spec).spec() == "gain(db=3.0)"
        return
    with pytest.raises(CorruptionError) as info:
        parse(spec)
    assert words in str(info.value) and len(str(info.value)) < 300


class Broken:
    """Plugin corruptions that fail in their own ways."""

    @staticmethod
    def classes():
        import torch

        from sigdae.corruptions import Corruption

        class Raises(Corruption):
            def apply_params(self, x, params, sample_rate):
                raise IndexError("list index out of range")

        class Shrinks(Corruption):
            def apply_params(self, x, params, sample_rate):
                return x[:, :, :-1]

        class Moves(Corruption):
            def apply_params(self, x, params, sample_rate):
                return x.to("meta")

        return {"test_raises": Raises, "test_shrinks": Shrinks, "test_moves": Moves}, torch


@pytest.mark.parametrize("name, words", [
    ("test_raises", "corruption 'test_raises' (plugin from test_config_checks) failed in apply_params: IndexError"),
    ("test_shrinks", "corruption 'test_shrinks' (plugin from test_config_checks) returned (2, 1, 2, 3)"),
    ("test_moves", "returned (2, 1, 3, 3) on meta for an input of (2, 1, 3, 3) on cpu"),
])
def test_a_failing_plugin_is_named(name, words):
    from sigdae.corruptions import CORRUPTIONS, parse
    from sigdae.errors import SigdaeError

    classes, torch = Broken.classes()
    CORRUPTIONS.add(name, classes[name], origin="tests", replace=True)
    with pytest.raises(SigdaeError) as info:
        parse(name)(torch.zeros(2, 1, 3, 3), torch.Generator().manual_seed(0))
    assert words in str(info.value) and "\n" not in str(info.value)


def test_a_corruption_for_another_signal_is_refused_before_training(tmp_path):
    from sigdae.trainer import Trainer

    config = recipe("mnist", {"corruption.spec": "hum"})
    with pytest.raises(ConfigError, match="works on waveform, not on the images of task 'mnist'"):
        Trainer(config, tmp_path / "r")


@pytest.mark.parametrize("args, words", [
    (["--resume", "a-file"], "--resume a-file: not a run directory"),
    (["--recipe", "mnist", "--corruption", " "], "--corruption needs a spec"),
    (["--recipe", "mnist", "--set", "model.channels=abc"], "model 'conv' cannot be built"),
    (["--config", "binary.toml"], "is not valid TOML: it is not UTF-8 text"),
])
def test_more_bad_train_input_is_one_line(args, words, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "binary.toml").write_bytes(bytes(range(128, 256)))
    code = main(["train", *args, "--run-dir", str(tmp_path / "r"), "--quiet"] if "--resume" not in args
                else ["train", *args, "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and words in err[0]


def test_a_missing_speech_folder_names_its_setting(tmp_path):
    with pytest.raises(ConfigError, match=r"data.clean_dirs \(--clean-dir\): no such folder: .*nowhere"):
        get_task("speech-spec").data({"data": {"clean_dirs": [str(tmp_path / "nowhere")]}})
    with pytest.raises(ConfigError, match=r"data.rir_dir \(--rir-dir\)"):
        get_task("speech-spec").default_corruption({"rir_dir": str(tmp_path / "nowhere")})
