"""The domain stays pure: no Telegram, no database, no web, and nothing from the outer layers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "domain"
FORBIDDEN = frozenset({"aiogram", "sqlalchemy", "aiohttp", "bot", "handlers", "scheduler"})


def imported_roots(source: str, package_depth: int = 1) -> set[str]:
    """Top-level names a module imports, by ``import``, ``from ... import``, relative imports that climb out of
    the package, and ``importlib.import_module`` / ``__import__`` with a literal name (even under TYPE_CHECKING)."""
    roots: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                roots.add(node.module.split(".")[0])
            elif node.level > package_depth:  # climbs above domain/: whatever it names is outside
                roots.add(node.module.split(".")[0] if node.module else "..")
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in {"import_module", "__import__"} and isinstance(node.args[0].value, str):
                roots.add(node.args[0].value.split(".")[0])
    return roots


def domain_modules() -> list[Path]:
    return sorted(DOMAIN.rglob("*.py"))


def test_the_domain_has_modules() -> None:
    names = {p.name for p in domain_modules()}
    assert {"booking.py", "orders.py", "ports.py", "profile.py"} <= names


@pytest.mark.parametrize("path", domain_modules(), ids=lambda p: str(p.relative_to(DOMAIN)))
def test_domain_module_imports_no_infrastructure(path: Path) -> None:
    depth = len(path.relative_to(DOMAIN).parts)  # domain/x.py -> 1, domain/sub/x.py -> 2
    bad = imported_roots(path.read_text(encoding="utf-8"), depth) & (FORBIDDEN | {".."})
    assert not bad, f"{path.relative_to(DOMAIN.parent)} imports {sorted(bad)}"


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("import aiogram", {"aiogram"}),
        ("import sqlalchemy.ext.asyncio as sa", {"sqlalchemy"}),
        ("from aiohttp import web", {"aiohttp"}),
        ("from bot.storage.uow import SqlUnitOfWork", {"bot"}),
        ("from handlers.tourist import router", {"handlers"}),
        ("import scheduler.jobs", {"scheduler"}),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from sqlalchemy import select", {"sqlalchemy"}),
        ("def f():\n    import aiogram.types", {"aiogram"}),
        ("import importlib\nimportlib.import_module('bot.config')", {"bot"}),
        ("__import__('aiohttp.web')", {"aiohttp"}),
        ("from ..bot import config", {"bot"}),
        ("from .. import bot", {".."}),
    ],
)
def test_the_checker_catches_forbidden_imports(source: str, found: set[str]) -> None:
    assert imported_roots(source) & (FORBIDDEN | {".."}) == found


@pytest.mark.parametrize(
    "source",
    [
        "from domain.model.orders import Order",
        "from . import orders",
        "from .orders import Order",
        "import phonenumbers",
        "import botocore",
        "from datetime import datetime",
    ],
)
def test_the_checker_allows_the_rest(source: str) -> None:
    assert not imported_roots(source) & FORBIDDEN
