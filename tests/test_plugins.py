"""Third-party corruptions through the ``sigdae.corruptions`` entry-point group, installed for real with pip
into a temporary folder (sigdae itself is not changed): the example plugin, and a broken one."""

import torch

torch.set_num_threads(1)

import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import textwrap  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

import sigdae  # noqa: E402
import sigdae.corruptions  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "sigdae-plugin-example"
ENTRY = "brokennoise"
BROKEN_VALUE = "sigdae_broken_plugin.noise:BrokenNoise"


def pip_install(source: Path, target: Path) -> None:
    # build from a copy: an in-tree build would leave build/ and *.egg-info behind in the source folder
    copy = target.parent / f"{source.name}-src"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
                           "--no-index", "--disable-pip-version-check", "-q", "--target", str(target), str(copy)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def env_with(*paths: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in paths)
    env["COLUMNS"] = "200"
    env.update(TTY_COMPATIBLE="1", NO_COLOR="1")  # listings print as on a terminal (a Rich table), not as in a pipe
    return env


CLI_HELPER = """
import contextlib, io
from sigdae.cli import main as _main

def run_cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = _main(list(argv))
    return {"code": code, "out": out.getvalue(), "err": err.getvalue()}
"""


def python(code: str, env: dict, cwd: Path) -> dict:
    """Run ``code`` in a fresh interpreter (``run_cli(*argv)`` runs the sigdae command there); its last
    printed line is JSON."""
    done = subprocess.run([sys.executable, "-c", CLI_HELPER + textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=300, env=env, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def example_target(tmp_path_factory):
    target = tmp_path_factory.mktemp("plugin") / "site"
    pip_install(EXAMPLE, target)
    return target


@pytest.fixture(scope="module")
def broken_target(tmp_path_factory):
    base = tmp_path_factory.mktemp("broken")
    src = base / "sigdae-broken-plugin"
    (src / "sigdae_broken_plugin").mkdir(parents=True)
    (src / "pyproject.toml").write_text(textwrap.dedent(f"""\
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "sigdae-broken-plugin"
        version = "0.0.1"

        [project.entry-points."sigdae.corruptions"]
        {ENTRY} = "{BROKEN_VALUE}"

        [tool.setuptools]
        packages = ["sigdae_broken_plugin"]
        """))
    (src / "sigdae_broken_plugin" / "__init__.py").write_text("")
    (src / "sigdae_broken_plugin" / "noise.py").write_text(
        'raise ImportError("needs libfrobnicate, which is not installed")\n')
    target = base / "site"
    pip_install(src, target)
    return target


def test_the_plugin_is_not_part_of_sigdae():
    assert "scanlines" not in sigdae.corruptions.names()
    assert not (Path(sigdae.__file__).parent / "corruptions" / "scanlines.py").exists()


def test_install_left_the_example_folder_clean(example_target):
    assert (example_target / "sigdae_plugin_example" / "__init__.py").is_file()
    entry_points = next(example_target.glob("sigdae_plugin_example-*.dist-info")) / "entry_points.txt"
    assert "scanlines = sigdae_plugin_example:ScanLines" in entry_points.read_text()
    assert not (EXAMPLE / "build").exists() and not list(EXAMPLE.glob("*.egg-info"))
    assert not (example_target / "sigdae").exists(), "--no-deps: sigdae must come from the environment"


def test_example_plugin_through_its_entry_point(example_target):
    result = python("""
        import json, torch
        torch.set_num_threads(1)
        import sigdae, sigdae.corruptions as C
        from sigdae.registry import CORRUPTIONS
        from sigdae.testing import check_corruption, sample_batch

        names = C.names()
        c = C.parse("scanlines(fraction=0.3)")
        x = sample_batch("image", n=8)
        y = c(x, torch.Generator().manual_seed(0))
        rows_blank = (y == 0).all(dim=-1).flatten(1).float().mean().item()
        check_corruption(C.get("scanlines"), fraction=0.3)
        check_corruption(c)
        chained = C.parse("gaussian(std=0.1) + scanlines(fraction=0.5)")
        print(json.dumps({"names": names, "spec": c.spec(), "fraction": c.fraction, "name": c.name,
                          "type": type(c).__module__ + ":" + type(c).__name__, "shape": list(y.shape),
                          "rows_blank": rows_blank, "origin": CORRUPTIONS.origin("scanlines"),
                          "failures": CORRUPTIONS.failures, "chained": chained.spec(),
                          "sigdae": sigdae.__file__, "list": run_cli("corruptions", "list"),
                          "show": run_cli("corruptions", "show", "scanlines")}))
        """, env_with(example_target), cwd=example_target.parent)
    assert "scanlines" in result["names"]
    assert {"gaussian", "salt_pepper", "noise_factor"} <= set(result["names"])
    assert result["name"] == "scanlines" and result["fraction"] == 0.3
    assert result["type"] == "sigdae_plugin_example:ScanLines"
    assert result["spec"].startswith("scanlines(") and "fraction=0.3" in result["spec"]
    assert result["shape"] == [8, 1, 28, 28]
    assert 0.05 < result["rows_blank"] < 0.6
    assert result["origin"] == "entry point sigdae.corruptions: sigdae_plugin_example:ScanLines"
    assert result["failures"] == {}
    assert "scanlines" in result["chained"] and "gaussian" in result["chained"]
    assert Path(result["sigdae"]).resolve().is_relative_to(ROOT), "sigdae must be the unchanged editable install"

    listed = result["list"]  # `sigdae corruptions list`
    assert listed["code"] == 0 and listed["err"] == ""
    row = next(line for line in listed["out"].splitlines() if "│ scanlines " in line)
    assert "image" in row and "spectrogram" in row and "entry point" in row
    assert "│ gaussian " in listed["out"]
    shown = result["show"]  # `sigdae corruptions show scanlines`
    assert shown["code"] == 0 and shown["out"].startswith("scanlines:")
    assert "fraction" in shown["out"] and "value" in shown["out"]


def test_broken_plugin_is_reported_in_one_line_and_builtins_still_work(example_target, broken_target):
    env = env_with(example_target, broken_target)
    result = python(f"""
        import json, torch
        torch.set_num_threads(1)
        import sigdae.corruptions as C
        from sigdae.registry import CORRUPTIONS, RegistryError

        names = C.names()
        y = C.parse("gaussian(std=0.2)")(torch.zeros(2, 1, 8, 8), torch.Generator().manual_seed(0))
        try:
            C.get("{ENTRY}")
            error = None
        except RegistryError as exc:
            error = str(exc)
        print(json.dumps({{"names": names, "failures": CORRUPTIONS.failures, "error": error,
                          "std": y.std().item(), "scanlines": C.parse("scanlines").spec(),
                          "list": run_cli("corruptions", "list"), "show": run_cli("corruptions", "show", "{ENTRY}"),
                          "preview": run_cli("corruptions", "preview", "{ENTRY}(x=1)", "--out", "never.png")}}))
        """, env, cwd=broken_target.parent)
    assert ENTRY not in result["names"]
    assert {"gaussian", "salt_pepper", "scanlines"} <= set(result["names"])
    assert 0.1 < result["std"] < 0.3
    assert result["scanlines"].startswith("scanlines(")
    failure = result["failures"][ENTRY]
    assert "\n" not in failure
    assert f"sigdae.corruptions: {BROKEN_VALUE}" in failure and "libfrobnicate" in failure
    assert "ImportError" in failure
    assert result["error"] == failure

    listed = result["list"]  # `sigdae corruptions list`
    assert listed["code"] == 0
    assert "│ gaussian " in listed["out"] and "│ scanlines " in listed["out"] and ENTRY not in listed["out"]
    warnings = listed["err"].strip().splitlines()
    assert len(warnings) == 1, listed["err"]
    assert warnings[0] == f"warning: {failure}"
    assert warnings[0].startswith(f"warning: plugin corruptions '{ENTRY}'")

    assert not (broken_target.parent / "never.png").exists()
    for used in (result["show"], result["preview"]):  # using it is a one-line usage error
        assert used["code"] == 2 and used["out"] == ""
        assert used["err"].count("\n") == 1 and BROKEN_VALUE in used["err"] and "Traceback" not in used["err"]
