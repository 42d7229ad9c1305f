"""The built documentation site (`_docs/`, `python3 tasks.py docs`) documents the whole API and holds the pages the package links to.

Skipped when the site is not built (a plain CI run does not build it). Reads files only; the browser check is
tests/docs_check.py.
"""
import ast, html, re
from pathlib import Path
import pytest
from conftest import ROOT

SITE = ROOT / "_docs"
pytestmark = pytest.mark.skipif(not (SITE / "index.html").exists(), reason="the docs site is not built (python3 tasks.py docs)")


def exported(py: Path) -> set:
    "The names in the module's `__all__` (read from the source, without importing it)."
    for node in ast.parse(py.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            return set(ast.literal_eval(node.value))
    return set()


def page_text(page: Path) -> str:
    "The page's visible text, roughly: tags dropped, entities decoded, whitespace collapsed."
    raw = re.sub(r"<script.*?</script>|<style.*?</style>", " ", page.read_text(encoding="utf-8"), flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", raw)))


def letters(s: str) -> str:
    "Only the letters and digits of `s`, one space between runs (markup, quotes and punctuation are rendered differently)."
    return re.sub(r"[^0-9A-Za-z]+", " ", s.replace("’", "").replace("'", ""))


def api_entries():
    "(module, name, page, anchor) for every exported function and class in llmnb._modidx."
    from llmnb._modidx import d
    for mod, syms in d["syms"].items():
        names = exported(ROOT / syms[next(iter(syms))][1]) if syms else set()
        for sym, (url, _) in syms.items():
            name = sym[len(mod) + 1:]
            if "." in name or name not in names: continue          # methods are shown with their class
            page, _, anchor = url.partition("#")
            yield mod, name, page, anchor


def test_every_exported_name_is_on_its_page():
    import importlib, inspect
    missing, n = [], 0
    for mod, name, page, anchor in api_entries():
        n += 1
        f = SITE / page
        if not f.exists(): missing.append(f"{mod}.{name}: no page {page}"); continue
        src = f.read_text(encoding="utf-8")
        if f'id="{anchor}"' not in src: missing.append(f"{mod}.{name}: no anchor #{anchor} on {page}"); continue
        doc = inspect.getdoc(getattr(importlib.import_module(mod), name)) or ""
        words = letters(doc.strip().split("\n\n")[0])[:60].strip()
        if words and words not in letters(page_text(f)):
            missing.append(f"{mod}.{name}: docstring {words!r} not on {page}")
    assert n > 300, f"only {n} exported names found in llmnb._modidx"
    assert not missing, f"{len(missing)} of {n} exported names not documented:\n" + "\n".join(missing[:60])


def test_signatures_and_parameter_tables():
    page = (SITE / "kernels.scan.html").read_text(encoding="utf-8")
    text = page_text(SITE / "kernels.scan.html")
    assert "def selective_scan" in text and "delta_softplus" in text
    assert re.search(r"<th[^>]*>\s*(<p>)?\s*(<strong>)?Type", page), "no parameter table on kernels.scan.html"
    assert "(batch, dim, L) input" in text                  # a parameter's comment, in the table


def test_docstring_links_point_to_pages_of_the_site():
    from llmnb._modidx import d
    s = d["settings"]
    site_url = s["doc_host"] + s["doc_baseurl"] + "/"
    links = {}
    for py in sorted((ROOT / "llmnb").rglob("*.py")):
        m = re.search(r"^Docs: (\S+?)(?:\"\"\")?$", py.read_text(encoding="utf-8"), re.M)
        if m: links[py.relative_to(ROOT).as_posix()] = m.group(1)
    assert len(links) > 50
    bad = []
    for py, url in links.items():
        if not url.startswith(site_url): bad.append(f"{py}: {url} is not under {site_url}"); continue
        rel = url[len(site_url):]
        for f in (rel, rel.removesuffix(".md")):
            if not (SITE / f).exists(): bad.append(f"{py}: {url} -> no {f} in _docs/")
    assert not bad, "\n".join(bad)


def test_benchmark_results_are_tables():
    page = (SITE / "benchmarks.html").read_text(encoding="utf-8")
    for f in sorted((ROOT / "bench" / "results").glob("*.json")):
        assert f'id="{f.stem.replace("_", "-")}"' in page, f"no section for {f.name}"
    assert page.count("<table") >= len(list((ROOT / "bench" / "results").glob("*.json")))


def test_tutorials_have_colab_badges():
    tutorials = sorted((SITE / "tutorials").glob("*.html"))
    assert len(tutorials) == len(list((ROOT / "nbs" / "tutorials").glob("*.ipynb")))
    for t in tutorials:
        src = t.read_text(encoding="utf-8")
        assert "colab.research.google.com/github/" in src and "colab-badge.svg" in src, t.name
