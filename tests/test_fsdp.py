"""`train.fsdp=true` under `torchrun --nproc_per_node=2` (FSDP2 `fully_shard`, gloo, CPU) trains the same loss curve as one process
with 2x gradient accumulation, writes full checkpoints that load without FSDP, and resumes exactly."""
import json, os, subprocess, sys
from pathlib import Path
import pytest
from conftest import ROOT, losses, assert_same_curve

CFG = ["model.d_model=32", "model.n_layers=2", "model.n_heads=2", "model.max_seq_len=64", "model.pattern=MA", "model.d_state=4",
       "train.batch_size=4", "train.seq_len=32", "train.eval_batches=1", "train.eval_every=5", "train.ckpt_every=5",
       "train.diagnostics=none", "optim.warmup_steps=2"]


@pytest.mark.skipif(os.name == "nt", reason="torchrun with gloo is tested on POSIX")
def test_fsdp_two_processes_match_grad_accum_and_resume(llmnb_cmd, tmp_path):
    torchrun = [str(Path(sys.executable).parent / "torchrun"), "--nproc_per_node=2", "--master_port=29527", "--no-python", *llmnb_cmd]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    def run(cmd, *args):
        r = subprocess.run(cmd + ["train", "--no-progress", *args], cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
        assert r.returncode == 0, r.stderr[-3000:]
    run(torchrun, "--out", str(tmp_path / "fsdp"), "--set", *CFG, "train.fsdp=true", "train.max_steps=10")
    run(llmnb_cmd, "--out", str(tmp_path / "single"), "--set", *CFG, "train.grad_accum=2", "train.max_steps=10")
    a, b = losses(tmp_path / "fsdp"), losses(tmp_path / "single")
    assert [x[0] for x in a] == list(range(11))
    assert_same_curve(a, b)
    # the checkpoint is a full (unsharded) model: it loads into a plain LM and gives the single run's weights
    import torch
    from llmnb.models import LM, LMConfig
    from llmnb.train.checkpoint import load_checkpoint
    cfg = LMConfig.from_dict(json.loads((tmp_path / "fsdp" / "config.json").read_text())["model"])
    m1, m2 = LM(cfg), LM(cfg)
    load_checkpoint(tmp_path / "fsdp", m1); load_checkpoint(tmp_path / "single", m2)
    for (n, p), q in zip(m1.named_parameters(), m2.parameters()):
        assert torch.allclose(p, q, rtol=1e-4, atol=1e-6), n
    # resume under FSDP from the step-5 checkpoint (a copy of the run without its later checkpoint): the same curve again
    import shutil
    shutil.copytree(tmp_path / "fsdp", tmp_path / "res")
    shutil.rmtree(tmp_path / "res" / "checkpoints" / "step_00000010")
    run(torchrun, "--out", str(tmp_path / "res"), "--resume")
    assert_same_curve(losses(tmp_path / "res"), a)
