"Experiment trackers from the command line: `--set train.log_to=tensorboard,trackio` logs a run and its resume; a missing tracker package is one line."
import json, subprocess, sys
from pathlib import Path
from conftest import ROOT, TINY


def run(cmd, *args):
    return subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True, cwd=ROOT, timeout=600)


def tensorboard_steps(run_dir) -> dict:
    "{tag: [steps]} of the scalars in RUN_DIR/tensorboard, read with TensorBoard's reader."
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    ea = EventAccumulator(str(Path(run_dir) / "tensorboard"), size_guidance={"scalars": 0})
    ea.Reload()
    return {tag: [e.step for e in ea.Scalars(tag)] for tag in ea.Tags()["scalars"]}


def test_log_to_from_the_command_line_and_resume(llmnb_cmd, tmp_path):
    out = tmp_path / "run"
    first = run(llmnb_cmd, "train", "--out", out, "--no-progress", "--set", *TINY, "train.max_steps=3", "train.log_to=tensorboard,trackio")
    assert first.returncode == 0, first.stderr
    assert json.loads((out / "config.json").read_text())["train"]["log_to"] == ["tensorboard", "trackio"]
    assert (out / "trackio" / "llmnb.db").is_file()
    resumed = run(llmnb_cmd, "train", "--out", out, "--resume", "--no-progress", "--set", "train.max_steps=5")
    assert resumed.returncode == 0, resumed.stderr
    steps = tensorboard_steps(out)
    assert steps["loss"] == [1, 2, 3, 4, 5] and steps["val_loss"] == [0, 3, 5], steps   # each step once, across the resume


def test_missing_tracker_package_is_one_line(tmp_path):
    out = tmp_path / "run"
    probe = ("import sys; sys.modules['wandb'] = None\n"           # as if wandb were not installed
             "from llmnb.cli import main\n"
             f"sys.exit(main(['train', '--out', {str(out)!r}, '--set', 'train.log_to=wandb', 'train.max_steps=3']))\n")
    r = run([sys.executable, "-c", probe])
    assert r.returncode == 2, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "'wandb', but its package wandb cannot be imported" in lines[0], r.stderr
    assert "pip install 'llmnb[track]'" in lines[0]
    assert not out.exists(), sorted(out.iterdir())   # a run that fails before writing anything leaves no directory behind
