"""No CLI path prints a Python traceback for bad input: a corpus of broken configs, data files and run directories, each
answered with one `llmnb: error:` line naming the problem and exit status 2."""
import json, subprocess
from pathlib import Path
import pytest
from conftest import ROOT, TINY


def corpus(d: Path, hf_assets) -> dict:
    "name -> the llmnb arguments of one broken input (files made under `d`; `hf_assets`: a local hub-layout dataset and tokenizer)."
    ds, tok = hf_assets
    def w(name, data):
        (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())
        return str(d / name)
    (d / "empty_dir").mkdir()
    (d / "not_a_run").mkdir(); (d / "not_a_run" / "notes.txt").write_text("hello")
    bad_run = d / "bad_run"; (bad_run / "checkpoints" / "step_00000001").mkdir(parents=True)
    (bad_run / "config.json").write_text("{\"model\": 3}")
    (bad_run / "checkpoints" / "step_00000001" / "ledger.json").write_text("{}")
    rewrites = d / "rewrites_tokenizer"       # the hf_assets tokenizer with a template that drops past reasoning, as Qwen3's does
    from transformers import AutoTokenizer
    qt = AutoTokenizer.from_pretrained(tok)
    qt.chat_template = ("{{ bos_token }}{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% if m['role'] == 'assistant' and not loop.last %}"
                        "{{ m['content'].split('</think>')[-1] }}{% else %}{{ m['content'] }}{% endif %}<|im_end|>\n{% endfor %}")
    qt.save_pretrained(rewrites)
    reasoned = [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4", "reasoning": "easy"},
                {"role": "user", "content": "sure?"}, {"role": "assistant", "content": "yes"}]
    shards = d / "shards"; shards.mkdir()
    (shards / "a.bin").write_bytes(b"\x00" * 16)
    (shards / "a.meta.json").write_text(json.dumps({"dtype": "object", "n_tokens": 8}))
    return {
        "toml syntax": ["train", "--config", w("bad.toml", "[model\nd_model = 3")],
        "toml non-utf8": ["train", "--config", w("bin.toml", b"\xff\xfe[model]\n")],
        "toml unknown key": ["train", "--config", w("typo.toml", "[model]\nd_modle = 32\n")],
        "toml wrong type": ["train", "--config", w("type.toml", "[train]\nmax_steps = \"many\"\n")],
        "config is a directory": ["train", "--config", str(d / "empty_dir")],
        "set without =": ["train", "--set", "train.max_steps"],
        "unknown pattern letter": ["train", "--set", "model.pattern='AXQ'"],
        "unknown task": ["train", "--set", "task='rlhf'"],
        "unknown data source": ["train", "--set", "data.source='s3:bucket'"],
        "chat file missing": ["train", "--set", *TINY, f"data.source='chat:{d / 'nope.jsonl'}'"],
        "chat bad json": ["train", "--set", *TINY, f"data.source='chat:{w('chat.jsonl', chr(123) + 'bad' + chr(10))}'"],
        "chat non-utf8": ["train", "--set", *TINY, f"data.source='chat:{w('chat8.jsonl', b'{}' + bytes([10, 255, 254, 10]))}'"],
        "chat no messages": ["train", "--set", *TINY, f"data.source='chat:{w('chat2.jsonl', json.dumps({'text': 'x'}) + chr(10))}'"],
        "chat template rewrites history": ["train", "--set", *TINY, "train.seq_len=64", f"data.tokenizer='hf:{rewrites}'",
                                           f"data.source='chat:{w('reasoned.jsonl', (json.dumps({'messages': reasoned}) + chr(10)) * 4)}'"],
        "shard dtype object": ["train", "--set", *TINY, f"data.source='shards:{shards}'"],
        "grpo problems missing": ["train", "--set", *TINY, "task='grpo'", f"grpo.problems='jsonl:{d / 'none.jsonl'}'"],
        "grpo problems bad json": ["train", "--set", *TINY, "task='grpo'", f"grpo.problems='jsonl:{w('p.jsonl', 'not json' + chr(10))}'"],
        "resume empty dir": ["train", "--out", str(d / "empty_dir"), "--resume"],
        "overwrite a non-run": ["train", "--out", str(d / "not_a_run"), "--overwrite", "--set", *TINY],
        "resume a broken run": ["train", "--out", str(bad_run), "--resume"],
        "eval missing dir": ["eval", str(d / "missing")],
        "eval not a run": ["eval", str(d / "not_a_run")],
        "eval broken run": ["eval", str(bad_run)],
        "report not a run": ["report", str(d / "not_a_run")],
        "data stats on a file": ["data", "stats", w("f.txt", "x")],
        "bench unknown": ["bench", "nosuchbench"],
        "ablate missing config": ["ablate", str(d / "missing.toml")],
        "hf unknown dataset": ["train", "--set", *TINY, f"data.source='hf:{d / 'no_such_dataset'}'"],
        "hf unknown hub dataset": ["train", "--set", *TINY, "data.source='hf:nobody/no-such-dataset'"],
        "hf missing text field": ["train", "--set", *TINY, f"data.source='hf:{ds}?text_field=body'"],
        "hf malformed option": ["train", "--set", *TINY, f"data.source='hf:{ds}?val_docs'"],
        "hf unknown option": ["train", "--set", *TINY, f"data.source='hf:{ds}?colour=red'"],
        "tokenizer vocab mismatch": ["train", "--set", *TINY, f"data.source='hf:{ds}'", f"data.tokenizer='hf:{tok}'", "model.vocab_size=300"],
        "tokenizer unknown kind": ["train", "--set", *TINY, "data.tokenizer='sentencepiece:m.model'"],
        "tokenizer missing dir": ["train", "--set", *TINY, f"data.tokenizer='hf:{d / 'no_tokenizer'}'"],
        "tokenizer for mqar": ["train", "--set", *TINY, "data.source='mqar:pairs=2'", "data.tokenizer=byte"],
    }


NAMES = [
    "toml syntax", "toml non-utf8", "toml unknown key", "toml wrong type", "config is a directory", "set without =",
    "unknown pattern letter", "unknown task", "unknown data source", "chat file missing", "chat bad json", "chat non-utf8",
    "chat no messages", "chat template rewrites history", "shard dtype object", "grpo problems missing", "grpo problems bad json",
    "resume empty dir", "overwrite a non-run", "resume a broken run", "eval missing dir", "eval not a run", "eval broken run", "report not a run",
    "data stats on a file", "bench unknown", "ablate missing config", "hf unknown dataset", "hf unknown hub dataset",
    "hf missing text field", "hf malformed option", "hf unknown option", "tokenizer vocab mismatch", "tokenizer unknown kind",
    "tokenizer missing dir", "tokenizer for mqar"]
EXPECT = {   # what the one error line must say, where a case checks its wording
    "hf unknown dataset": "no dataset at", "hf unknown hub dataset": "not a dataset on the Hugging Face Hub",
    "hf missing text field": "has no column 'body' (columns: id, text)", "hf malformed option": "valid options: config, split, text_field",
    "hf unknown option": "hf option 'colour=red'", "tokenizer vocab mismatch": "model.vocab_size=300 is smaller than the tokenizer's vocabulary (512)",
    "tokenizer unknown kind": "is not one of", "tokenizer missing dir": "no tokenizer at", "tokenizer for mqar": "takes no data.tokenizer",
    "chat template rewrites history": "does not render conversations incrementally"}


@pytest.mark.parametrize("name", NAMES)
def test_bad_input_is_one_line_not_a_traceback(llmnb_cmd, tmp_path, name, hf_assets):
    cases = corpus(tmp_path, hf_assets)
    assert sorted(cases) == sorted(NAMES)
    args = cases[name]
    r = subprocess.run(llmnb_cmd + args, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in r.stderr, f"{name}: {r.stderr[-3000:]}"
    assert r.returncode == 2, f"{name}: exit {r.returncode}: {r.stderr[-2000:]}"
    errors = [l for l in r.stderr.splitlines() if l.startswith("llmnb: error:")]
    assert len(errors) == 1 or r.stderr.startswith("usage:"), r.stderr[-2000:]
    if name in EXPECT: assert EXPECT[name] in errors[0], errors[0]
    run = tmp_path / "runs" / "run"                      # the default run directory: a run that failed before training left none
    assert not run.exists(), sorted(run.iterdir())
