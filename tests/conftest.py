import os, shutil, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def llmnb_cmd():
    "The installed `llmnb` console script (next to this Python), as a command list."
    exe = Path(sys.executable).parent / ("llmnb.exe" if os.name == "nt" else "llmnb")
    if not exe.exists():
        found = shutil.which("llmnb")
        if not found: pytest.fail("the llmnb console script is not installed; run `pip install -e .` (python3 tasks.py test does it)")
        exe = Path(found)
    return [str(exe)]


TINY = ["model.d_model=32", "model.n_layers=1", "model.n_heads=2", "model.max_seq_len=64",
        "train.batch_size=4", "train.seq_len=32", "train.eval_batches=1", "train.eval_every=5"]
