"""`data.source=hf:DIR` with `data.tokenizer=hf:TOKDIR` through the CLI: a streamed run killed with SIGKILL and resumed gives the
per-step losses of a run that was never interrupted, and learns; adding `data.tokenizer` left the hashes of existing configs alone."""
import json, os, signal, subprocess, time
import pytest
from conftest import ROOT, losses

from llmnb.train import list_checkpoints, load_run_config, RunConfig

# a step takes milliseconds, so the kill lands mid-run; checkpoints every 3 steps, evaluations every 10
CFG = ["model.d_model=64", "model.n_layers=2", "model.n_heads=2", "model.max_seq_len=64", "train.batch_size=8", "train.seq_len=64",
       "train.eval_every=10", "train.eval_batches=2", "train.ckpt_every=3", "train.keep_last=2", "train.max_steps=60", "optim.lr=1e-2"]


ONE_THREAD = os.environ | {"OMP_NUM_THREADS": "1"}   # tiny runs: one thread is fastest, and steady on a shared machine


def hf_cfg(hf_assets) -> list[str]:
    ds, tok = hf_assets
    return CFG + [f"data.source='hf:{ds}?val_docs=8'", f"data.tokenizer='hf:{tok}'"]


@pytest.fixture(scope="module")
def straight_run(llmnb_cmd, hf_assets, tmp_path_factory):
    "A streamed run trained start to end without interruption."
    out = tmp_path_factory.mktemp("hf_runs") / "straight"
    r = subprocess.run(llmnb_cmd + ["train", "--out", str(out), "--no-progress", "--set", *hf_cfg(hf_assets)],
                       cwd=ROOT, capture_output=True, text=True, timeout=300, env=ONE_THREAD)
    assert r.returncode == 0, r.stderr[-3000:]
    return out


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL is POSIX")
def test_streamed_hf_dataset_sigkill_then_resume(llmnb_cmd, tmp_path, hf_assets, straight_run):
    killed = tmp_path / "killed"
    p = subprocess.Popen(llmnb_cmd + ["train", "--out", str(killed), "--no-progress", "--set", *hf_cfg(hf_assets)],
                         cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ONE_THREAD)
    deadline = time.time() + 120
    while time.time() < deadline and len(list_checkpoints(killed)) < 2 and p.poll() is None: time.sleep(0.005)
    time.sleep(0.013)                      # land somewhere inside a step or a checkpoint write
    assert p.poll() is None, f"training finished (or failed) before it could be killed: {p.stderr.read().decode()[-2000:]}"
    p.send_signal(signal.SIGKILL); p.wait(); p.stderr.close()
    killed_at = int(list_checkpoints(killed)[-1].name[5:])
    assert 0 < killed_at < 60

    r = subprocess.run(llmnb_cmd + ["train", "--out", str(killed), "--resume", "--no-progress"], cwd=ROOT, capture_output=True,
                       text=True, timeout=300, env=ONE_THREAD)
    assert r.returncode == 0, r.stderr[-3000:]
    assert f"resuming {killed} from step {killed_at}" in r.stderr

    a, b = losses(killed), losses(straight_run)
    assert [s for s, _, _ in a] == list(range(61))
    assert a == b                          # the same stream positions: the same per-step losses, bit for bit
    vals = [v for _, _, v in b if v is not None]
    assert vals[-1] < vals[0] - 1.2, vals  # it learns: from about ln(512) = 6.2 nats/token at step 0
    ledger = json.loads((list_checkpoints(straight_run)[-1] / "ledger.json").read_text())
    assert ledger["tokenizer"]["kind"] == "hf" and ledger["tokenizer"]["vocab_size"] == 512
    assert json.loads((straight_run / "config.json").read_text())["model"]["vocab_size"] == 512


def test_resume_with_another_tokenizer_is_refused(llmnb_cmd, straight_run):
    "One error naming both tokenizers, exit status 2, before anything in the run is written."
    before = (straight_run / "metrics.jsonl").read_bytes()
    r = subprocess.run(llmnb_cmd + ["train", "--out", str(straight_run), "--resume", "--no-progress", "--set", "data.tokenizer=byte",
                                    "train.max_steps=80"], cwd=ROOT, capture_output=True, text=True, timeout=300, env=ONE_THREAD)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-3000:]
    error = [l for l in r.stderr.splitlines() if l.startswith("llmnb: error:")]
    assert len(error) == 1 and "its checkpoint was trained with tokenizer {'kind': 'hf', 'vocab_size': 512" in error[0], r.stderr[-3000:]
    assert "gives tokenizer {'kind': 'byte', 'vocab_size': 264" in error[0] and "restore the tokenizer it was trained with" in error[0]
    assert (straight_run / "metrics.jsonl").read_bytes() == before and int(list_checkpoints(straight_run)[-1].name[5:]) == 60


def test_data_tokenizer_leaves_existing_config_hashes_alone():
    # RunConfig.hash() values computed on main at 1c12311, before DataConfig had a `tokenizer` key; runs written then must resume
    assert RunConfig().hash() == "9dd0ee753007"
    assert load_run_config(None, ["data.source='shards:/tmp/x'", "data.val_fraction=0.2", "model.d_model=64", "model.n_layers=2"]).hash() == "e09044ac3009"
    assert load_run_config(ROOT / "configs" / "quickstart.toml").hash() == "e5fe719797d7"
    old = RunConfig().to_dict()
    del old["data"]["tokenizer"]                                 # a config.json of that time: no data.tokenizer
    assert RunConfig.from_dict(old).hash() == "9dd0ee753007"
    named = load_run_config(None, ["data.tokenizer=byte"])
    assert named.hash() != RunConfig().hash() and RunConfig.from_dict(named.to_dict()).data.tokenizer == "byte"
