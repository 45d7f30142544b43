import functools

import pytest
import torch

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def cached_mnist():
    """Decompress the bundled MNIST once per test module instead of once per Trainer (speed only)."""
    import sigdae.datasets.mnist as mnist_module

    cached = functools.cache(mnist_module.load_mnist)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(mnist_module, "load_mnist", cached)
        yield
