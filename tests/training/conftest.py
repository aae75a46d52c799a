from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
DATA_DIR = REPO.parent / "shared" / "data"

# One thread: these nets are tiny, and a second OpenMP team fighting other processes for two cores is slower.
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not (DATA_DIR / "mnist").is_dir():
        pytest.fail(f"the datasets are expected at {DATA_DIR} (../shared/data beside the checkout)")
    return DATA_DIR
