"A `llmnb train` killed with SIGKILL leaves its last checkpoint loadable, and resuming reproduces the uninterrupted run exactly."
import json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest
import torch
from conftest import ROOT

from llmnb.models import LM, LMConfig
from llmnb.train import load_checkpoint, list_checkpoints, read_metrics

# big enough that a step takes milliseconds, so the kill lands mid-run
CFG = ["model.d_model=64", "model.n_layers=2", "model.n_heads=2", "model.max_seq_len=64", "train.batch_size=8", "train.seq_len=64",
       "train.eval_every=10", "train.eval_batches=1", "train.ckpt_every=3", "train.keep_last=2", "train.max_steps=60"]


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL is POSIX")
def test_sigkill_mid_run_then_resume(llmnb_cmd, tmp_path):
    killed, straight = tmp_path / "killed", tmp_path / "straight"
    p = subprocess.Popen(llmnb_cmd + ["train", "--out", str(killed), "--no-progress", "--set", *CFG],
                         cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and len(list_checkpoints(killed)) < 2 and p.poll() is None: time.sleep(0.01)
    time.sleep(0.037)                      # land somewhere inside a step or a checkpoint write
    assert p.poll() is None, "training finished before it could be killed; make CFG bigger"
    p.send_signal(signal.SIGKILL); p.wait()

    # the last checkpoint loads into a fresh model, hashes verified
    cfg = LMConfig.from_dict(json.loads((killed / "config.json").read_text())["model"])
    led = load_checkpoint(killed, LM(cfg))
    assert led["step"] >= 3 and (led["step"] % 3 == 0 or led["step"] % 10 == 0)   # a ckpt_every checkpoint or a keep-best one (evaluations every 10)
    # nothing half-written is visible: only complete step_ dirs (hidden temp dirs are ignored and cleaned on resume)
    assert all(c.name.startswith("step_") for c in list_checkpoints(killed))
    read_metrics(killed / "metrics.jsonl")   # a torn last line is tolerated

    # resume to the end, and compare with a run that was never interrupted
    r = subprocess.run(llmnb_cmd + ["train", "--out", str(killed), "--resume", "--no-progress"],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(llmnb_cmd + ["train", "--out", str(straight), "--no-progress", "--set", *CFG],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    a, b = LM(cfg), LM(cfg)
    load_checkpoint(killed, a); load_checkpoint(straight, b)
    for (n, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(x, y), f"{n} differs after kill + resume"
    ma, mb = read_metrics(killed / "metrics.jsonl"), read_metrics(straight / "metrics.jsonl")
    assert [m["step"] for m in ma] == list(range(61))
    assert [(m["step"], m.get("loss")) for m in ma] == [(m["step"], m.get("loss")) for m in mb]
