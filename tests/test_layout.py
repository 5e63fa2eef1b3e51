"""The layout's rules, checked on the source: dependencies point ui -> experiments -> engine."""

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def sources(folder: str) -> list[Path]:
    return sorted((REPO / folder).rglob("*.py"))


def test_the_engine_imports_neither_gradio_nor_plotly_nor_the_layers_above_it():
    for path in sources("engine"):
        bad = {m for m in imported_modules(path) if m.split(".")[0] in ("gradio", "plotly", "ui", "experiments")}
        assert not bad, f"{path.relative_to(REPO)} imports {bad}"


def test_experiments_import_neither_the_ui_nor_the_benchmarks():
    for path in sources("experiments"):
        bad = {m for m in imported_modules(path) if m.split(".")[0] in ("gradio", "ui", "benchmarks")}
        assert not bad, f"{path.relative_to(REPO)} imports {bad}"


def test_tabs_import_only_ui_common_and_plots_never_each_other():
    for path in sources("ui"):
        others = {m for m in imported_modules(path) if m.startswith("ui.") and m not in ("ui.common", "ui.plots")}
        assert not others, f"{path.relative_to(REPO)} imports {others}"


def test_the_app_does_not_import_the_command_line():
    assert "experiments.cli" not in imported_modules(REPO / "app.py")


def test_every_engine_cache_is_the_one_lru():
    for path in sources("engine"):
        if path.name != "lru.py":
            assert "OrderedDict" not in path.read_text() or path.name == "load.py", path  # load.py: unpickler allow-list
