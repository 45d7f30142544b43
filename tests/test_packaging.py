"""Packaging: the repository folders tui/, datasets/ and assets/ ship as sigdae.tui, sigdae.datasets and
sigdae.assets, in a real wheel and in the editable install, and never as top-level packages."""

import torch

torch.set_num_threads(1)

import importlib.util  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import textwrap  # noqa: E402
import zipfile  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from sigdae.version import __version__ as VERSION  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MNIST_FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
               "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
# what the build reads: pyproject.toml and the folders it maps into the sigdae package
SOURCES = ["pyproject.toml", "README.md", "sigdae", "tui", "datasets", "assets"]


def run(argv, **kwargs):
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, **kwargs)
    assert done.returncode == 0, f"{argv}\n{done.stdout}\n{done.stderr}"
    return done


def python_json(code, env, cwd):
    done = run([sys.executable, "-c", textwrap.dedent(code)], env=env, cwd=cwd)
    return json.loads(done.stdout.strip().splitlines()[-1])


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """Build the wheel from a copy of the repository's package sources (setuptools builds in-tree and
    would otherwise leave build/ and a refreshed sigdae.egg-info in the shared checkout)."""
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    src.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, src / name)
    out = base / "dist"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "--disable-pip-version-check", "-q", "-w", str(out), str(src)])
    wheels = list(out.glob("sigdae-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def wheel_names(wheel):
    with zipfile.ZipFile(wheel) as zf:
        return zf.namelist()


def test_wheel_holds_the_mapped_packages(wheel, wheel_names):
    names = set(wheel_names)
    assert wheel.name.startswith(f"sigdae-{VERSION}-") and wheel.name.endswith("-none-any.whl")
    for required in ["sigdae/__init__.py", "sigdae/__main__.py", "sigdae/cli/__init__.py", "sigdae/cli/__main__.py",
                     "sigdae/trainer.py", "sigdae/models/conv.py",
                     "sigdae/corruptions/__init__.py", "sigdae/tui/__init__.py", "sigdae/tui/app.py",
                     "sigdae/datasets/__init__.py", "sigdae/datasets/mnist.py", "sigdae/assets/__init__.py",
                     *[f"sigdae/datasets/mnist/{f}" for f in MNIST_FILES],
                     *[f"sigdae/{init.parent.relative_to(ROOT / 'sigdae').as_posix()}/__init__.py"
                       for init in (ROOT / "sigdae").glob("*/__init__.py")]]:  # every sub-package ships
        assert required in names, required


def test_wheel_has_no_top_level_repository_folders(wheel_names):
    top = {name.split("/")[0] for name in wheel_names}
    assert top == {"sigdae", f"sigdae-{VERSION}.dist-info"}, top
    for name in wheel_names:
        assert not name.startswith(("tui/", "datasets/", "assets/", "tests/", "examples/", "benchmarks/")), name


def test_wheel_metadata(wheel):
    with zipfile.ZipFile(wheel) as zf:
        entry_points = zf.read(f"sigdae-{VERSION}.dist-info/entry_points.txt").decode()
        metadata = zf.read(f"sigdae-{VERSION}.dist-info/METADATA").decode()
        sizes = {info.filename: info.file_size for info in zf.infolist()}
    assert "sigdae = sigdae.cli:main" in entry_points
    assert "Name: sigdae" in metadata and f"Version: {VERSION}" in metadata
    for f in MNIST_FILES:  # the real files, not pointers
        assert sizes[f"sigdae/datasets/mnist/{f}"] == (ROOT / "datasets" / "mnist" / f).stat().st_size


def test_installed_wheel_works_on_its_own(wheel, tmp_path):
    target = tmp_path / "site"
    run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--disable-pip-version-check", "-q",
         "--target", str(target), str(wheel)])
    assert (target / "sigdae" / "datasets" / "mnist" / MNIST_FILES[2]).is_file()
    assert not (target / "tui").exists() and not (target / "datasets").exists()
    result = python_json("""
        import importlib.util, json
        import sigdae, sigdae.tui, sigdae.assets
        import sigdae.datasets.mnist as m
        images, labels = m.load_mnist("test")
        spec = importlib.util.find_spec("datasets")
        print(json.dumps({"sigdae": sigdae.__file__, "tui": sigdae.tui.__file__, "assets": sigdae.assets.__file__,
                          "mnist": m.__file__, "bundled": str(m.bundled_dir()),
                          "images": list(images.shape), "labels": list(labels.shape),
                          "max": int(images.max()), "datasets": spec.origin if spec else None}))
        """, env=clean_env(PYTHONPATH=str(target)), cwd=tmp_path)
    for key in ("sigdae", "tui", "assets", "mnist", "bundled"):
        assert Path(result[key]).resolve().is_relative_to(target.resolve()), (key, result[key])
    assert result["images"] == [10000, 28, 28] and result["labels"] == [10000] and result["max"] == 255
    if result["datasets"] is not None:
        origin = Path(result["datasets"]).resolve()
        assert not origin.is_relative_to(target.resolve()) and not origin.is_relative_to(ROOT)


def test_editable_install_maps_the_folders():
    import sigdae.assets
    import sigdae.datasets
    import sigdae.datasets.mnist
    import sigdae.tui

    assert Path(sigdae.datasets.__file__).resolve() == ROOT / "datasets" / "__init__.py"
    assert Path(sigdae.datasets.mnist.__file__).resolve() == ROOT / "datasets" / "mnist.py"
    assert Path(sigdae.tui.__file__).resolve() == ROOT / "tui" / "__init__.py"
    assert Path(sigdae.assets.__file__).resolve() == ROOT / "assets" / "__init__.py"
    assert sigdae.datasets.mnist.bundled_dir().resolve() == ROOT / "datasets" / "mnist"


def test_editable_install_has_no_top_level_datasets_or_tui(tmp_path):
    # in a fresh interpreter outside the checkout (``python -m pytest`` puts the checkout itself on sys.path)
    result = python_json("""
        import importlib.util, json
        import sigdae.datasets, sigdae.tui
        found = {}
        for name in ("datasets", "tui", "assets"):
            spec = importlib.util.find_spec(name)
            found[name] = spec.origin if spec else None
        print(json.dumps({"found": found, "sigdae_datasets": sigdae.datasets.__file__,
                          "sigdae_tui": sigdae.tui.__file__}))
        """, env=clean_env(), cwd=tmp_path)
    assert Path(result["sigdae_datasets"]).resolve() == ROOT / "datasets" / "__init__.py"
    assert Path(result["sigdae_tui"]).resolve() == ROOT / "tui" / "__init__.py"
    for name, origin in result["found"].items():
        if origin is not None:
            assert not Path(origin).resolve().is_relative_to(ROOT), f"top-level '{name}' resolves to {origin}"


def test_find_spec_datasets_in_this_process_is_not_the_repository_folder_unless_cwd(monkeypatch):
    # only the current directory (put on sys.path by ``python -m pytest``) could expose the folder as ``datasets``
    paths = [p for p in sys.path if Path(p or ".").resolve() != ROOT]
    monkeypatch.setattr(sys, "path", paths)
    for name in ("datasets", "tui"):
        monkeypatch.delitem(sys.modules, name, raising=False)
        spec = importlib.util.find_spec(name)
        assert spec is None or not Path(spec.origin or "").resolve().is_relative_to(ROOT), spec
