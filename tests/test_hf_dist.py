"""A Hugging Face causal LM (`model.hf`, a tiny Llama saved with `save_pretrained`) under `torchrun --nproc_per_node=2`
(gloo, CPU): DDP and FSDP2 train the same loss curve as one process with 2x gradient accumulation."""
import os, subprocess, sys
from pathlib import Path
import pytest
from conftest import ROOT, losses, assert_same_curve

CFG = ["model.hf_init=config", "train.batch_size=4", "train.seq_len=32", "train.eval_batches=1", "train.eval_every=5",
       "train.ckpt_every=5", "train.max_steps=10", "train.diagnostics=none", "optim.warmup_steps=2"]


def save_tiny_llama(directory: Path):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM
    torch.manual_seed(0)
    LlamaForCausalLM(LlamaConfig(vocab_size=300, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                                 num_key_value_heads=2, max_position_embeddings=64)).save_pretrained(directory)


@pytest.mark.skipif(os.name == "nt", reason="torchrun with gloo is tested on POSIX")
@pytest.mark.parametrize("mode", ["ddp", "fsdp"])
def test_hf_model_two_processes_match_grad_accum(llmnb_cmd, tmp_path, mode):
    save_tiny_llama(tmp_path / "llama")
    cfg = CFG + [f"model.hf={tmp_path / 'llama'}"] + (["train.fsdp=true"] if mode == "fsdp" else [])
    torchrun = [str(Path(sys.executable).parent / "torchrun"), "--nproc_per_node=2", f"--master_port={29531 + (mode == 'fsdp')}",
                "--no-python", *llmnb_cmd]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    def run(cmd, out, *extra):
        r = subprocess.run(cmd + ["train", "--no-progress", "--out", str(out), "--set", *cfg, *extra],
                           cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
        assert r.returncode == 0, r.stderr[-3000:]
    run(torchrun, tmp_path / mode)
    run(llmnb_cmd, tmp_path / "single", "train.grad_accum=2")
    a, b = losses(tmp_path / mode), losses(tmp_path / "single")
    assert [x[0] for x in a] == list(range(11))
    assert_same_curve(a, b)
