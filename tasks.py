#!/usr/bin/env python3
"""llmnb's entry points for a fresh machine, standard library only.

    python3 tasks.py demo     set up .venv and train configs/quickstart.toml; prints where report.html is
    python3 tasks.py test     set up .venv with the dev extra and run every check CI runs
    python3 tasks.py readme   regenerate README.md from nbs/index.ipynb
    python3 tasks.py gpu      set up .venv with the dev extra and run the GPU check (`llmnb bench gpu`): bench/results/gpu.json
    python3 tasks.py docs     set up .venv with the dev and docs extras and build the documentation site into _docs/
                              (--check: then open every page in headless Chromium, tests/docs_check.py; --force: re-execute
                              every notebook instead of reusing _docs/.cache)

Options: --venv DIR (default .venv), --fresh (delete the venv first).
gpu options: --dry-run (the same code on the CPU at tiny sizes; no GPU needed), --slow (also the #| slow cells of the cuda
notebooks), --out DIR (where gpu.json goes), --system-python (use this Python's packages instead of a venv: for GPU images
that bring their own torch, or have no network).
"""
from __future__ import annotations
import argparse, json, os, shutil, subprocess, sys, tempfile, time, venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
TORCH = "torch==2.13.0"   # the tested version; also pinned in constraints.txt


def sh(*cmd, env=None, check=True, **kw):
    print("+", " ".join(map(str, cmd)), flush=True)
    r = subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env, **kw)
    if check and r.returncode: sys.exit(f"tasks.py: command failed with exit status {r.returncode}: {' '.join(map(str, cmd))}")
    return r


def bin_(venv_dir: Path, name: str) -> Path:
    return venv_dir / ("Scripts" if os.name == "nt" else "bin") / name


def setup(venv_dir: Path, dev: bool, fresh: bool = False, docs: bool = False) -> Path:
    "Create the venv (if needed) and install llmnb (editable) with the tested versions."
    if sys.version_info < (3, 10): sys.exit(f"tasks.py: llmnb needs Python >= 3.10, this is {sys.version.split()[0]}")
    if fresh and venv_dir.exists(): shutil.rmtree(venv_dir)
    if not bin_(venv_dir, "python").exists():
        print(f"creating virtual environment {venv_dir}", flush=True)
        venv.EnvBuilder(with_pip=True).create(venv_dir)
    py = bin_(venv_dir, "python")
    extras = ",".join(e for e, on in (("dev", dev), ("docs", docs)) if on)
    stamp = venv_dir / f".llmnb{'-' + extras.replace(',', '-') if extras else ''}"
    deps = [ROOT / "pyproject.toml", ROOT / "constraints.txt"]
    if stamp.exists() and all(stamp.stat().st_mtime >= d.stat().st_mtime for d in deps):
        return py
    pip = [py, "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    # torch first and alone: a bare `pip install torch` may pull several GB of CUDA wheels; take the tested version
    if subprocess.run([str(py), "-c", "import torch"], capture_output=True).returncode:
        sh(*pip, TORCH, "-c", ROOT / "constraints.txt")
    sh(*pip, "-e", f".[{extras}]" if extras else ".", "-c", ROOT / "constraints.txt")
    stamp.touch()
    return py


def readme(py: Path | None = None) -> str:
    "README.md from nbs/index.ipynb: markdown cells as they are, code cells fenced (nbdev-readme needs quarto; this does not)."
    nb = json.loads((ROOT / "nbs" / "index.ipynb").read_text(encoding="utf-8"))
    parts = ["<!-- generated from nbs/index.ipynb by `python3 tasks.py readme`; edit the notebook, not this file -->"]
    for c in nb["cells"]:
        src = "".join(c["source"]).strip()
        if not src or src.startswith("#| hide"): continue
        if c["cell_type"] == "markdown":
            parts.append(src)
        else:
            parts.append("```python\n" + "\n".join(l for l in src.splitlines() if not l.startswith("#|")) + "\n```")
    return "\n\n".join(parts) + "\n"


def write_readme():
    (ROOT / "README.md").write_text(readme(), encoding="utf-8")
    print("wrote README.md")


def git_changes() -> str | None:
    if not (ROOT / ".git").exists() or not shutil.which("git"): return None
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT, capture_output=True, text=True).stdout


def check_unchanged(step: str, before: str | None):
    after = git_changes()
    if before is None: print(f"(not a git checkout: cannot check that {step} changes nothing)"); return
    if after != before:
        new = sorted(set(after.splitlines()) - set(before.splitlines()))
        sys.exit(f"tasks.py: {step} changed files (commit its result):\n  " + "\n  ".join(new))
    print(f"ok: {step} changes nothing", flush=True)


def test(venv_dir: Path, fresh: bool):
    py = setup(venv_dir, dev=True, fresh=fresh)
    env = {**os.environ, "PATH": f"{bin_(venv_dir, 'python').parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    t0 = time.time()
    before = git_changes()
    sh(bin_(venv_dir, "nbdev-clean"), env=env); check_unchanged("nbdev-clean", before)
    sh(bin_(venv_dir, "nbdev-export"), env=env); check_unchanged("nbdev-export", before)
    if (ROOT / "README.md").read_text(encoding="utf-8") != readme():
        sys.exit("tasks.py: README.md is out of date with nbs/index.ipynb; run `python3 tasks.py readme` and commit it")
    print("ok: README.md matches nbs/index.ipynb", flush=True)
    sh(bin_(venv_dir, "nbdev-test"), "--timing", env=env)          # slow and cuda cells skipped (tst_flags)
    sh(py, "-m", "pytest", "-q", "tests", env=env)
    with tempfile.TemporaryDirectory() as td:                       # smoke run of the main job
        sh(bin_(venv_dir, "llmnb"), "train", "--config", "configs/quickstart.toml", "--out", Path(td) / "smoke", "--no-progress",
           "--set", "train.max_steps=20", "train.eval_every=10", "train.eval_batches=2", env=env)
        for f in ("config.json", "metrics.jsonl", "report.html", "checkpoints"):
            if not (Path(td) / "smoke" / f).exists(): sys.exit(f"tasks.py: smoke run did not write {f}")
        sh(bin_(venv_dir, "llmnb"), "bench", "gpu", "--dry-run", "--out-dir", Path(td) / "gpu", env=env)   # the GPU check's plumbing, on CPU
        if json.loads((Path(td) / "gpu" / "gpu.json").read_text())["failed"]: sys.exit("tasks.py: the GPU check's dry run had failed parts")
    print(f"all checks passed in {time.time() - t0:.0f}s", flush=True)


def docs(venv_dir: Path, fresh: bool, check: bool = False, force: bool = False):
    "Build the site into _docs/ (llmnb.docs_build: execute, nbdev-process, Sphinx); with `check`, browser-check every page."
    if check and not any(shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome")) and not os.environ.get("CHROMIUM"):
        sys.exit("tasks.py: docs --check needs Chromium: apt-get install chromium (or set CHROMIUM to a Chrome/Chromium binary)")
    py = setup(venv_dir, dev=True, fresh=fresh, docs=True)
    env = {**os.environ, "PATH": f"{bin_(venv_dir, 'python').parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    t0 = time.time()
    sh(py, "-m", "llmnb.docs_build", *(["--force"] if force else []), env=env)
    print(f"site built in {time.time() - t0:.0f}s; preview: python3 -m http.server -d _docs  (then open http://localhost:8000)", flush=True)
    if check:
        t1 = time.time()
        sh(py, "tests/docs_check.py", env=env)
        sh(py, "-m", "pytest", "-q", "tests/test_docs_site.py", env=env)
        print(f"docs checks passed in {time.time() - t1:.0f}s", flush=True)


def demo(venv_dir: Path, fresh: bool):
    setup(venv_dir, dev=False, fresh=fresh)
    sh(bin_(venv_dir, "llmnb"), "train", "--config", "configs/quickstart.toml", "--out", "runs/quickstart", "--overwrite")


def has_nvidia_gpu() -> bool:
    "A cheap look for an NVIDIA GPU before setting anything up: nvidia-smi on PATH or the driver's /proc entry."
    return shutil.which("nvidia-smi") is not None or Path("/proc/driver/nvidia/gpus").is_dir()


def gpu(venv_dir: Path, fresh: bool, dry_run: bool, slow: bool, out: str | None, system_python: bool):
    "The GPU check: `llmnb bench gpu` in the venv (or this Python), with its exit status."
    if not dry_run and not has_nvidia_gpu():
        print("tasks.py gpu: no CUDA device here (no nvidia-smi, no NVIDIA driver); nothing to check. "
              "`python3 tasks.py gpu --dry-run` runs the same code on the CPU.")
        return
    if system_python:
        cmd = [sys.executable, "-c", "import sys; from llmnb.cli import main; sys.exit(main())"]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    else:
        setup(venv_dir, dev=True, fresh=fresh)
        cmd = [bin_(venv_dir, "llmnb")]
        env = {**os.environ, "PATH": f"{bin_(venv_dir, 'python').parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    flags = ["--dry-run"] * dry_run + ["--slow"] * slow + (["--out-dir", out] if out else [])
    sys.exit(sh(*cmd, "bench", "gpu", *flags, env=env, check=False).returncode)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("task", choices=["demo", "test", "readme", "setup", "gpu", "docs"])
    p.add_argument("--venv", default=str(ROOT / ".venv"), help="virtual environment directory (default: .venv)")
    p.add_argument("--fresh", action="store_true", help="delete the virtual environment first")
    p.add_argument("--dry-run", action="store_true", help="gpu: run the same code on the CPU at tiny sizes")
    p.add_argument("--slow", action="store_true", help="gpu: also run the #| slow cells of the notebooks with #| cuda cells")
    p.add_argument("--out", default=None, help="gpu: where gpu.json goes (default: bench/results; a temporary directory with --dry-run)")
    p.add_argument("--system-python", action="store_true", help="gpu: use this Python's packages (torch included) instead of a venv")
    p.add_argument("--check", action="store_true", help="docs: browser-check the built site (tests/docs_check.py)")
    p.add_argument("--force", action="store_true", help="docs: re-execute every notebook (ignore _docs/.cache)")
    a = p.parse_args()
    v = Path(a.venv).resolve()
    if a.task == "demo": demo(v, a.fresh)
    elif a.task == "test": test(v, a.fresh)
    elif a.task == "readme": write_readme()
    elif a.task == "gpu": gpu(v, a.fresh, a.dry_run, a.slow, a.out, a.system_python)
    elif a.task == "docs": docs(v, a.fresh, check=a.check, force=a.force)
    else: setup(v, dev=True, fresh=a.fresh)


if __name__ == "__main__":
    main()
