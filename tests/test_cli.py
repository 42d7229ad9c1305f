"CLI behaviour seen from outside: help, one-line errors with exit status 2, a real run, report."
import json, subprocess
from pathlib import Path
import pytest
from conftest import ROOT, TINY


def run(cmd, *args, cwd=None):
    return subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True, cwd=cwd or ROOT, timeout=300)


def test_help_explains_every_option(llmnb_cmd):
    top = run(llmnb_cmd, "--help")
    assert top.returncode == 0 and all(c in top.stdout for c in ("train", "report", "bench"))
    tr = run(llmnb_cmd, "train", "--help")
    assert tr.returncode == 0
    for opt in ("--config", "--out", "--set", "--resume", "--overwrite", "--no-progress", "train.*", "max_steps", "model.*", "d_state", "optim.*", "warmup_steps", "data.*"):
        assert opt in tr.stdout, opt
    for sub in ("report", "bench"):
        assert run(llmnb_cmd, sub, "--help").returncode == 0


@pytest.mark.parametrize("args, expected", [
    (["--set", "optim.lrr=1"], "unknown config key 'optim.lrr' (did you mean 'lr'?)"),
    (["--set", "train.batch_size=big"], "train.batch_size: expected int, got str 'big'"),
    (["--config", "configs/missing.toml"], "config file 'configs/missing.toml' not found"),
    (["--set", "train.max_steps"], "--set expects KEY=VALUE"),
    (["--set", "train.max_steps=-3"], "train.max_steps must be a positive integer, got -3"),
    (["--set", "model.pattern=AQ"], "unknown letter(s) 'Q'"),
    (["--set", "model.vocab_size=100"], "model.vocab_size=100 is smaller than the tokenizer's vocabulary (264)"),
])
def test_bad_input_is_one_clear_line(llmnb_cmd, tmp_path, args, expected):
    r = run(llmnb_cmd, "train", "--out", tmp_path / "run", *args)
    assert r.returncode == 2, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("llmnb: error: ") and expected in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def test_existing_run_dir_needs_resume_or_overwrite(llmnb_cmd, tmp_path):
    out = tmp_path / "run"
    ok = run(llmnb_cmd, "train", "--out", out, "--no-progress", "--set", *TINY, "train.max_steps=5")
    assert ok.returncode == 0, ok.stderr
    assert f"report: {out / 'report.html'}" in ok.stdout
    again = run(llmnb_cmd, "train", "--out", out, "--set", *TINY, "train.max_steps=5")
    assert again.returncode == 2 and "already exists; pass --resume to continue it or --overwrite to replace it" in again.stderr
    over = run(llmnb_cmd, "train", "--out", out, "--overwrite", "--no-progress", "--set", *TINY, "train.max_steps=3")
    assert over.returncode == 0, over.stderr
    steps = [json.loads(l)["step"] for l in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps == [0, 1, 2, 3]
    (tmp_path / "notes").mkdir(); (tmp_path / "notes" / "thesis.tex").write_text("precious")
    refuse = run(llmnb_cmd, "train", "--out", tmp_path / "notes", "--overwrite", "--set", *TINY)
    assert refuse.returncode == 2 and (tmp_path / "notes" / "thesis.tex").exists()


def test_report_overlays_runs(llmnb_cmd, tmp_path):
    for name in ("a", "b"):
        assert run(llmnb_cmd, "train", "--out", tmp_path / name, "--no-progress", "--set", *TINY, "train.max_steps=3").returncode == 0
    r = run(llmnb_cmd, "report", tmp_path / "a", tmp_path / "b", "--out", tmp_path / "both.html")
    assert r.returncode == 0, r.stderr
    page = (tmp_path / "both.html").read_text()
    assert "a train" in page and "b train" in page


@pytest.mark.parametrize("pattern", ["MMMA", "RMRM"])
def test_hybrid_pattern_trains_and_learns(llmnb_cmd, tmp_path, pattern):
    "`llmnb train --set model.pattern=MMMA` (Mamba x3 + attention) and RMRM (RWKV/Mamba) run on CPU and their validation loss falls."
    out = tmp_path / "hybrid"
    r = run(llmnb_cmd, "train", "--out", out, "--no-progress", "--set", f"model.pattern={pattern}", "model.n_layers=4", "model.d_model=48",
            "model.n_heads=4", "model.d_state=8", "model.max_seq_len=64", "optim.lr=3e-3", "optim.warmup_steps=10",
            "train.batch_size=8", "train.seq_len=64", "train.eval_batches=2", "train.eval_every=40", "train.max_steps=80")
    assert r.returncode == 0, r.stderr
    vals = [m["val_loss"] for m in map(json.loads, (out / "metrics.jsonl").read_text().splitlines()) if "val_loss" in m]
    assert vals[-1] < vals[0] - 1.5, vals


def test_train_from_token_shards(llmnb_cmd, tmp_path):
    "`data.source=shards:DIR` trains from tokenized shards; a vocabulary too small for the shards' tokenizer stops before training."
    from llmnb.data.load import tokenize_to_shards
    from llmnb.data.text import pydoc_topics, split_docs
    from llmnb.data.tokenize import ByteTokenizer
    docs = pydoc_topics(); tr, va = split_docs(docs); tok = ByteTokenizer()
    tokenize_to_shards([docs[n] for n in tr[:20]], tok, tmp_path / "sh", "train", progress=False)
    tokenize_to_shards([docs[n] for n in va[:3]], tok, tmp_path / "sh", "val", progress=False)
    ok = run(llmnb_cmd, "train", "--out", tmp_path / "run", "--no-progress", "--set", *TINY, "train.max_steps=4", f"data.source=shards:{tmp_path / 'sh'}")
    assert ok.returncode == 0, ok.stderr
    bad = run(llmnb_cmd, "train", "--out", tmp_path / "run2", "--set", *TINY, f"data.source=shards:{tmp_path / 'sh'}", "model.vocab_size=200")
    assert bad.returncode == 2 and "model.vocab_size=200 is smaller than the tokenizer's vocabulary (264)" in bad.stderr


def test_bench_gpu_without_cuda_is_one_line(llmnb_cmd, tmp_path):
    "Without CUDA, `llmnb bench gpu` says so in one line, exits 0 and writes nothing (the dry run is tested in nbs/962_bench.gpu.ipynb)."
    import torch
    if torch.cuda.is_available(): pytest.skip("this machine has CUDA: the real check would run")
    r = run(llmnb_cmd, "bench", "gpu", "--slow", "--out-dir", tmp_path)
    assert r.returncode == 0 and r.stdout.count("\n") == 1 and "no CUDA device" in r.stdout, r
    assert list(tmp_path.iterdir()) == []
