"""`llmnb export --format llama` seen from outside: the CLI writes OUT in a subprocess, and a fresh Python in which llmnb cannot
be imported at all loads OUT with transformers alone and gives llmnb's logits (to 1e-5) and llmnb's token ids."""
import json, os, subprocess, sys
from pathlib import Path
import pytest
import torch
from conftest import ROOT

TINY_RUN = ["model.d_model=32", "model.n_layers=2", "model.n_heads=4", "model.n_kv_heads=2", "model.max_seq_len=64",
            "optim.lr=1e-2", "optim.warmup_steps=2", "train.batch_size=4", "train.seq_len=32", "train.eval_batches=1",
            "train.eval_every=2", "train.ckpt_every=2", "train.max_steps=4", "train.diagnostics=none"]
TEXTS = ["The quick brown fox", "Grüße, 世界! 🙂\n\tdef f(x): return x ** 2", "a<|eos|>b"]

# Run with `python -I` (no PYTHONPATH, no user site, no current directory on sys.path). The editable install of llmnb still
# sits in site-packages as an import hook, so the script removes every finder, path hook and sys.path entry that can find
# llmnb, proves with find_spec that llmnb is gone, and then also blocks it in sys.modules.
WITHOUT_LLMNB = r'''
import importlib.util, json, sys
from importlib.machinery import PathFinder
from pathlib import Path
def finds_llmnb(f):
    try: return f.find_spec("llmnb", None) is not None
    except Exception: return False
sys.meta_path[:] = [f for f in sys.meta_path if f is PathFinder or not finds_llmnb(f)]
sys.path_hooks[:] = [h for h in sys.path_hooks if "editable" not in repr(h).lower()]
sys.path[:] = [p for p in sys.path if "__editable__" not in p and not (Path(p or ".") / "llmnb").exists()]
sys.path_importer_cache.clear()
assert importlib.util.find_spec("llmnb") is None, "llmnb is still importable"
sys.modules["llmnb"] = None
try:
    import llmnb
    raise SystemExit("import llmnb worked")
except ImportError: pass

import torch, transformers
from transformers import AutoModelForCausalLM, AutoTokenizer
transformers.logging.set_verbosity_error()
results = {}
for name, job in json.loads(sys.argv[1]).items():
    try:
        model = AutoModelForCausalLM.from_pretrained(job["out"]).eval()
        tok = AutoTokenizer.from_pretrained(job["out"])
    except Exception as e:
        results[name] = {"error": f"{type(e).__name__}: {e}"}; continue
    with torch.no_grad(): logits = model(torch.tensor(job["ids"])).logits
    results[name] = {"class": type(model).__name__, "logits": logits.tolist(),
                     "ids": [tok(t)["input_ids"] for t in job["texts"]],
                     "plain": [tok(t, add_special_tokens=False)["input_ids"] for t in job["texts"]],
                     "decoded": [tok.decode(tok(t, add_special_tokens=False)["input_ids"]) for t in job["texts"]]}
results["llmnb_modules"] = sorted(m for m, v in sys.modules.items() if m.startswith("llmnb") and v is not None)
print(json.dumps(results))
'''


def run(cmd, cwd=None, env=None):
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, cwd=cwd or ROOT, timeout=600, env=env)


def load_without_llmnb(jobs: dict, cwd: Path) -> dict:
    "Load each job's OUT in one fresh `python -I` where llmnb cannot be imported: its logits for `ids`, its tokenizer's ids for `texts`."
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    r = run([sys.executable, "-I", "-c", WITHOUT_LLMNB, json.dumps(jobs)], cwd=cwd, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout)


@pytest.fixture(scope="module")
def exported(llmnb_cmd, tmp_path_factory):
    """Two tiny attention-only runs — the built-in corpus with the byte tokenizer, and BPE token shards — exported as llama
    (the byte run by the CLI in a subprocess) and the byte run also as hf; then all three loaded without llmnb."""
    from llmnb.train.learner import Learner
    from llmnb.train.config import load_run_config
    from llmnb.data.text import pydoc_topics, split_docs
    from llmnb.data.tokenize import train_bpe
    from llmnb.data.load import tokenize_to_shards
    from llmnb.eval.export import export_run, pick_checkpoint
    from llmnb.eval.run import load_run
    d = tmp_path_factory.mktemp("export")
    docs = pydoc_topics(); tr, va = split_docs(docs, 0.1)
    bpe = train_bpe([docs[n] for n in tr][:60], 320)
    tokenize_to_shards([docs[n] for n in tr], bpe, d / "shards", "train", progress=False)
    tokenize_to_shards([docs[n] for n in va], bpe, d / "shards", "val", progress=False)
    bpe.save(d / "shards")
    Learner(load_run_config(overrides=TINY_RUN), d / "byte").fit(progress=False)
    Learner(load_run_config(overrides=TINY_RUN + [f"data.source='shards:{d / 'shards'}'", "model.tie_embeddings=true"]), d / "bpe").fit(progress=False)
    r = run(llmnb_cmd + ["export", d / "byte", d / "byte_llama", "--format", "llama"])
    assert r.returncode == 0, r.stderr
    export_run(d / "bpe", d / "bpe_llama", format="llama")
    export_run(d / "byte", d / "byte_hf", format="hf")
    refs, jobs = {}, {}
    for name, run_dir in (("byte_llama", d / "byte"), ("bpe_llama", d / "bpe"), ("byte_hf", d / "byte")):
        ref = load_run(run_dir, device="cpu", checkpoint=pick_checkpoint(run_dir))
        tok, lm = ref["tokenizer"], ref["model"]
        ids = [tok.encode(TEXTS[0], add_bos=True) + list(range(0, lm.cfg.vocab_size, 11))]
        with torch.no_grad(): refs[name] = {"tok": tok, "logits": lm(torch.tensor(ids)).logits}
        jobs[name] = {"out": str(d / name), "ids": ids, "texts": TEXTS}
    return d, refs, load_without_llmnb(jobs, d)


@pytest.mark.parametrize("name", ["byte_llama", "bpe_llama"])
def test_llama_export_loads_without_llmnb(exported, name):
    d, refs, res = exported
    assert json.loads((d / name / "config.json").read_text())["model_type"] == "llama"
    assert res["llmnb_modules"] == []
    got, tok = res[name], refs[name]["tok"]
    assert got.get("class") == "LlamaForCausalLM", got.get("error")
    diff = (torch.tensor(got["logits"]) - refs[name]["logits"]).abs().max().item()
    assert diff <= 1e-5, diff
    assert got["ids"] == [tok.encode(t, add_bos=True, allow_special=True) for t in TEXTS]     # <|bos|> first, as in training
    assert got["plain"] == [tok.encode(t, allow_special=True) for t in TEXTS]
    assert got["decoded"] == TEXTS


def test_isolation_is_real_hf_format_needs_llmnb(exported):
    "The same loader fails on the llmnb HF format (model_type 'llmnb'): the subprocess really has no llmnb."
    d, _, res = exported
    assert json.loads((d / "byte_hf" / "config.json").read_text())["model_type"] == "llmnb"
    assert "llmnb" in res["byte_hf"].get("error", ""), res["byte_hf"].keys()


def test_hybrid_llama_is_one_line_exit_2_nothing_written(llmnb_cmd, exported, tmp_path):
    d = exported[0]
    hyb = tmp_path / "hybrid"; hyb.mkdir()
    cfg = json.loads((d / "byte" / "config.json").read_text())
    cfg["model"] |= {"pattern": "MA"}
    (hyb / "config.json").write_text(json.dumps(cfg))
    r = run(llmnb_cmd + ["export", hyb, tmp_path / "out", "--format", "llama"])
    assert r.returncode == 2
    assert r.stderr.strip() == ("llmnb: error: pattern 'MA' has non-attention layers (M); --format llama needs an attention-only "
                                "model; use --format hf"), r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hybrid"]
