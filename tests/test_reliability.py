"""Reliability of the training spine, probed as an adversarial user would: concurrent processes on one run directory,
damaged checkpoints and files, bad configs, exploding runs. Each probe checks the exit code, a one-line message naming the
problem, no traceback, and (where nothing should change) a byte-identical run directory afterwards."""
import hashlib, json, os, signal, subprocess, time
from pathlib import Path
import pytest
import torch
from conftest import ROOT, TINY

from llmnb.train import list_checkpoints, read_metrics

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX file locks and signals")


def train(llmnb_cmd, out, *args):
    return subprocess.run(llmnb_cmd + ["train", "--out", str(out), "--no-progress", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


def snapshot(d: Path) -> dict:
    "Every file under `d` (but the lock file) with its SHA-256: what must not change."
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.rglob("*")) if p.is_file() and p.name != ".lock"}


def one_line_error(r, *words):
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert "Traceback" not in r.stderr, r.stderr[-2000:]
    line = [l for l in r.stderr.splitlines() if l.startswith("llmnb: error:")]
    assert len(line) == 1, r.stderr[-2000:]
    for w in words: assert w in line[0], (w, line[0])


@pytest.fixture(scope="module")
def finished(llmnb_cmd, tmp_path_factory):
    "A small finished run, copied by the tests that damage it."
    d = tmp_path_factory.mktemp("runs") / "done"
    r = train(llmnb_cmd, d, "--set", *TINY, "train.max_steps=6", "train.eval_every=3", "train.ckpt_every=3")
    assert r.returncode == 0, r.stderr
    return d


def copy_run(src: Path, dst: Path) -> Path:
    subprocess.run(["cp", "-r", str(src), str(dst)], check=True)
    return dst


def test_concurrent_resume_overwrite_and_start_are_refused(llmnb_cmd, tmp_path):
    live = tmp_path / "live"
    args = ["--set", *TINY, "train.max_steps=1000000", "train.eval_every=1000", "train.ckpt_every=50"]   # outlives the probes; killed below
    p = subprocess.Popen(llmnb_cmd + ["train", "--out", str(live), "--no-progress", *args], cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not list_checkpoints(live) and p.poll() is None: time.sleep(0.05)
        assert p.poll() is None, "the first run ended before the probes; make it longer"
        one_line_error(train(llmnb_cmd, live, "--resume"), "is in use by process", str(p.pid))
        one_line_error(train(llmnb_cmd, live, "--overwrite", *args), "is in use by process", str(p.pid))
        one_line_error(train(llmnb_cmd, live, *args), "already exists")
    finally:
        p.send_signal(signal.SIGKILL); p.wait()
    assert list_checkpoints(live) and (live / "metrics.jsonl").exists()          # nothing of the live run was touched
    r = train(llmnb_cmd, live, "--resume", "--set", "train.max_steps=60")       # the dead process's lock went with it
    assert r.returncode == 0, r.stderr[-2000:]


def test_ledger_without_files_and_flipped_bytes_fail_closed(llmnb_cmd, finished, tmp_path):
    d = copy_run(finished, tmp_path / "run")
    ck = list_checkpoints(d)[-1]
    led = json.loads((ck / "ledger.json").read_text())
    (ck / "ledger.json").write_text(json.dumps({k: v for k, v in led.items() if k != "files"}))
    raw = bytearray((ck / "model.safetensors").read_bytes()); raw[-5] ^= 0xFF; (ck / "model.safetensors").write_bytes(bytes(raw))
    before = snapshot(d)
    one_line_error(train(llmnb_cmd, d, "--resume", "--set", "train.max_steps=9"), "is corrupt", "lists no files to verify")
    assert snapshot(d) == before


def test_overwrite_with_a_bad_source_keeps_the_old_run(llmnb_cmd, finished, tmp_path):
    d = copy_run(finished, tmp_path / "run")
    before = snapshot(d)
    one_line_error(train(llmnb_cmd, d, "--overwrite", "--set", *TINY, "data.source='shards:/nonexistent'"), "/nonexistent")
    assert snapshot(d) == before
    assert not [p for p in tmp_path.iterdir() if ".replaced-" in p.name]       # nothing left aside


def test_overwrite_replaces_once_the_new_run_has_a_checkpoint(llmnb_cmd, finished, tmp_path):
    d = copy_run(finished, tmp_path / "run")
    r = train(llmnb_cmd, d, "--overwrite", "--set", *TINY, "train.max_steps=2", "train.ckpt_every=1")
    assert r.returncode == 0, r.stderr[-2000:]
    assert [x["step"] for x in read_metrics(d / "metrics.jsonl")] == [0, 1, 2]
    assert not [p for p in tmp_path.iterdir() if ".replaced-" in p.name]


@pytest.mark.parametrize("damage, words", [
    ("config", ["config.json is damaged"]),
    ("metrics", ["metrics.jsonl is not UTF-8 text"]),
    ("metrics_gone", ["metrics.jsonl is missing while the checkpoint is at step 6"]),
    ("metrics_dup", ["holds step 3 more than once"]),
])
def test_damaged_run_files_are_one_line_errors(llmnb_cmd, finished, tmp_path, damage, words):
    d = copy_run(finished, tmp_path / "run")
    if damage == "config": (d / "config.json").write_bytes(b"\x00garbage{")
    if damage == "metrics": (d / "metrics.jsonl").write_bytes(b'{"step": 0}\n\xff\xfe\n' + (d / "metrics.jsonl").read_bytes())
    if damage == "metrics_gone": (d / "metrics.jsonl").unlink()
    if damage == "metrics_dup":
        lines = (d / "metrics.jsonl").read_text().splitlines(keepends=True)
        (d / "metrics.jsonl").write_text("".join(lines[:4] + [lines[3]] + lines[4:]))
    before = snapshot(d)
    one_line_error(train(llmnb_cmd, d, "--resume", "--set", "train.max_steps=9"), *words)
    assert snapshot(d) == before


def test_bad_best_json_through_init_from(llmnb_cmd, finished, tmp_path):
    src = copy_run(finished, tmp_path / "src")
    (src / "checkpoints" / "best.json").write_text("[1, 2")
    one_line_error(train(llmnb_cmd, tmp_path / "new", "--set", *TINY, f"train.init_from='{src}'"), "best.json is damaged")


@pytest.mark.parametrize("override, words", [
    ("train.device='tpu'", ["unknown device 'tpu'"]), ("model.init_std=-1", ["init_std must be > 0"]),
    ("optim.eps=-1", ["eps must be > 0"]), ("optim.weight_decay=nan", ["optim.weight_decay must be a finite number"]),
    ("optim.grad_clip=nan", ["optim.grad_clip must be a finite number"]), ("optim.lr=inf", ["optim.lr must be a finite number"]),
])
def test_bad_config_values_are_one_line_errors(llmnb_cmd, tmp_path, override, words):
    one_line_error(train(llmnb_cmd, tmp_path / "r", "--set", *TINY, override), *words)
    assert not (tmp_path / "r").exists() or not list((tmp_path / "r").glob("*.json"))


def test_exploding_run_applies_no_nonfinite_update(llmnb_cmd, tmp_path):
    d = tmp_path / "boom"
    r = train(llmnb_cmd, d, "--set", *TINY, "optim.lr=1e6", "optim.warmup_steps=0", "optim.grad_clip=1.0", "train.nan_tolerance=2",
              "train.max_steps=40", "train.ckpt_every=1", "train.keep_last=0")
    one_line_error(r, "non-finite steps in a row", "gradients are already clipped at optim.grad_clip=1.0")
    recs = read_metrics(d / "metrics.jsonl")
    assert recs[-1].get("skipped") == 2 and "stop" in recs[-1]
    from llmnb.models import LM, LMConfig
    from llmnb.train import load_checkpoint
    cfg = LMConfig.from_dict(json.loads((d / "config.json").read_text())["model"])
    for ck in list_checkpoints(d):                                   # every state that was saved is finite
        m = LM(cfg); load_checkpoint(ck, m)
        assert all(torch.isfinite(p).all() for p in m.parameters()), ck.name


def test_resume_of_a_finished_run_and_failed_resume_change_nothing(llmnb_cmd, finished, tmp_path):
    d = copy_run(finished, tmp_path / "run")
    before = snapshot(d)
    r = train(llmnb_cmd, d, "--resume")
    assert r.returncode == 0 and "already finished at step 6" in r.stderr, r.stderr[-2000:]
    one_line_error(train(llmnb_cmd, d, "--resume", "--set", "optim.lr=0.5", "train.max_steps=9"), "config changed since the checkpoint")
    assert snapshot(d) == before
