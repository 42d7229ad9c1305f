"Reliability of data and eval from the command line: corrupt shard sidecars, pickled .npy, garbage lineage, report overlays."
import json, shutil, subprocess
import numpy as np
from conftest import ROOT, TINY


def run(cmd, *args, cwd=None):
    return subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True, cwd=cwd or ROOT, timeout=300)


def one_error(r, expected):
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("llmnb: error: ") and expected in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def test_corrupt_data_is_one_clear_error(llmnb_cmd, tmp_path):
    from llmnb.data.load import tokenize_to_shards
    from llmnb.data.text import pydoc_topics, split_docs
    from llmnb.data.tokenize import ByteTokenizer
    docs = pydoc_topics(); tr, va = split_docs(docs); tok = ByteTokenizer(); sh = tmp_path / "sh"
    tokenize_to_shards([docs[n] for n in tr[:5]], tok, sh, "train", progress=False)
    tokenize_to_shards([docs[n] for n in va[:2]], tok, sh, "val", progress=False)
    run_dir = tmp_path / "run"
    ok = run(llmnb_cmd, "train", "--out", run_dir, "--no-progress", "--set", *TINY, "train.max_steps=2", "train.ckpt_every=2",
             f"data.source=shards:{sh}")
    assert ok.returncode == 0, ok.stderr
    side = sh / "train_00000.bin.meta.json"; good = side.read_bytes()
    side.write_text(json.dumps(json.loads(side.read_text()) | {"dtype": "object"}))       # would reach np.memmap: a segfault
    one_error(run(llmnb_cmd, "train", "--out", tmp_path / "run2", "--set", *TINY, f"data.source=shards:{sh}"),
              f"{side}: key 'dtype' is 'object'; allowed: uint8, uint16, int32, uint32, int64")
    one_error(run(llmnb_cmd, "eval", run_dir), "key 'dtype' is 'object'")       # eval reads the run's own shards
    side.write_bytes(b"\xff\xfe\x00 not json")
    one_error(run(llmnb_cmd, "data", "stats", sh), f"{side} is not a valid lineage sidecar: not UTF-8")
    side.write_bytes(good)
    np.save(tmp_path / "ids.npy", np.array([{"ids": [1, 2]}], dtype=object), allow_pickle=True)
    one_error(run(llmnb_cmd, "eval", run_dir, "--data", tmp_path / "ids.npy"), "is not a plain .npy array of token ids")


def test_report_of_several_runs_keeps_each_runs_report(llmnb_cmd, tmp_path):
    a, b, cwd = tmp_path / "a", tmp_path / "b", tmp_path / "cwd"
    assert run(llmnb_cmd, "train", "--out", a, "--no-progress", "--set", *TINY, "train.max_steps=2").returncode == 0
    shutil.copytree(a, b); cwd.mkdir(); own = (a / "report.html").read_bytes()
    r = run(llmnb_cmd, "report", a, b, cwd=cwd)
    assert r.returncode == 0, r.stderr
    assert (cwd / "report_a_vs_b.html").is_file() and "report_a_vs_b.html (overlay of 2 runs" in r.stdout, r.stdout
    assert (a / "report.html").read_bytes() == own
