"""The packages of ``layers/`` are used through their public faces (no database, no Django).

``gridmap/`` and ``bench/`` import a package only as ``from layers.<package> import name`` with a
name its ``__all__`` lists, or a stand-alone module (``layers.validate``, ``layers.projection``...);
never an inner module such as ``layers.routes.walk``. Every name a face lists exists.
"""

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = sorted(p.parent.name for p in (ROOT / "layers").glob("*/__init__.py"))
CALLERS = ("gridmap", "bench")


def layers_imports(tree: ast.AST) -> list[tuple[int, str, list[str]]]:
    """(line, module, names) of every import of ``layers`` in a parsed module."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "layers" or node.module.startswith("layers."):
                found.append((node.lineno, node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "layers" or alias.name.startswith("layers."):
                    found.append((node.lineno, alias.name, []))
    return sorted(found)


def inner_use(module: str, names: list[str]) -> str | None:
    """Why this import reaches past a package's face, or None when it does not."""
    parts = module.split(".")
    if len(parts) > 2 and parts[1] in PACKAGES:
        return f"imports the inner module {module}"
    if len(parts) == 2 and parts[1] in PACKAGES:
        face = importlib.import_module(module).__all__
        missing = [n for n in names if n not in face]
        if missing:
            return f"imports {missing} from {module}, which its __all__ does not list"
    return None


def caller_files() -> list[Path]:
    return sorted(p for root in CALLERS for p in (ROOT / root).rglob("*.py") if "migrations" not in p.parts)


def test_layers_has_packages_and_callers() -> None:
    assert {"coverage", "hotspots", "io", "maps", "network", "routes"} <= set(PACKAGES)
    assert len(caller_files()) > 50


def test_gridmap_and_bench_import_only_public_faces() -> None:
    offences = []
    for path in caller_files():
        for line, module, names in layers_imports(ast.parse(path.read_text(encoding="utf-8"))):
            why = inner_use(module, names)
            if why:
                offences.append(f"{path.relative_to(ROOT)}:{line}: {why}")
    assert not offences, "\n".join(offences)


def test_the_check_sees_inner_imports() -> None:
    tree = ast.parse(
        "from layers.routes.walk import plan_walk\n"
        "import layers.maps.grid\n"
        "def f():\n    from layers.hotspots import no_such_name\n"
        "from layers.routes import walk\n"
        "from layers.routes import plan_walk\n"
        "from layers.validate import BBox\n"
    )
    verdicts = [inner_use(module, names) for _, module, names in layers_imports(tree)]
    assert [v is not None for v in verdicts] == [True, True, True, True, False, False]


@pytest.mark.parametrize("package", PACKAGES)
def test_every_name_a_face_lists_exists(package: str) -> None:
    module = importlib.import_module(f"layers.{package}")
    listed = module.__all__
    assert len(listed) == len(set(listed)), f"layers.{package}.__all__ repeats a name"
    assert all(not name.startswith("_") for name in listed)
    missing = [name for name in listed if not hasattr(module, name)]
    assert not missing, f"layers.{package}.__all__ lists {missing}, which it does not have"


def test_the_tile_settings_import_no_folium() -> None:
    """The site's settings read ``TileSource`` at start-up; the maps face loads folium only for a map."""
    code = (
        "import sys\n"
        "from layers.maps import MapAssets, TileSource\n"
        "assert not {'folium', 'geopandas'} & set(sys.modules), sorted(sys.modules)\n"
        "from layers.maps import grid_map\n"
        "assert 'folium' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True)


@pytest.mark.parametrize("package", PACKAGES)
def test_no_face_name_is_also_an_inner_module(package: str) -> None:
    """Importing an inner module binds its name on the package; a face name of the same spelling
    would then answer the module instead of the function (lazy faces load after such imports)."""
    inner = {p.stem for p in (ROOT / "layers" / package).glob("*.py")} - {"__init__"}
    listed = set(importlib.import_module(f"layers.{package}").__all__)
    assert not inner & listed


def test_gistar_alone_imports_no_clustering_or_h3() -> None:
    """Gi* z-scores do not pay for scikit-learn and h3 (the hotspots face loads names on first use),
    and each name answers what it names whichever module was loaded first."""
    code = (
        "import sys, types\n"
        "from layers.hotspots import gistar\n"
        "assert not {'sklearn', 'h3'} & set(sys.modules), sorted(sys.modules)\n"
        "import layers.hotspots.getis_ord\n"
        "from layers.hotspots import gistar, gistar_cells\n"
        "assert callable(gistar) and not isinstance(gistar, types.ModuleType)\n"
        "assert gistar_cells.__module__ == 'layers.hotspots.getis_ord'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True)
