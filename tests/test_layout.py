"""The layout's rules, checked on the source, package by package.

    ui -> services -> engine          the command line (experiments/) -> services -> engine
    engine's generation core          names no model family; families plug in through engine/families
    engine/toy (runtime)              never imports engine/toy/factory (what trains and documents the toy)
    everywhere                        no import circles
"""

import ast
import io
import tokenize
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("engine", "services", "experiments", "ui", "benchmarks", "research")
# The generation core: what every model family runs through.
CORE = ("engine", "request", "spec", "pipeline", "conditioning", "lora", "lora_formats", "windows", "step_cache",
        "media", "records", "paths", "loading", "latents", "metrics", "profiles", "presets", "lru", "cpu_conv")
FAMILY_NAMES = ("toy", "tiny", "animate")


def module_name(path: Path) -> str:
    name = ".".join(path.relative_to(REPO).with_suffix("").parts)
    return name.removesuffix(".__init__")


def sources(folder: str) -> list[Path]:
    return sorted((REPO / folder).rglob("*.py"))


def all_sources() -> list[Path]:
    return [path for folder in PACKAGES for path in sources(folder)] + [REPO / "app.py"]


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at its top or inside a function; `from a import b` counts a.b when b is a
    module, else a."""
    known = {module_name(p) for p in all_sources()}
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & known
            modules.update(submodules)
            if len(submodules) < len(node.names):
                modules.add(node.module)
    return modules


def imports_from(path: Path, prefixes: tuple[str, ...]) -> set[str]:
    return {m for m in imported_modules(path) if any(m == p or m.startswith(p + ".") for p in prefixes)}


def test_the_engine_imports_neither_gradio_nor_plotly_nor_any_layer_above_it():
    for path in sources("engine"):
        bad = imports_from(path, ("gradio", "plotly", "ui", "services", "experiments", "benchmarks", "research"))
        assert not bad, f"{path.relative_to(REPO)} imports {bad}"


def test_services_import_neither_the_ui_nor_the_command_line_nor_the_benchmarks():
    for path in sources("services"):
        bad = imports_from(path, ("gradio", "ui", "experiments", "benchmarks", "research"))
        assert not bad, f"{path.relative_to(REPO)} imports {bad}"


def test_the_command_line_imports_neither_the_ui_nor_the_benchmarks():
    for path in sources("experiments"):
        bad = imports_from(path, ("gradio", "ui", "benchmarks", "research"))
        assert not bad, f"{path.relative_to(REPO)} imports {bad}"


def test_the_ui_calls_services_and_the_engine_never_the_command_line_and_tabs_never_each_other():
    for path in sources("ui"):
        others = {m for m in imported_modules(path) if m.startswith("ui.") and m not in ("ui.common", "ui.plots")}
        assert not others, f"{path.relative_to(REPO)} imports {others}"
        cli = imports_from(path, ("experiments", "benchmarks", "research"))
        assert not cli, f"{path.relative_to(REPO)} imports {cli}"


def test_the_app_does_not_import_the_command_line():
    assert not imports_from(REPO / "app.py", ("experiments.cli",))


def code_words(path: Path) -> set[str]:
    """Names and string values in a file's code: not its comments, and not its docstrings."""
    text = path.read_text()
    docstrings = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and ast.get_docstring(node) is not None:
            docstrings.add(node.body[0].value.lineno)
    words = set()
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.NAME or (token.type == tokenize.STRING and token.start[0] not in docstrings):
            words.update(token.string.strip("\"'").replace(".", " ").replace("_", " ").split())
    return words


def test_the_generation_core_names_no_model_family():
    for name in CORE:
        path = REPO / "engine" / f"{name}.py"
        assert not imports_from(path, ("engine.toy", "engine.tiny", "engine.families.tiny")), name
        named = code_words(path) & set(FAMILY_NAMES)
        assert not named, f"engine/{name}.py names {named} in its code: ask the family's hook (engine/families)"


def test_the_generation_core_imports_no_training_code():
    for name in CORE:
        bad = imports_from(REPO / "engine" / f"{name}.py", ("engine.train", "engine.toy.factory"))
        assert not bad, f"engine/{name}.py imports {bad}"


def test_the_toys_runtime_never_imports_its_factory():
    for path in sources("engine/toy"):
        if "factory" not in path.parts:
            bad = imports_from(path, ("engine.toy.factory",))
            assert not bad, f"{path.relative_to(REPO)} imports {bad}"
    for folder in ("engine/pose", "engine/prompts", "engine/train", "engine/families"):
        for path in sources(folder):
            assert not imports_from(path, ("engine.toy.factory",)), path


def test_no_module_imports_itself_round_a_circle():
    graph = {module_name(path): imported_modules(path) for path in all_sources()}
    graph = {name: {m for m in deps if m in graph and m != name} for name, deps in graph.items()}
    circles = strongly_connected(graph)
    assert not circles, f"import circles: {circles}"


def strongly_connected(graph: dict) -> list[list[str]]:
    """Tarjan's algorithm: the groups of two or more modules that import each other, directly or round about."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                group.append(other)
                if other == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in graph:
        if node not in index:
            visit(node)
    return groups


def test_every_engine_cache_is_the_one_lru():
    for path in sources("engine"):
        if path.name != "lru.py":
            assert "OrderedDict" not in path.read_text() or path.name == "load.py", path  # load.py: unpickler allow-list


def test_benchmarks_run_as_modules_without_editing_the_import_path():
    for path in sources("benchmarks") + sources("research"):
        assert "sys.path" not in path.read_text(), f"{path.relative_to(REPO)}: run it as python -m, not by path"
