"""Which way imports go inside the layer (design.md, section 6): read from the source with `ast`, so an import
inside a function or under TYPE_CHECKING counts too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import storesync

PACKAGE = Path(storesync.__file__).parent
MODULES = sorted(PACKAGE.rglob("*.py"))


def imported(source: str, package: str) -> set[str]:
    """Every module the source imports, as absolute names (relative imports resolved against `package`)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0]
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def imports_of(path: Path) -> set[str]:
    package = ".".join(["storesync", *path.relative_to(PACKAGE).parent.parts])
    return imported(path.read_text(), package)


def in_package(path: Path, *parts: str) -> bool:
    return path.relative_to(PACKAGE).parts[: len(parts)] == parts


def offending(path: Path, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(n for n in imports_of(path) if any(n == f or n.startswith(f + ".") for f in forbidden))


def where(path: Path) -> str:
    return str(path.relative_to(PACKAGE.parent))


def test_the_layer_has_modules_to_check() -> None:
    assert {p.name for p in MODULES} >= {"wiring.py", "connect.py", "stores.py", "orders.py"}


@pytest.mark.parametrize("path", [p for p in MODULES if not in_package(p, "dal")], ids=where)
def test_only_the_data_layer_imports_pynamodb(path: Path) -> None:
    assert offending(path, ("pynamodb",)) == []


@pytest.mark.parametrize("path", [p for p in MODULES if in_package(p, "domain")], ids=where)
def test_the_domain_is_plain_python(path: Path) -> None:
    forbidden = (
        "boto3",
        "botocore",
        "pynamodb",
        "sp_api",
        "httpx",
        "requests",
        "storesync.dal",
        "storesync.amazon",
        "storesync.usecases",
        "storesync.api",
    )
    assert offending(path, forbidden) == []


@pytest.mark.parametrize("path", [p for p in MODULES if in_package(p, "amazon")], ids=where)
def test_the_amazon_adapter_knows_no_storage_use_case_or_route(path: Path) -> None:
    assert offending(path, ("storesync.dal", "storesync.usecases", "storesync.api")) == []


@pytest.mark.parametrize("path", [p for p in MODULES if in_package(p, "usecases")], ids=where)
def test_use_cases_never_import_the_api(path: Path) -> None:
    assert offending(path, ("storesync.api",)) == []


def test_imported_reads_every_form_of_import() -> None:
    source = (
        "import pynamodb.models\n"
        "from storesync.dal import orders\n"
        "from ..amazon.errors import Throttled\n"
        "from . import notices\n"
        "def late():\n"
        "    import boto3\n"
    )
    assert imported(source, "storesync.domain") >= {
        "pynamodb.models",
        "storesync.dal.orders",
        "storesync.amazon.errors",
        "storesync.domain.notices",
        "boto3",
    }
