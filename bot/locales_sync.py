"""Keep ``locales/*/LC_MESSAGES/messages.po`` in step with the code: ``tripdesk locales``.

Extracts every ``_``/``gettext``/``ngettext``/``N_`` message from ``bot/``, ``handlers/`` and ``scheduler/``, adds
the new ones to each language (English gets its own text; others an empty string for a translator to fill, which
the locale test refuses) and drops messages the code no longer uses.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po, write_po

from bot.i18n import CATALOG, LOCALES_DIR, available_languages

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("bot", "handlers", "scheduler")
SOURCE_LANGUAGE = "en"

MessageId = str | tuple[str, str]


def extract_messages(root: Path = ROOT) -> dict[MessageId, list[tuple[str, int]]]:
    """Every message id in the code, with where it is used."""
    found: dict[MessageId, list[tuple[str, int]]] = {}
    for folder in SOURCES:
        for filename, lineno, message, _comments, _context in extract_from_dir(
            root / folder, method_map=[("**.py", "python")], keywords=DEFAULT_KEYWORDS
        ):
            if isinstance(message, tuple):
                message = (message[0], message[1])
            found.setdefault(message, []).append((f"{folder}/{filename}", lineno))
    return found


def read_catalog(language: str, directory: Path = LOCALES_DIR) -> Catalog:
    with open(directory / language / CATALOG, "rb") as po:
        return read_po(po, locale=language)


def sync(directory: Path = LOCALES_DIR) -> dict[str, int]:
    """Update every language's catalog; returns how many messages each still lacks a translation for."""
    messages = extract_messages()
    missing: dict[str, int] = {}
    for language in available_languages(directory):
        old = read_catalog(language, directory)
        new = Catalog(locale=language, project="Tripdesk", fuzzy=False)
        for message_id, places in messages.items():
            key = message_id[0] if isinstance(message_id, tuple) else message_id
            existing = old.get(key)
            string = existing.string if existing is not None else None
            if language == SOURCE_LANGUAGE and not _filled(string):
                string = (
                    message_id
                    if isinstance(message_id, str)
                    else (message_id[0],) + (message_id[1],) * (new.num_plurals - 1)
                )
            if string is None:
                string = "" if isinstance(message_id, str) else ("",) * new.num_plurals
            new.add(message_id, string, locations=places)
            if not _filled(string):
                missing[language] = missing.get(language, 0) + 1
        with open(directory / language / CATALOG, "wb") as po:
            write_po(po, new, width=120, omit_header=False, sort_output=False, include_lineno=False)
    return missing


def _filled(string: str | tuple[str, ...] | None) -> bool:
    if string is None:
        return False
    if isinstance(string, tuple):
        return all(s.strip() for s in string)
    return bool(string.strip())
