import json, os, shutil, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
for _k in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"): os.environ.setdefault(_k, "1")   # nothing downloads in tests (subprocesses inherit it)


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


def make_hf_assets(d: Path) -> tuple[Path, Path]:
    """A local dataset directory laid out as on the Hugging Face hub (data/train-*.parquet, data/validation-*.parquet; Python's
    help topics as documents) and a transformers tokenizer directory (a 512-id BPE saved with save_pretrained): nothing downloads."""
    import pyarrow as pa, pyarrow.parquet as pq
    from transformers import PreTrainedTokenizerFast
    from llmnb.data.text import pydoc_topics, split_docs
    from llmnb.data.tokenize import train_bpe
    docs = pydoc_topics()
    train, val = split_docs(docs)
    ds, tok = d / "dataset", d / "tokenizer"
    (ds / "data").mkdir(parents=True)
    for j in range(2):
        part = [docs[n] for n in train[j::2]]
        pq.write_table(pa.table({"id": list(range(len(part))), "text": part}), ds / "data" / f"train-{j:05d}-of-00002.parquet", row_group_size=8)
    pq.write_table(pa.table({"text": [docs[n] for n in val]}), ds / "data" / "validation-00000-of-00001.parquet")
    bpe = train_bpe([docs[n] for n in train], 512)
    PreTrainedTokenizerFast(tokenizer_object=bpe.tk, bos_token="<|bos|>", eos_token="<|eos|>", pad_token="<|pad|>").save_pretrained(tok)
    return ds, tok


@pytest.fixture(scope="session")
def hf_assets(tmp_path_factory):
    "(dataset dir, tokenizer dir) made once per test session by `make_hf_assets`."
    return make_hf_assets(tmp_path_factory.mktemp("hf_assets"))
