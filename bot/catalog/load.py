"""Reading a catalog file: YAML in, a validated :class:`~bot.catalog.schema.Catalog` out, or a
:class:`CatalogError` whose every problem names the entry and the field at fault.

pydantic locates a problem as a tuple such as ``("events", 2, "prices", "adult")``; :func:`where` writes it the way
the catalog's author reads it, with the id of each entry: ``events[2] (islands-cruise).prices.adult``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import ValidationError

from bot.catalog.refusals import DUPLICATE, show
from bot.catalog.schema import Catalog

__all__ = ["CatalogError", "load_catalog", "parse_catalog", "problems", "read_catalog_file", "read_yaml", "where"]


class CatalogError(Exception):
    """The catalog cannot be imported. ``str()`` is one line: the first problem, plus how many more there are.

    ``problems`` holds every problem found, each naming the entry and the field at fault, e.g.
    ``events[2] (islands-cruise).prices.adult: "4x" is not a decimal amount such as "45.00"``.
    """

    def __init__(self, problems: str | Sequence[str]) -> None:
        self.problems: list[str] = [problems] if isinstance(problems, str) else list(problems)
        if not self.problems:
            self.problems = ["the catalog is invalid"]
        super().__init__(self.problems[0])

    def __str__(self) -> str:
        more = len(self.problems) - 1
        return self.problems[0] + (f" (and {more} more)" if more else "")


# ---- reading ---------------------------------------------------------------------------------------------------

if TYPE_CHECKING:
    _SafeLoader = yaml.SafeLoader
else:
    # libyaml when present: several times faster, and it reads texts such as `{en: Where shall we pick you up?,
    # ...}` that the pure-Python loader refuses (a `?` in flow context). Both have the same constructor methods.
    _SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CatalogLoader(_SafeLoader):
    """``yaml.safe_load`` that refuses a key written twice in one mapping (PyYAML silently keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[tuple[str, object]] = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = (key_node.tag, key_node.value)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"the key {key_node.value!r} appears twice",
                    key_node.start_mark,
                )
            seen.add(key)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


def read_yaml(text: str, source: str = "<string>") -> object:
    """The YAML document in ``text``; a YAML error becomes a :class:`CatalogError` naming ``source`` and the line."""
    try:
        return yaml.load(text, Loader=CatalogLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f"{source}, line {mark.line + 1}, column {mark.column + 1}" if mark else source
        what = exc.problem or exc.context or "invalid YAML"
        raise CatalogError(f"{at}: invalid YAML: {what}") from None
    except yaml.YAMLError as exc:
        raise CatalogError(f"{source}: invalid YAML: {exc}") from None


def read_catalog_file(path: Path | str) -> object:
    """The YAML document of ``path``; unreadable files and YAML errors become a :class:`CatalogError` naming
    the file and, for YAML errors, the line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read the file: {exc.strerror or exc}") from None
    return read_yaml(text, str(path))


def load_catalog(path: Path | str) -> Catalog:
    """Read and validate a catalog file without touching the database."""
    return parse_catalog(read_catalog_file(path))


# ---- validation ------------------------------------------------------------------------------------------------


def parse_catalog(data: object) -> Catalog:
    """Validate a YAML-loaded catalog; no database. Raises :class:`CatalogError` listing every problem found.
    References to entries not in the file (an event's organiser, say) are checked on import, which can also see
    the database."""
    sections = "a mapping with regions, hotels, organisers and events"
    if data is None:
        raise CatalogError(f"the catalog is empty: expected {sections}")
    if not isinstance(data, Mapping):
        raise CatalogError(f"the catalog: expected {sections}, got {show(data)}")
    try:
        return Catalog.model_validate(data)
    except ValidationError as error:
        raise CatalogError(problems(error, data)) from None


def problems(error: ValidationError, data: object) -> list[str]:
    """Every problem of ``error`` as one line: where (read in ``data``, the document validated), then what."""
    lines = []
    for problem in error.errors(include_url=False):
        loc = problem["loc"]
        message = "missing (required)" if problem["type"] == "missing" else problem["msg"]
        if problem["type"] == DUPLICATE:
            first = tuple(problem.get("ctx", {})["first"])
            message += f" (first at {where(loc[: len(loc) - len(first)] + first, data)})"
        lines.append(f"{where(loc, data)}: {message}")
    return lines


def where(loc: Sequence[str | int], data: object) -> str:
    """``("events", 2, "sessions", 0, "capacity")`` as ``events[2] (cruise).sessions[0] (2026-12-01T10:00).capacity``:
    entries of a section are labelled with their id, questions with theirs, sessions with their start."""
    text = ""
    node: object = data
    for depth, key in enumerate(loc):
        if isinstance(key, int) and isinstance(node, list | tuple):
            node = node[key] if 0 <= key < len(node) else None
            text += f"[{key}]{_label(loc[depth - 1] if depth else None, node, in_section=depth == 1)}"
        else:
            text += f".{key}" if text else str(key)
            node = node.get(key) if isinstance(node, Mapping) else None
    return text


def _label(container: str | int | None, item: object, in_section: bool) -> str:
    """`` (id)`` for an entry of a section, a question or a session (``container`` holds the list), else nothing."""
    code = item.get("id") if isinstance(item, Mapping) else None
    if in_section:
        return f" ({code})" if isinstance(code, str | int) and not isinstance(code, bool) else ""
    if container == "questions":
        return f" ({code if code is not None else '?'})"
    if container == "sessions" and isinstance(item, Mapping):
        start = item.get("starts_at")
        if isinstance(start, datetime):
            return f" ({start.isoformat(timespec='minutes')})"
        if isinstance(start, date):
            return f" ({start.isoformat()})"
        return f" ({start})" if isinstance(start, str) else ""
    return ""
