"""Check that the live `Dashboard` renders in a real JupyterLab, in headless Chromium, and save a screenshot.

Not a pytest test (it needs a browser and takes a minute); run it by hand or in a browser-equipped CI job:

    python tests/jupyterlab_check.py --out docs/dashboard.png

It copies a small notebook into a temporary directory, starts `jupyter lab` there (isolated config, settings and
workspace directories, a random port and token), opens the notebook in Chromium through Playwright, runs all cells from
the Run menu, waits until the dashboard's plotly plots have rendered inside the output area, checks that the rendered
loss curve holds every training step (so the widget's live updates reached the browser), checks that the dashboard
replayed with `Dashboard.from_run` renders too, and one filled faster than the browser loads the widget's code, checks
the GRPO view on a tiny GRPO run (every step's reward reached the browser), and saves screenshots of the live training
dashboard and of the GRPO one (`<out>_grpo.png`). Exit status 0 = rendered, 1 = not rendered
(the reason and the browser console are printed). Needs jupyterlab, ipywidgets, anywidget, plotly and playwright (the
Python package; the browser is the system Chromium, `--chromium`).
"""
from __future__ import annotations
import argparse, json, os, secrets, socket, subprocess, sys, tempfile, time, urllib.request
from pathlib import Path

STEPS = 40
GRPO_STEPS = 12
CELLS = [
    "from llmnb.viz.dashboard import Dashboard\nfrom llmnb.train import Learner, load_run_config\nimport torch",
    # a tiny Mamba+attention run with every diagnostic; one MLP is zeroed so that the dead-layer flag shows on the curves
    "cfg = load_run_config(overrides=['model.d_model=32', 'model.n_layers=2', 'model.pattern=MA', 'model.n_heads=2', 'model.d_state=4',\n"
    "    'model.max_seq_len=64', 'optim.lr=1e-2', 'optim.warmup_steps=5', 'train.batch_size=4', 'train.seq_len=32',\n"
    f"    'train.eval_batches=1', 'train.eval_every=10', 'train.diag_every=5', 'train.max_steps={STEPS}'])\n"
    "L = Learner(cfg, 'tiny-hybrid', callbacks=[Dashboard(interval=0.2, width=1000)])\n"
    "with torch.no_grad(): L.model.layers[1].mlp.w2.weight.zero_()\n"
    "L.model.layers[1].mlp.w2.weight.requires_grad_(False)\n"
    "L.fit(progress=False);",
    "Dashboard.from_run('tiny-hybrid')",
    # shown empty, then filled and redrawn at once: every edit reaches the browser before it has loaded plotly's widget code
    "from llmnb.train import read_metrics\nd = Dashboard(interval=0); display(d)\n"
    "for r in read_metrics('tiny-hybrid/metrics.jsonl'): d.add(r)\nd.redraw()",
    # a tiny GRPO run (reward: the share of 'a' in the completion) with the dashboard's GRPO view
    "from llmnb.rl.grpo import GRPOTrainer, GRPOConfig\nfrom llmnb.rl.rewards import Rewards\nfrom llmnb.models import LM, LMConfig\n"
    "from llmnb.data.tokenize import ByteTokenizer\ntorch.manual_seed(0)\n"
    "lm = LM(LMConfig(vocab_size=264, d_model=32, n_layers=2, n_heads=2, max_seq_len=128))\nprobs = [{'prompt': 'say a', 'answer': 'a'}] * 4\n"
    f"gc = GRPOConfig(group_size=4, prompts_per_step=2, max_steps={GRPO_STEPS}, max_new_tokens=8, lr=3e-2, eval_every=5)\n"
    "T = GRPOTrainer(lm, ByteTokenizer(), probs, gc, Rewards(a=lambda c, s, **kw: c.count('a') / max(len(c), 1)), heldout=probs[:1],\n"
    "                run_dir='tiny-grpo', callbacks=[Dashboard(interval=0.2, width=1000)])\nT.fit(progress=False);",
    "print('ALL' + 'DONE')",
]
DASH_CELLS = (1, 2, 3)   # the cells whose output is a training dashboard
GRPO_CELL = 4            # the cell whose output is a GRPO dashboard


def notebook() -> dict:
    cell = lambda i, src: {"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {}, "outputs": [], "source": src}
    return {"cells": [cell(i, s) for i, s in enumerate(CELLS)], "nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]


def wait_for_server(url: str, proc: subprocess.Popen, timeout: float):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None: raise RuntimeError(f"jupyter lab exited with status {proc.returncode} (its log is printed below)")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200: return
        except OSError: pass
        time.sleep(0.5)
    raise RuntimeError(f"jupyter lab did not answer at {url} within {timeout:.0f} s")


def run_all_cells(page):
    "Run > Run All Cells, as a user would; the command palette if the menu cannot be used."
    try:
        page.get_by_role("menuitem", name="Run", exact=True).click(timeout=10_000)
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click(timeout=10_000)
    except Exception:
        page.keyboard.press("Control+Shift+C"); page.keyboard.type("Run All Cells"); page.keyboard.press("Enter")


def check(out: Path, chromium: str, timeout: float) -> list[str]:
    "Run the notebook in JupyterLab + Chromium; returns the problems found (empty = rendered)."
    from playwright.sync_api import sync_playwright
    problems, console = [], []
    with tempfile.TemporaryDirectory() as td:
        td = Path(td)
        (td / "work").mkdir(); (td / "work" / "dashboard.ipynb").write_text(json.dumps(notebook()))
        cfg = td / "config"; (cfg / "labconfig").mkdir(parents=True)
        # no "news" / update toast over the screenshot
        (cfg / "labconfig" / "page_config.json").write_text(json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
        env = {**os.environ, "JUPYTER_CONFIG_DIR": str(cfg), "JUPYTERLAB_SETTINGS_DIR": str(td / "settings"),
               "JUPYTERLAB_WORKSPACES_DIR": str(td / "workspaces"), "JUPYTER_RUNTIME_DIR": str(td / "runtime"), "PYTHONUNBUFFERED": "1"}
        port, token = free_port(), secrets.token_hex(16)
        log = open(td / "lab.log", "w")
        proc = subprocess.Popen([sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
                                 f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={td / 'work'}"]
                                + (["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
                                cwd=td / "work", env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            try: wait_for_server(f"{base}/api/status?token={token}", proc, 90)
            except RuntimeError as e: problems.append(str(e)); return problems
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
                page = browser.new_page(viewport={"width": 1500, "height": 2400})
                page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
                page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
                page.goto(f"{base}/lab/tree/dashboard.ipynb?token={token}")
                page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=timeout * 1000)
                try:   # JupyterLab 4 may ask which kernel to start: take the default (the Python of this venv)
                    page.locator(".jp-Dialog .jp-mod-accept").click(timeout=15_000)
                except Exception: pass
                page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=timeout * 1000)
                run_all_cells(page)
                try: page.wait_for_selector(".jp-OutputArea-output:has-text('ALLDONE')", timeout=timeout * 1000)
                except Exception:
                    problems.append("the notebook did not finish (no ALLDONE output): a cell failed or hung")
                    page.screenshot(path=str(out)); print(f"screenshot of the failure: {out}"); return problems
                # the live dashboard (cell 1) and the replayed one (cell 2): loss/lr/throughput figure + diagnostics figure each
                cells = page.locator(".jp-Notebook .jp-CodeCell").all()
                for i in DASH_CELLS:
                    cell = cells[i]
                    try: cell.locator(".jp-OutputArea-output .js-plotly-plot").nth(1).wait_for(timeout=30_000)
                    except Exception: problems.append(f"cell {i}: fewer than 2 plotly plots rendered in its output")
                    text = cell.locator(".jp-OutputArea").inner_text()
                    for bad in ("Error displaying widget", "Failed to load model class", "Traceback"):
                        if bad in text: problems.append(f"cell {i}: output says '{bad}'")
                try:   # every plot of the dashboards has its traces (plotly.js sets `data` on the plot's div)
                    page.wait_for_function("""(cells) => { const cs = document.querySelectorAll('.jp-Notebook .jp-CodeCell');
                        return cells.every(i => { const ps = [...cs[i].querySelectorAll('.js-plotly-plot')];
                                                  return ps.length >= 2 && ps.every(d => d.data && d.data.length > 0); }); }""",
                                           arg=list(DASH_CELLS), timeout=30_000)
                except Exception: pass           # reported below, with the numbers
                page.wait_for_timeout(1000)          # let plotly finish its last relayout
                counts = page.evaluate("""() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')].map(c =>
                    [...c.querySelectorAll('.js-plotly-plot')].map(d => ({n: (d.data || []).length,
                        x: ((d.data || [])[0] || {}).x ? d.data[0].x.length : 0,
                        marks: ((d.layout || {}).annotations || []).filter(a => a.hovertext).length})))""")
                print("rendered plots per cell (traces, points in the first trace, flag marks):", counts)
                for i in DASH_CELLS:
                    plots = counts[i]
                    if not plots or plots[0]["x"] != STEPS: problems.append(f"cell {i}: the loss curve shows {plots[0]['x'] if plots else 0} steps, expected {STEPS}")
                    elif plots[0]["marks"] == 0: problems.append(f"cell {i}: no flag marks on the loss panel")
                grpo = counts[GRPO_CELL]                       # one figure: reward, held-out, lengths, KL/clip
                if not grpo or grpo[0]["x"] != GRPO_STEPS: problems.append(f"cell {GRPO_CELL}: the GRPO reward curve shows {grpo[0]['x'] if grpo else 0} steps, expected {GRPO_STEPS}")
                elif grpo[0]["n"] < 5: problems.append(f"cell {GRPO_CELL}: the GRPO figure has {grpo[0]['n']} traces, expected reward, its component, held-out, length and KL/clip traces")
                gcell = page.locator(".jp-Notebook .jp-CodeCell").nth(GRPO_CELL)
                gheader = gcell.locator(".widget-html").first
                gtext = (gheader.text_content() or "") if gheader.count() else ""   # text_content: the cell may be scrolled out of view
                if f"step {GRPO_STEPS}/{GRPO_STEPS}" not in gtext or "reward" not in gtext:
                    problems.append(f"cell {GRPO_CELL}: the GRPO dashboard's header is {gtext!r}, expected the last step and the reward")
                else: print("GRPO header:", gtext)
                header = page.locator(".jp-Notebook .jp-CodeCell").nth(1).locator(".widget-html").first
                if header.count(): print("header:", header.inner_text())
                out.parent.mkdir(parents=True, exist_ok=True)
                page.locator(".jp-Notebook .jp-CodeCell").nth(1).scroll_into_view_if_needed()
                page.screenshot(path=str(out))
                gout = out.with_name(out.stem + "_grpo" + out.suffix)   # then the GRPO view (scrolling back would blank the page)
                gcell.locator(".jp-OutputArea").scroll_into_view_if_needed(); page.wait_for_timeout(500)
                gcell.locator(".jp-OutputArea").screenshot(path=str(gout))
                print(f"screenshots: {out}, {gout}")
                browser.close()
        finally:
            proc.terminate()
            try: proc.wait(20)
            except subprocess.TimeoutExpired: proc.kill()
            log.close()
            if problems: print((td / "lab.log").read_text()[-4000:], file=sys.stderr)
    if problems and any("Failed to initialize model" in c for c in console):
        problems.append("anywidget gave up on a widget: its JavaScript (plotly's 5 MB widget bundle) did not load within anywidget's "
                        "2-second limit, so the browser dropped every update to it; this happens on an overloaded machine — rerun when it is quieter")
    if problems and console: print("browser console:\n  " + "\n  ".join(console[-30:]), file=sys.stderr)
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("docs/dashboard.png"), help="screenshot file")
    ap.add_argument("--chromium", default="/usr/bin/chromium", help="Chromium executable")
    ap.add_argument("--timeout", type=float, default=240, help="seconds to wait for the page and the notebook")
    a = ap.parse_args(argv)
    problems = check(a.out, a.chromium, a.timeout)
    for p in problems: print("NOT RENDERED:", p, file=sys.stderr)
    if not problems: print("OK: the dashboard rendered in JupyterLab")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
