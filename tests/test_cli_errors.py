"""How `sigdae` ends: a user's mistake is one line and exit 2, Ctrl+C is 130, a bug keeps its traceback;
`python -m sigdae` and `python -m sigdae.cli` are the same command as `sigdae`."""

import subprocess
import sys

import pytest

import sigdae
import sigdae.cli.export
from sigdae import errors
from sigdae.cli import main


def _export_raises(monkeypatch, exc):
    def handler(args):
        raise exc

    monkeypatch.setattr(sigdae.cli.export, "run", handler)  # the parser is built per call: it picks this up


@pytest.mark.parametrize("exc", [errors.CheckpointError("no such checkpoint: x"), errors.PluginError("unknown x"),
                                 errors.RunError("the run is busy"), errors.AudioError("cannot read audio y")])
def test_a_sigdae_error_is_one_line_and_exit_2(capsys, monkeypatch, exc):
    _export_raises(monkeypatch, exc)
    assert main(["export", "a", "b.pt"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == f"sigdae: error: {exc}\n"


@pytest.mark.parametrize("exc", [FileNotFoundError(2, "No such file or directory", "in.wav"),
                                 PermissionError(13, "Permission denied", "out/"),
                                 IsADirectoryError(21, "Is a directory", "x"),
                                 NotADirectoryError(20, "Not a directory", "y/z")])
def test_an_os_error_about_a_path_is_one_line_and_exit_2(capsys, monkeypatch, exc):
    _export_raises(monkeypatch, exc)
    assert main(["export", "a", "b.pt"]) == 2
    assert capsys.readouterr().err == f"sigdae: error: {exc.strerror}: {exc.filename}\n"


def test_ctrl_c_exits_130(capsys, monkeypatch):
    _export_raises(monkeypatch, KeyboardInterrupt())
    assert main(["export", "a", "b.pt"]) == 130
    assert capsys.readouterr().err == "sigdae: interrupted\n"


@pytest.mark.parametrize("exc", [ValueError("a bug"), LookupError("a bug"), RuntimeError("a bug"),
                                 TypeError("a bug"), OSError("disk on fire")])
def test_any_other_exception_is_a_bug_and_propagates(monkeypatch, exc):
    _export_raises(monkeypatch, exc)
    with pytest.raises(type(exc)):
        main(["export", "a", "b.pt"])


def test_a_bug_shows_its_traceback_and_exits_1(tmp_path):
    code = ("import sys, sigdae.cli.export as e\n"
            "def bug(args): raise ZeroDivisionError('a bug')\n"
            "e.run = bug\n"
            "from sigdae.cli import main\n"
            "sys.exit(main(['export', 'a', 'b.pt']))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 1
    assert "Traceback" in done.stderr and "ZeroDivisionError: a bug" in done.stderr


def test_errors_share_one_parent_and_keep_their_builtin_bases():
    assert sigdae.SigdaeError is errors.SigdaeError
    for cls, builtin in ((errors.UsageError, ValueError), (errors.ConfigError, ValueError),
                         (errors.PluginError, LookupError), (errors.RunError, RuntimeError)):
        assert issubclass(cls, errors.SigdaeError) and issubclass(cls, builtin)


@pytest.mark.parametrize("module", ["sigdae", "sigdae.cli"])
def test_python_dash_m(tmp_path, module):
    done = subprocess.run([sys.executable, "-m", module, "--version"], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.strip() == f"sigdae {sigdae.__version__}"
    done = subprocess.run([sys.executable, "-m", module, "recipes"], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.startswith("mnist\t")
    done = subprocess.run([sys.executable, "-m", module, "train", "--recipe", "nope"], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.startswith("sigdae: error: unknown recipe 'nope'")
    assert done.stderr.count("\n") == 1
