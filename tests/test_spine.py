"""One training spine: GRPO and SFT runs from the command line, killed with SIGKILL mid-run and resumed, give the same
per-step records and weights as straight runs; every record pretraining, SFT and GRPO write fits the record schema."""
import json, os, signal, subprocess, time
import pytest
import torch
from conftest import ROOT

from llmnb.data.chat import write_conversations
from llmnb.data.synth import generate, to_conversation
from llmnb.models import LM, LMConfig
from llmnb.train import load_checkpoint, list_checkpoints, read_metrics, validate_record

GRPO = ["--config", "configs/grpo_tiny.toml"]
SFT = ["model.d_model=64", "model.n_layers=2", "model.n_heads=2", "model.max_seq_len=64", "train.batch_size=8", "train.seq_len=64",
       "train.eval_every=5", "train.eval_batches=1", "train.ckpt_every=2", "train.keep_last=2", "train.max_steps=30", "optim.lr=3e-3"]
KEYS = ("step", "loss", "grad_norm", "val_loss", "reward", "reward/correct", "eval_reward", "tokens")


def train(llmnb_cmd, out, *args, **kw):
    return subprocess.run(llmnb_cmd + ["train", "--out", str(out), "--no-progress", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, **kw)


def kill_mid_run(llmnb_cmd, out, args, min_ckpts=2):
    "Start `llmnb train`, SIGKILL it once it has written `min_ckpts` checkpoints (plus a few ms: inside a step or a write)."
    p = subprocess.Popen(llmnb_cmd + ["train", "--out", str(out), "--no-progress", *args], cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline and len(list_checkpoints(out)) < min_ckpts and p.poll() is None: time.sleep(0.01)
    time.sleep(0.023)
    assert p.poll() is None, "training finished before it could be killed; make the run longer"
    p.send_signal(signal.SIGKILL)
    p.wait()


def assert_same_run(killed, straight):
    "Same records (the keys that must match exactly) and bit-identical final weights."
    ra, rb = read_metrics(killed / "metrics.jsonl"), read_metrics(straight / "metrics.jsonl")
    assert [[r.get(k) for k in KEYS] for r in ra] == [[r.get(k) for k in KEYS] for r in rb]
    for r in ra + rb: validate_record(r)
    cfg = LMConfig.from_dict(json.loads((killed / "config.json").read_text())["model"])
    a, b = LM(cfg), LM(cfg)
    load_checkpoint(killed, a)
    load_checkpoint(straight, b)
    for (n, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(x, y), f"{n} differs after kill + resume"
    return ra


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL is POSIX")
def test_grpo_sigkill_then_resume(llmnb_cmd, tmp_path):
    killed, straight = tmp_path / "killed", tmp_path / "straight"
    kill_mid_run(llmnb_cmd, killed, GRPO)
    r = train(llmnb_cmd, killed, "--resume")
    assert r.returncode == 0, r.stderr
    assert "resuming" in r.stderr and "eval reward" in r.stdout
    r = train(llmnb_cmd, straight, *GRPO)
    assert r.returncode == 0, r.stderr
    recs = assert_same_run(killed, straight)
    assert [x["step"] for x in recs] == list(range(13))
    assert all("reward" in x and "kl" in x for x in recs[1:]) and "eval_correct" in recs[0]


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL is POSIX")
def test_sft_sigkill_then_resume(llmnb_cmd, tmp_path):
    chat = write_conversations([to_conversation(r) for r in generate("arith", 300, seed=0, level=1)], tmp_path / "arith.jsonl")
    args = ["--set", f"data.source='chat:{chat}'", *SFT]
    killed, straight = tmp_path / "killed", tmp_path / "straight"
    kill_mid_run(llmnb_cmd, killed, args, min_ckpts=3)
    r = train(llmnb_cmd, killed, "--resume")
    assert r.returncode == 0, r.stderr
    r = train(llmnb_cmd, straight, *args)
    assert r.returncode == 0, r.stderr
    recs = assert_same_run(killed, straight)
    assert json.loads((straight / "config.json").read_text())["task"] == "auto"
    vals = [x["val_loss"] for x in recs if "val_loss" in x]
    assert vals[-1] < vals[0] - 1.0, vals          # it learns the answers (labels only on the assistant's tokens)


def test_pretrain_records_fit_schema(llmnb_cmd, tmp_path):
    r = train(llmnb_cmd, tmp_path / "pre", "--set", *SFT[:-1], "train.max_steps=10", "model.pattern=AM", "train.diag_every=2")
    assert r.returncode == 0, r.stderr
    recs = read_metrics(tmp_path / "pre" / "metrics.jsonl")
    for x in recs: validate_record(x)
    keys = {k for x in recs for k in x}
    assert {"grad_norm/attention", "ssm_decay_median/1", "act_std/0.A", "val_loss", "tokens_per_s"} <= keys, sorted(keys)
