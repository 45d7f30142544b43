import functools
import subprocess
import sys

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


@pytest.fixture
def live_pid():
    """The pid of a live process whose command line names sigdae (as a training process's does)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "sigdae-test-run"])
    yield proc.pid
    proc.kill()
    proc.wait()
