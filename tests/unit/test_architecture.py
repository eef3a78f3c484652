"""The dependency rule (docs/design.md, "Layers"), read from the imports of every module.

    domain/     imports domain only (and no infrastructure library); its modules import each other without a cycle
    handlers/   imports domain, handlers, aiogram and the standard library
    scheduler/  imports domain and scheduler
    sandbox/    imports sandbox only (a separate program)
    bot/        the application: may import anything; nothing imports it but entry points and tests

And: no module imports a private name (``_x``) of another module; no module is over 500 lines (migrations aside).
Each failure names the module, the line and what it imports.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "handlers", "domain", "scheduler", "sandbox")
MAX_LINES = 500

# What each package may import of the project; None: anything.
PROJECT_RULE: dict[str, frozenset[str] | None] = {
    "domain": frozenset({"domain"}),
    "handlers": frozenset({"domain", "handlers"}),
    "scheduler": frozenset({"domain", "scheduler"}),
    "sandbox": frozenset({"sandbox"}),
    "bot": None,
}
# Libraries beside the standard library that a package may import; None: any.
LIBRARY_RULE: dict[str, frozenset[str] | None] = {
    "domain": frozenset({"phonenumbers"}),  # phone numbers are a domain value; no Telegram, database or web
    "handlers": frozenset({"aiogram", "magic_filter"}),  # magic_filter is aiogram's own F
    "scheduler": None,
    "sandbox": None,
    "bot": None,
}
STDLIB = frozenset(sys.stdlib_module_names) | {"__future__"}


@dataclass(frozen=True)
class Import:
    line: int
    module: str  # absolute, e.g. "bot.storage.uow"
    names: tuple[str, ...]  # the names taken from it by ``from module import names``


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, me: str, is_package: bool = False) -> list[Import]:
    """Every import of a module named ``me``: ``import``, ``from … import`` (relative ones resolved, under
    TYPE_CHECKING and inside functions too) and ``importlib.import_module`` / ``__import__`` with a literal name."""
    found: list[Import] = []
    base = me.split(".") if is_package else me.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [Import(node.lineno, alias.name, ()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                climb = node.level - 1
                up = base[: len(base) - climb] if climb < len(base) else [".."]  # "..": above the project
                module = ".".join([*up, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.append(Import(node.lineno, module, tuple(alias.name for alias in node.names)))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in {"import_module", "__import__"} and isinstance(node.args[0].value, str):
                found.append(Import(node.lineno, node.args[0].value, ()))
    return found


def rule_findings(package: str, imports: list[Import]) -> list[str]:
    """What breaks the rule for a module of ``package``: one finding per offending import."""
    project, libraries = PROJECT_RULE[package], LIBRARY_RULE[package]
    findings = []
    for imp in imports:
        top = imp.module.split(".")[0]
        if top in PACKAGES or top == "..":
            if project is not None and top not in project:
                findings.append(f"line {imp.line}: {package}/ imports {imp.module}")
        elif libraries is not None and top not in STDLIB and top not in libraries:
            findings.append(f"line {imp.line}: {package}/ imports the library {imp.module}")
    return findings


def private_findings(imports: list[Import]) -> list[str]:
    return [
        f"line {imp.line}: imports the private name {name} of {imp.module}"
        for imp in imports
        if imp.module.split(".")[0] in PACKAGES
        for name in imp.names
        if name.startswith("_") and not name.startswith("__")
    ]


def product_modules() -> list[Path]:
    return sorted(
        path
        for package in PACKAGES
        if (ROOT / package).is_dir()
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    )


def _id(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _imports(path: Path) -> list[Import]:
    return imports_of(path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py")


def test_every_package_is_there() -> None:
    assert all((ROOT / package / "__init__.py").is_file() for package in PACKAGES)
    assert {"domain.model.orders", "domain.ports", "domain.errors", "handlers.ui"} <= {
        module_name(p) for p in product_modules()
    }


@pytest.mark.parametrize("path", product_modules(), ids=_id)
def test_module_keeps_the_dependency_rule(path: Path) -> None:
    package = path.relative_to(ROOT).parts[0]
    findings = rule_findings(package, _imports(path))
    assert not findings, f"{_id(path)}: " + "; ".join(findings)


@pytest.mark.parametrize("path", product_modules(), ids=_id)
def test_module_imports_no_private_name(path: Path) -> None:
    findings = private_findings(_imports(path))
    assert not findings, f"{_id(path)}: " + "; ".join(findings)


@pytest.mark.parametrize("path", product_modules(), ids=_id)
def test_module_is_small_enough_to_read(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").count("\n") + 1
    assert lines <= MAX_LINES, f"{_id(path)}: {lines} lines (at most {MAX_LINES}): split it by what its parts do"


def domain_graph() -> dict[str, set[str]]:
    """Domain module -> the domain modules it imports (``from domain.model import orders`` counts as
    ``domain.model.orders``; an import of a package counts as its ``__init__``)."""
    modules = {module_name(p): p for p in product_modules() if p.relative_to(ROOT).parts[0] == "domain"}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for imp in _imports(path):
            for candidate in [f"{imp.module}.{n}" for n in imp.names] + [imp.module]:
                if candidate in modules and candidate != name:
                    targets.add(candidate)
                    break
        graph[name] = targets
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the list of modules round it, or None."""
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_domain_modules_import_each_other_without_a_cycle() -> None:
    cycle = find_cycle(domain_graph())
    assert cycle is None, "domain import cycle: " + " -> ".join(cycle or [])


# ---- the checker itself --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("package", "source", "found"),
    [
        ("domain", "import aiogram", "domain/ imports the library aiogram"),
        ("domain", "import sqlalchemy.ext.asyncio as sa", "the library sqlalchemy.ext.asyncio"),
        ("domain", "from bot.storage.uow import SqlUnitOfWork", "domain/ imports bot.storage.uow"),
        ("domain", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from handlers import ui", "handlers"),
        ("domain", "def f():\n    import scheduler.jobs", "domain/ imports scheduler.jobs"),
        ("domain", "import importlib\nimportlib.import_module('bot.config')", "domain/ imports bot.config"),
        ("domain", "__import__('aiohttp.web')", "the library aiohttp.web"),
        ("handlers", "from bot.i18n import I18n", "handlers/ imports bot.i18n"),
        ("handlers", "from babel.numbers import format_decimal", "the library babel.numbers"),
        ("handlers", "from sqlalchemy import select", "the library sqlalchemy"),
        ("scheduler", "from bot.outbox import OutboxSender", "scheduler/ imports bot.outbox"),
        ("scheduler", "from handlers.ui import N_", "scheduler/ imports handlers.ui"),
        ("sandbox", "from domain.model.orders import Order", "sandbox/ imports domain.model.orders"),
        ("sandbox", "from bot.config import Settings", "sandbox/ imports bot.config"),
    ],
)
def test_the_checker_catches_what_breaks_the_rule(package: str, source: str, found: str) -> None:
    findings = rule_findings(package, imports_of(source, f"{package}.example"))
    assert len(findings) == 1 and found in findings[0], findings


@pytest.mark.parametrize(
    ("package", "source"),
    [
        ("domain", "from domain.model.orders import Order"),
        ("domain", "from . import orders"),
        ("domain", "import phonenumbers"),
        ("domain", "from datetime import datetime"),
        ("handlers", "from aiogram import F, Router"),
        ("handlers", "from domain.use_cases.booking import place_order"),
        ("handlers", "from handlers.ui import Translator"),
        ("scheduler", "from apscheduler.schedulers.asyncio import AsyncIOScheduler"),
        ("sandbox", "from aiohttp import web"),
        ("bot", "from handlers.ui import N_"),
        ("bot", "from sandbox.spec import load_spec"),
    ],
)
def test_the_checker_allows_the_rest(package: str, source: str) -> None:
    assert rule_findings(package, imports_of(source, f"{package}.example")) == []


def test_relative_imports_are_resolved() -> None:
    assert [i.module for i in imports_of("from ..bot import config", "domain.model.orders")] == ["domain.bot"]
    assert [i.module for i in imports_of("from ... import bot", "domain.model.orders")] == [".."]
    assert [i.module for i in imports_of("from .orders import Order", "domain.model.x")] == ["domain.model.orders"]
    assert [i.module for i in imports_of("from . import x", "domain.model", is_package=True)] == ["domain.model"]


def test_the_checker_catches_private_names_and_cycles() -> None:
    imports = imports_of("from domain.use_cases.booking import _cancel, place_order", "domain.use_cases.profile")
    assert private_findings(imports) == ["line 1: imports the private name _cancel of domain.use_cases.booking"]
    assert private_findings(imports_of("from os import _exit", "bot.cli")) == []
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
