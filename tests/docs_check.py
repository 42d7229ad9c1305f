"""Open every page of the built documentation site (`_docs/`) in headless Chromium and fail on what a reader must not see.

Not collected by a plain `pytest tests/` (the file name does not start with `test_`); it needs a built site and a
browser. Run it with

    python3 tasks.py docs --check          # builds the site, then runs this file
    python tests/docs_check.py [--site _docs] [--screenshots docs/screenshots]
    python -m pytest tests/docs_check.py   # the same check as a pytest test (skipped when _docs/ is not built)

Each page is served from a local HTTP server and opened through Playwright (the Python package; the browser is Debian's
`chromium`, found on PATH or given by $CHROMIUM). A page fails on: a console error or an uncaught exception; a request
to any host but the local server (nothing may load from a CDN: the request is blocked and reported); a local resource
that does not load; a Python traceback, a cell error or a `ModuleNotFoundError` in the text; a plotly figure that did
not draw or has no data; a link to a page of the site that does not exist or to an anchor that is not on its page; a
code cell that downloads something (a `!pip`/`%pip`/`!git`/`!wget` line, pip install or git clone run as a
subprocess, a hub download, `urlretrieve`/`urlopen`/`requests.get`). The search page
must find `selective_scan`. Screenshots of the index, a kernel page, a tutorial and the benchmarks page are saved to
`docs/screenshots/`. Exit status 0 = every page passed, 1 = problems (listed), 2 = no site or no browser.
"""
from __future__ import annotations
import argparse, functools, html, http.server, os, re, shutil, sys, threading, time
from pathlib import Path
from urllib.parse import urljoin, urlsplit, unquote

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_docs"
SHOTS = ROOT / "docs" / "screenshots"
SCREENSHOTS = {   # file name -> (page, element to scroll into view or None)
    "index.png": ("index.html", None),
    "kernel_page.png": ("kernels.scan.html", "#selective_scan"),
    "tutorial.png": ("tutorials/quickstart.html", ".plotly-graph-div"),
    "benchmarks.png": ("benchmarks.html", "#scan"),
}
BAD_TEXT = ("Traceback (most recent call last)", "ModuleNotFoundError")
DOWNLOADS = re.compile(r"^\s*[!%]\s*(pip|uv|conda|git|wget|curl)\b|[\"']pip[\"'],\s*[\"']install|[\"']git[\"'],\s*[\"']clone|"
                       r"\b(hf_hub_download|snapshot_download|urlretrieve|urlopen|requests\.get|load_dataset_from_hub)\(", re.M)


def chromium() -> str | None:
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def serve(site: Path):
    "A quiet local HTTP server for `site` on a free port; returns (server, base URL)."
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_port}/"


def site_pages(site: Path) -> list[str]:
    "Every HTML page of the site (paths relative to it), Sphinx's own pages included."
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                  if not any(part.startswith((".", "_")) for part in p.relative_to(site).parts))


@functools.lru_cache(maxsize=None)
def page_ids(path: Path) -> frozenset:
    return frozenset(re.findall(r'\bid="([^"]+)"', path.read_text(encoding="utf-8", errors="replace")))


def check_link(site: Path, page: str, href: str) -> str | None:
    "None if the local link `href` on `page` points to an existing file (and anchor); else the problem."
    parts = urlsplit(href)
    target = unquote(parts.path) if parts.path else "/" + page
    f = site / target.lstrip("/")
    if f.is_dir(): f = f / "index.html"
    if not f.exists(): return f"broken link {href} (no {f.relative_to(site)})"
    if parts.fragment and f.suffix == ".html" and unquote(parts.fragment) not in page_ids(f):
        return f"broken anchor {href} (no id {parts.fragment!r} on {f.relative_to(site)})"
    return None


PAGE_JS = """() => {
  const text = document.body.innerText;
  const links = [...document.querySelectorAll('a[href]')].map(a => a.href);
  const errors = [...document.querySelectorAll('.output.traceback, .output.error, div.cell_output .traceback')].map(e => e.innerText.slice(0, 300));
  const code = [...document.querySelectorAll('div.cell_input pre, div.cell_input code')].map(e => e.innerText);
  const figs = [...document.querySelectorAll('.plotly-graph-div')].map(g => ({
      id: g.id, drawn: !!g.querySelector('.main-svg'),
      points: (g._fullData || g.data || []).filter(t => t.visible !== false).reduce((n, t) => n + ['x', 'y', 'z', 'values', 'cells'].reduce((m, k) =>
          m + (!t[k] ? 0 : t[k].length !== undefined ? t[k].length : t[k].bdata ? 1 : 0), 0), 0)}));
  return {text, links, errors, code, figs};
}"""


def check_site(site: Path = SITE, shots: Path | None = SHOTS, browser: str | None = None, log=print) -> list[str]:
    "Every problem found on every page of `site` (empty = all pages pass); saves the screenshots into `shots`."
    from playwright.sync_api import sync_playwright
    browser = browser or chromium()
    if not browser: return ["no Chromium found (apt-get install chromium, or set $CHROMIUM)"]
    srv, base = serve(site)
    problems, pages = [], site_pages(site)
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=browser, args=["--no-sandbox"])
            ctx = b.new_context(viewport={"width": 1280, "height": 900})
            page = ctx.new_page()
            events: list[str] = []
            def route(r):
                if r.request.url.startswith(base) or r.request.url.startswith(("data:", "blob:")): r.continue_()
                else: events.append(f"request to another host: {r.request.url}"); r.abort()
            page.route("**/*", route)
            page.on("console", lambda m: events.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: events.append(f"uncaught exception: {e}"))
            page.on("response", lambda r: events.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
            for name in pages:
                events.clear()
                t0 = time.time()
                page.goto(base + name, wait_until="load")
                try: page.wait_for_load_state("networkidle", timeout=10_000)
                except Exception: pass
                if page.query_selector(".plotly-graph-div"):
                    try: page.wait_for_function("[...document.querySelectorAll('.plotly-graph-div')].every(g => g.querySelector('.main-svg'))", timeout=20_000)
                    except Exception: pass
                info = page.evaluate(PAGE_JS)
                found = list(events)
                found += [f"text shows {t!r}" for t in BAD_TEXT if t in info["text"]]
                found += [f"error output: {e!r}" for e in info["errors"]]
                found += [f"plotly figure {f['id']} did not draw" for f in info["figs"] if not f["drawn"]]
                found += [f"plotly figure {f['id']} is empty (no data points)" for f in info["figs"] if f["drawn"] and not f["points"]]
                found += [f"code cell downloads something: {m.group(0)!r} in {c[:120]!r}" for c in info["code"] for m in [DOWNLOADS.search(c)] if m]
                for href in sorted(set(info["links"])):
                    if href.startswith(base) and (err := check_link(site, name, href[len(base) - 1:])): found.append(err)
                problems += [f"{name}: {f}" for f in found]
                log(f"  {'FAIL' if found else 'ok  '} {name} ({time.time() - t0:.1f} s, {len(info['figs'])} figures)")
            # search works offline
            page.goto(base + "search.html?q=selective_scan", wait_until="load")
            try: page.wait_for_selector("#search-results li a[href*='kernels.scan']", timeout=20_000)
            except Exception: problems.append("search.html: searching 'selective_scan' does not list kernels.scan")
            else: log("  ok   search finds selective_scan")
            if shots is not None:
                shots.mkdir(parents=True, exist_ok=True)
                for fname, (name, target) in SCREENSHOTS.items():
                    if not (site / name).exists(): problems.append(f"screenshot {fname}: {name} not built"); continue
                    page = b.new_context(viewport={"width": 1280, "height": 900}).new_page()   # a first visit: no remembered sidebar scroll
                    page.route("**/*", route)
                    page.goto(base + name, wait_until="load")
                    try: page.wait_for_load_state("networkidle", timeout=10_000)
                    except Exception: pass
                    if target:
                        page.evaluate("s => { const e = document.querySelector(s); if (e) e.scrollIntoView({block: 'start'}); }", target)
                        time.sleep(1.0)   # plotly's responsive resize and MathJax
                    page.screenshot(path=str(shots / fname))
                    log(f"  screenshot {shots / fname}")
            b.close()
    finally:
        srv.shutdown()
    return problems


def test_site_in_browser():
    import pytest
    if not (SITE / "index.html").exists(): pytest.skip("the docs site is not built (python3 tasks.py docs)")
    if not chromium(): pytest.skip("no Chromium (apt-get install chromium)")
    problems = check_site(SITE, SHOTS)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:100])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--site", default=str(SITE), help="the built site (default: _docs)")
    ap.add_argument("--screenshots", default=str(SHOTS), help="where to save the screenshots (default: docs/screenshots)")
    a = ap.parse_args()
    site = Path(a.site)
    if not (site / "index.html").exists():
        print(f"docs_check: {site}/index.html not found: build the site first (python3 tasks.py docs)", file=sys.stderr); sys.exit(2)
    if not chromium():
        print("docs_check: no Chromium found (apt-get install chromium, or set $CHROMIUM)", file=sys.stderr); sys.exit(2)
    t0 = time.time()
    print(f"docs_check: {len(site_pages(site))} pages of {site}", flush=True)
    problems = check_site(site, Path(a.screenshots))
    for pr in problems: print("PROBLEM", pr)
    print(f"docs_check: {len(problems)} problems in {time.time() - t0:.0f} s", flush=True)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
