"""MNIST from the bundled IDX files (or a user directory), as numpy arrays or a torch Dataset.

    from sigdae.datasets.mnist import MNIST, train_val_split
    train, val = train_val_split()          # 55000 / 5000 from the train split, seeded
    batch = train.images[idx]               # float32 (B, 1, 28, 28) in [0, 1], no DataLoader needed
"""

from __future__ import annotations

from sigdae.errors import DataError

import gzip
import zlib
from importlib import resources
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset


# IDX type code -> element dtype (always big-endian on disk).
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_PREFIX = {"train": "train", "test": "t10k"}
N_VAL_DEFAULT = 5000


class DatasetError(DataError):
    """A data file is missing, malformed or truncated."""


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except FileNotFoundError:
        raise DatasetError(f"{path}: file not found") from None
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError; truncated gzip is EOFError
        raise DatasetError(f"{path}: cannot decompress ({type(exc).__name__}: {exc})") from None


def read_idx(path: str | Path) -> np.ndarray:
    """Parse an IDX file (``.gz`` transparently gunzipped) into a native-endian numpy array."""
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise DatasetError(f"{path}: not an IDX file (only {len(data)} bytes)")
    if data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise DatasetError(f"{path}: not an IDX file (bad magic number 0x{data[:4].hex()})")
    ndim = data[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(data) < header:
        raise DatasetError(f"{path}: truncated or invalid IDX header ({ndim} dims, {len(data)} bytes)")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[data[2]])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    got = len(data) - header
    if got != expected:
        what = "truncated" if got < expected else "has trailing bytes"
        raise DatasetError(f"{path}: {what}: shape {shape} needs {expected} data bytes, found {got}")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def bundled_dir() -> Path:
    """Folder holding the four bundled, gzipped MNIST IDX files."""
    folder = resources.files("sigdae.datasets") / "mnist"
    path = Path(str(folder))
    if not path.is_dir():
        raise DatasetError(f"bundled MNIST folder not found on disk (got {folder!r}); pass root= instead")
    return path


def _find(root: Path, prefix: str, kind: str, ndims: int) -> Path:
    stems = [f"{prefix}-{kind}-idx{ndims}-ubyte", f"{prefix}-{kind}.idx{ndims}-ubyte"]
    for stem in stems:
        for name in (stem, stem + ".gz"):
            if (root / name).is_file():
                return root / name
    raise DatasetError(f"MNIST file {stems[0]}[.gz] (or {stems[1]}[.gz]) not found in {root}")


def load_mnist(split: str = "train", root: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (N, 28, 28), labels uint8 (N,)) of ``split`` ("train" or "test")."""
    if split not in _PREFIX:
        raise DatasetError(f"unknown MNIST split {split!r} (use 'train' or 'test')")
    folder = bundled_dir() if root is None else Path(root)
    if not folder.is_dir():
        raise DatasetError(f"MNIST directory {folder} does not exist")
    img_path = _find(folder, _PREFIX[split], "images", 3)
    lbl_path = _find(folder, _PREFIX[split], "labels", 1)
    images, labels = read_idx(img_path), read_idx(lbl_path)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DatasetError(f"{img_path}: expected uint8 (N, 28, 28) images, got {images.dtype} {images.shape}")
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DatasetError(f"{lbl_path}: expected uint8 (N,) labels, got {labels.dtype} {labels.shape}")
    if len(images) != len(labels):
        raise DatasetError(f"{img_path} has {len(images)} images but {lbl_path} has {len(labels)} labels")
    return images, labels


class MNIST(Dataset):
    """MNIST digits as float32 (1, 28, 28) tensors in [0, 1] (``uint8 / 255``).

    The whole split lives in ``.images`` (N, 1, 28, 28) so a trainer can slice batches directly;
    ``.labels`` is an int64 tensor (N,). ``indices`` selects a subset of the split.
    """

    name = "mnist"

    def __init__(self, split: str = "train", root: str | Path | None = None,
                 indices: Sequence[int] | np.ndarray | torch.Tensor | None = None):
        images, labels = load_mnist(split, root)
        self._set(images, labels, indices, split)

    @classmethod
    def from_arrays(cls, images: np.ndarray, labels: np.ndarray, indices=None, split: str = "custom") -> "MNIST":
        """Build from already loaded uint8 arrays (as returned by :func:`load_mnist`)."""
        obj = cls.__new__(cls)
        obj._set(images, labels, indices, split)
        return obj

    def _set(self, images: np.ndarray, labels: np.ndarray, indices, split: str) -> None:
        if indices is not None:
            idx = np.asarray(indices, dtype=np.int64)
            if idx.ndim != 1:
                raise DatasetError(f"indices must be 1-D, got shape {idx.shape}")
            images, labels = images[idx], labels[idx]
        self.split = split
        self.images = torch.from_numpy(np.ascontiguousarray(images)).float().div_(255.0).unsqueeze(1)
        self.labels = torch.from_numpy(np.asarray(labels, dtype=np.int64))

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.images[i]

    @classmethod
    def describe(cls) -> dict:
        return {"item_shape": (1, 28, 28), "range": (0.0, 1.0), "splits": {"train": 60000, "test": 10000}}


def train_val_split(n_val: int = N_VAL_DEFAULT, seed: int = 0,
                    root: str | Path | None = None) -> tuple[MNIST, MNIST]:
    """(train, val) from the *train* split by a seeded permutation; the test split is never touched."""
    images, labels = load_mnist("train", root)
    if not 0 < n_val < len(images):
        raise DatasetError(f"n_val must be in 1..{len(images) - 1}, got {n_val}")
    perm = np.random.default_rng(seed).permutation(len(images))
    return (MNIST.from_arrays(images, labels, perm[n_val:], split="train"),
            MNIST.from_arrays(images, labels, perm[:n_val], split="val"))

