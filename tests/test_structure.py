"The package's shape: module-level imports between llmnb modules form no circle, and they point down the dependency order."
import ast
from pathlib import Path
from conftest import ROOT

PKG = ROOT / "llmnb"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def top_level_imports(path: Path) -> set[str]:
    "llmnb modules imported at module level (not inside functions): what `import` of this module executes."
    mod = module_name(path)
    pkg = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
    found = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("llmnb")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else: target = node.module or ""
            if not target.startswith("llmnb"): continue
            found.add(target)
            found |= {f"{target}.{a.name}" for a in node.names}      # `from pkg import module`
    return found


def graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in PKG.rglob("*.py") if p.name != "_modidx.py"}
    return {m: {t for t in top_level_imports(p) if t in files and t != m} for m, p in files.items()}


def test_no_import_circles():
    g = graph()
    state, stack, cycles = {}, [], []
    def visit(m):
        state[m] = "open"; stack.append(m)
        for t in sorted(g[m]):
            if state.get(t) == "open": cycles.append(stack[stack.index(t):] + [t])
            elif t not in state: visit(t)
        stack.pop(); state[m] = "done"
    for m in sorted(g):
        if m not in state: visit(m)
    assert not cycles, "import circles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_train_diagnostics_and_learner_do_not_import_each_other():
    g = graph()
    assert "llmnb.train.learner" not in g["llmnb.train.diagnostics"]
    assert "llmnb.train.diagnostics" in g["llmnb.train.learner"]
