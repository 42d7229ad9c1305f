import json, os, shutil, sys
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


def losses(run_dir):
    "(step, train loss or None, val loss or None) of every record in a run's metrics.jsonl."
    recs = [json.loads(l) for l in (Path(run_dir) / "metrics.jsonl").read_text().splitlines()]
    return [(r["step"], r.get("loss"), r.get("val_loss")) for r in recs]


def assert_same_curve(a, b, rel=1e-5):
    "Two `losses` lists have the same steps and train/val losses within `rel` (fp32 reduction order only)."
    assert [x[0] for x in a] == [x[0] for x in b]
    for (step, la, va), (_, lb, vb) in zip(a, b):
        for x, y in ((la, lb), (va, vb)):
            if x is not None: assert abs(x - y) <= rel * abs(y), (step, x, y)
