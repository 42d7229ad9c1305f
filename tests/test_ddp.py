"`torchrun --nproc_per_node=2` (gloo, CPU) trains the same loss curve as one process with 2x gradient accumulation."
import json, os, subprocess, sys
from pathlib import Path
import pytest
from conftest import ROOT, losses, assert_same_curve

CFG = ["model.d_model=32", "model.n_layers=2", "model.n_heads=2", "model.max_seq_len=64", "train.batch_size=4", "train.seq_len=32",
       "train.eval_batches=1", "train.eval_every=5", "train.max_steps=10", "train.diagnostics=none", "optim.warmup_steps=2"]


@pytest.mark.skipif(os.name == "nt", reason="torchrun with gloo is tested on POSIX")
def test_ddp_two_processes_match_grad_accum(llmnb_cmd, tmp_path):
    torchrun = Path(sys.executable).parent / "torchrun"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    r = subprocess.run([str(torchrun), "--nproc_per_node=2", "--master_port=29517", "--no-python", *llmnb_cmd, "train",
                        "--out", str(tmp_path / "ddp"), "--no-progress", "--set", *CFG, "train.grad_accum=1"],
                       cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    s = subprocess.run(llmnb_cmd + ["train", "--out", str(tmp_path / "single"), "--no-progress", "--set", *CFG, "train.grad_accum=2"],
                       cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
    assert s.returncode == 0, s.stderr[-3000:]
    a, b = losses(tmp_path / "ddp"), losses(tmp_path / "single")
    assert [x[0] for x in a] == list(range(11))
    assert_same_curve(a, b)
    cfg = json.loads((tmp_path / "ddp" / "config.json").read_text())
    assert cfg["train"]["grad_accum"] == 1 and (tmp_path / "ddp" / "report.html").exists()


@pytest.mark.skipif(os.name == "nt", reason="torchrun with gloo is tested on POSIX")
def test_grpo_ddp_two_processes_match_grad_accum(llmnb_cmd, tmp_path):
    "GRPO under torchrun: each process samples its own micro-batches; the rewards and losses equal one process with grad_accum=2."
    torchrun = Path(sys.executable).parent / "torchrun"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    grpo = ["--config", "configs/grpo_tiny.toml", "--no-progress", "--set", "train.max_steps=4", "train.eval_every=2",
            "grpo.n_heldout=4", "grpo.max_new_tokens=12", "train.diagnostics='none'"]
    r = subprocess.run([str(torchrun), "--nproc_per_node=2", "--master_port=29519", "--no-python", *llmnb_cmd, "train",
                        "--out", str(tmp_path / "ddp"), *grpo, "train.grad_accum=1"], cwd=ROOT, capture_output=True, text=True,
                       timeout=600, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    s = subprocess.run(llmnb_cmd + ["train", "--out", str(tmp_path / "single"), *grpo, "train.grad_accum=2"],
                       cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
    assert s.returncode == 0, s.stderr[-3000:]
    read = lambda d: [json.loads(l) for l in (tmp_path / d / "metrics.jsonl").read_text().splitlines()]
    a, b = read("ddp"), read("single")
    assert [x["step"] for x in a] == [x["step"] for x in b] == list(range(5))
    for x, y in zip(a, b):
        for k in ("reward", "completion_len", "eval_reward"):
            assert x.get(k) == y.get(k), (x["step"], k, x.get(k), y.get(k))      # the same samples, scored the same
        if "loss" in x: assert abs(x["loss"] - y["loss"]) <= 1e-5 * max(1.0, abs(y["loss"])), (x["step"], x["loss"], y["loss"])
