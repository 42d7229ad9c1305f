"""`import llmnb` does no work: seen from a fresh interpreter with `python -X importtime`, no heavy library is imported
and no process-wide state (umask, environment) changes. Each feature imports what it needs when it is used."""
import os, re, subprocess, sys
import pytest
from conftest import ROOT

HEAVY = ("transformers", "datasets", "triton", "plotly", "tokenizers", "peft", "bitsandbytes", "pandas", "lm_eval",
         "tensorboard", "trackio", "wandb")


def imported_modules(code: str) -> set[str]:
    "Every module `python -X importtime -c code` imported, from its import-time report on stderr."
    r = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return {m.group(1) for m in re.finditer(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", r.stderr, re.M)}


@pytest.mark.parametrize("module", ["llmnb", "llmnb.core", "llmnb.models", "llmnb.optim", "llmnb.data", "llmnb.train", "llmnb.cli"])
def test_import_pulls_in_no_heavy_library(module):
    mods = imported_modules(f"import {module}")
    assert module in mods                                   # the report is read correctly
    heavy = sorted({m for m in mods if m.split(".")[0] in HEAVY})
    assert not heavy, f"import {module} imported {heavy}"


def test_import_llmnb_imports_nothing_but_itself():
    mods = imported_modules("import llmnb")
    assert not {m for m in mods if m.split(".")[0] in ("torch", "numpy")}, "import llmnb imported torch or numpy"
    assert {m for m in mods if m.startswith("llmnb")} == {"llmnb"}


def test_umask_and_environment_unchanged_by_import():
    probe = ("import os, sys\n"
             "os.umask(0o027); env = dict(os.environ)\n"
             "import llmnb, llmnb.core, llmnb.cli\n"
             "print(oct(os.umask(0o027)), dict(os.environ) == env)\n")
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.split() == ["0o27", "True"], r.stdout


def test_features_import_their_dependencies_on_use():
    "Loading a source imports its module; importing llmnb.models.hf registers the Auto classes."
    probe = ("import sys\n"
             "from llmnb.train.config import DataConfig\n"
             "DataConfig(source='chat:x.jsonl').validate(); DataConfig(source='mqar:pairs=2').validate()\n"
             "print('llmnb.data.chat' in sys.modules, 'transformers' in sys.modules)\n"
             "import llmnb.models.hf, transformers\n"
             "print(transformers.AutoConfig.for_model('llmnb').model_type)\n")
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=300,
                       env=os.environ | {"HF_HUB_OFFLINE": "1"})
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.split() == ["False", "False", "llmnb"], r.stdout
