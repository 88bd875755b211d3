"""Only the gateway (contoso_images/azure/) may import ``azure`` or ``azure.*``.

tests/azure/ may too, to assert on SDK models and exceptions; every other module reaches Azure
through ``contoso_images.azure`` only.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("contoso_images", "catalog", "vmops", "tests")
ALLOWED = (
    ROOT / "contoso_images" / "azure",
    ROOT / "tests" / "azure",
    ROOT / "tests" / "arm_emulator",
)
SKIPPED_PARTS = {".venv", "venv", "node_modules", "__pycache__", ".git"}


def _python_files() -> list[Path]:
    files = []
    for top in SCANNED:
        for path in (ROOT / top).rglob("*.py"):
            if not SKIPPED_PARTS.intersection(path.relative_to(ROOT).parts):
                files.append(path)
    return files


def _azure_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [
            f"{path.relative_to(ROOT)}:{node.lineno} imports {n}"
            for n in names
            if n == "azure" or n.startswith("azure.")
        ]
    return found


def test_scan_sees_the_project():
    files = _python_files()
    assert ROOT / "contoso_images" / "azure" / "clients.py" in files
    assert Path(__file__).resolve() in files


def test_only_the_gateway_imports_azure():
    offenders = [
        hit
        for path in _python_files()
        if not any(path.is_relative_to(allowed) for allowed in ALLOWED)
        for hit in _azure_imports(path)
    ]
    assert offenders == []


def test_the_gateway_really_is_the_importer():
    # Guards the scanner itself: it must find the gateway's own SDK imports.
    assert _azure_imports(ROOT / "contoso_images" / "azure" / "clients.py")
