import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never touch a network
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(2)


def tone(seconds: float = 1.0, rate: int = 16_000, freq: float = 220.0, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture(scope="session")
def whisper_tiny_en_dir():
    """The real Whisper tiny.en, converted from its PyPI package into the textpro cache (once)."""
    from textpro.hub import resolve_model

    return resolve_model("whisper-tiny.en")


@pytest.fixture
def one_thread():
    """Small models: one torch thread is faster, and far faster on a shared, loaded machine (no OpenMP spinning)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def smollm2_dir():
    """The real SmolLM2-135M-Instruct, converted from its PyPI package into the textpro cache (once)."""
    from textpro.hub import resolve_model

    return resolve_model("smollm2-135m-instruct")
