import torch

torch.set_num_threads(1)

import gzip  # noqa: E402
import struct  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from sigdae.datasets.mnist import (  # noqa: E402
    MNIST, DatasetError, bundled_dir, load_mnist, read_idx, train_val_split,
)

CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D, np.float64: 0x0E}


def idx_bytes(arr: np.ndarray) -> bytes:
    code = CODES[arr.dtype.type]
    header = struct.pack(">BBBB", 0, 0, code, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def write(path, payload: bytes):
    if str(path).endswith(".gz"):
        with gzip.open(path, "wb") as f:
            f.write(payload)
    else:
        path.write_bytes(payload)
    return path


@pytest.fixture(scope="module")
def train_arrays():
    return load_mnist("train")


# ---- IDX reader -------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_read_idx_roundtrip(tmp_path, suffix, dtype):
    arr = np.arange(30).reshape(2, 3, 5) - (0 if dtype == np.uint8 else 7)
    if np.dtype(dtype).itemsize > 1:
        arr = arr * 300 + 0.25  # multi-byte values catch byte-order mistakes; .25 survives for floats
    arr = arr.astype(dtype)
    got = read_idx(write(tmp_path / f"x.idx3{suffix}", idx_bytes(arr)))
    assert got.shape == (2, 3, 5) and got.dtype == np.dtype(dtype) and got.dtype.isnative
    np.testing.assert_array_equal(got, arr)


def test_read_idx_1d_and_empty(tmp_path):
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    np.testing.assert_array_equal(read_idx(write(tmp_path / "l.gz", idx_bytes(labels))), labels)
    assert read_idx(write(tmp_path / "e", idx_bytes(np.zeros((0, 28, 28), np.uint8)))).shape == (0, 28, 28)


def assert_one_line_error(path, match):
    with pytest.raises(DatasetError, match=match) as info:
        read_idx(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_read_idx_rejects_bad_files(tmp_path, suffix):
    good = idx_bytes(np.arange(60, dtype=np.uint8).reshape(3, 4, 5))
    assert_one_line_error(write(tmp_path / f"trunc{suffix}", good[:-7]), "truncated")
    assert_one_line_error(write(tmp_path / f"extra{suffix}", good + b"\0"), "trailing bytes")
    assert_one_line_error(write(tmp_path / f"magic{suffix}", b"\x01\x02" + good[2:]), "bad magic")
    assert_one_line_error(write(tmp_path / f"dtype{suffix}", good[:2] + b"\x07" + good[3:]), "bad magic")
    assert_one_line_error(write(tmp_path / f"hdr{suffix}", good[:9]), "header")
    assert_one_line_error(write(tmp_path / f"tiny{suffix}", b"\0\0"), "not an IDX")


def test_read_idx_rejects_broken_gzip(tmp_path):
    good = idx_bytes(np.arange(4000, dtype=np.uint8).reshape(4, 1000))
    whole = gzip.compress(good)
    (tmp_path / "cut.gz").write_bytes(whole[: len(whole) // 2])
    assert_one_line_error(tmp_path / "cut.gz", "decompress")
    (tmp_path / "notgz.gz").write_bytes(good)  # plain IDX bytes under a .gz name
    assert_one_line_error(tmp_path / "notgz.gz", "decompress")
    with pytest.raises(DatasetError, match="not found"):
        read_idx(tmp_path / "missing.gz")


# ---- loading from a directory -----------------------------------------------------------------

def fake_mnist_dir(folder, n, style, gz):
    rng = np.random.default_rng(n)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    sep = "-" if style == "dash" else "."
    ext = ".gz" if gz else ""
    write(folder / f"t10k-images{sep}idx3-ubyte{ext}", idx_bytes(images))
    write(folder / f"t10k-labels{sep}idx1-ubyte{ext}", idx_bytes(labels))
    return images, labels


@pytest.mark.parametrize("style", ["dash", "dot"])
@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_from_user_dir(tmp_path, style, gz):
    images, labels = fake_mnist_dir(tmp_path, 12, style, gz)
    got_images, got_labels = load_mnist("test", root=tmp_path)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)
    ds = MNIST("test", root=str(tmp_path))
    assert len(ds) == 12 and torch.equal(ds.images[:, 0], torch.from_numpy(images).float() / 255)


def test_load_mnist_errors(tmp_path):
    fake_mnist_dir(tmp_path, 5, "dash", False)
    with pytest.raises(DatasetError, match="train-images-idx3-ubyte"):
        load_mnist("train", root=tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DatasetError, match="t10k-labels-idx1-ubyte"):
        load_mnist("test", root=tmp_path)
    write(tmp_path / "t10k-labels-idx1-ubyte", idx_bytes(np.zeros(4, np.uint8)))
    with pytest.raises(DatasetError, match="5 images but .* 4 labels"):
        load_mnist("test", root=tmp_path)
    write(tmp_path / "t10k-images-idx3-ubyte", idx_bytes(np.zeros((4, 8, 8), np.uint8)))
    with pytest.raises(DatasetError, match=r"\(N, 28, 28\)"):
        load_mnist("test", root=tmp_path)
    with pytest.raises(DatasetError, match="split"):
        load_mnist("validation")
    with pytest.raises(DatasetError, match="does not exist"):
        load_mnist("test", root=tmp_path / "nowhere")


# ---- bundled files ----------------------------------------------------------------------------

def test_bundled_dir_holds_the_four_files():
    names = {p.name for p in bundled_dir().iterdir()}
    assert {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
            "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"} <= names


def test_bundled_train_and_test(train_arrays):
    images, labels = train_arrays
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (60000,) and labels.dtype == np.uint8
    test_images, test_labels = load_mnist("test")
    assert test_images.shape == (10000, 28, 28) and test_images.dtype == np.uint8
    assert test_labels.shape == (10000,) and test_labels.dtype == np.uint8
    for lab in (labels, test_labels):
        assert set(np.unique(lab)) == set(range(10))
    assert images.max() == 255 and images.min() == 0
    # digits are bright strokes on a dark background: mostly zero pixels
    assert 0.75 < (images[:1000] == 0).mean() < 0.9


def test_mnist_dataset_items():
    ds = MNIST("test", indices=[0, 5, 9999])
    images, labels = load_mnist("test")
    assert len(ds) == 3 and ds.images.shape == (3, 1, 28, 28) and ds.images.dtype == torch.float32
    item = ds[1]
    assert item.shape == (1, 28, 28) and item.dtype == torch.float32
    assert 0.0 <= item.min() and item.max() <= 1.0
    assert torch.equal(item[0], torch.from_numpy(images[5]).float() / 255)
    assert ds.labels.tolist() == [int(labels[0]), int(labels[5]), int(labels[9999])]
    full = MNIST("test")
    assert len(full) == 10000 and full.images.shape == (10000, 1, 28, 28)
    batch = full.images[torch.tensor([5, 0])]  # a trainer indexes batches directly
    assert torch.equal(batch[0], item)


def test_train_val_split(train_arrays):
    images, _ = train_arrays
    train, val = train_val_split()
    assert (len(train), len(val)) == (55000, 5000)
    assert train.images.shape == (55000, 1, 28, 28) and val.images.shape == (5000, 1, 28, 28)
    # the usual split: a seeded permutation of the 60000 train indices, the first n_val go to validation
    perm = np.random.default_rng(0).permutation(60000)
    val_idx, train_idx = perm[:5000], perm[5000:]
    assert not set(val_idx) & set(train_idx) and len(set(val_idx) | set(train_idx)) == 60000
    assert torch.equal(val.images[:, 0], torch.from_numpy(images[val_idx]).float() / 255)
    assert torch.equal(train.images[:100, 0], torch.from_numpy(images[train_idx[:100]]).float() / 255)
    # same seed -> same split; another seed -> another split; n_val honoured
    again, val_again = train_val_split(seed=0, n_val=1000)
    assert len(val_again) == 1000 and torch.equal(val_again.images, val.images[:1000])
    _, other = train_val_split(seed=1, n_val=1000)
    assert not torch.equal(other.images, val_again.images)
    with pytest.raises(DatasetError, match="n_val"):
        train_val_split(n_val=0)


def test_train_val_split_never_touches_test_split(tmp_path):
    # a root that holds only the train files: the split must still work
    rng = np.random.default_rng(7)
    imgs = rng.integers(0, 256, (20, 28, 28), dtype=np.uint8)
    write(tmp_path / "train-images-idx3-ubyte.gz", idx_bytes(imgs))
    write(tmp_path / "train-labels-idx1-ubyte.gz", idx_bytes(np.arange(20, dtype=np.uint8) % 10))
    train, val = train_val_split(n_val=5, seed=3, root=tmp_path)
    assert (len(train), len(val)) == (15, 5)
    seen = {tuple(x.flatten().tolist()) for x in torch.cat([train.images, val.images]).mul(255).round().byte()}
    assert seen == {tuple(x.flatten().tolist()) for x in torch.from_numpy(imgs)}


def test_describe():
    info = MNIST.describe()
    assert info["item_shape"] == (1, 28, 28) and info["splits"] == {"train": 60000, "test": 10000}
