"""Keep ``locales/*/LC_MESSAGES/messages.po`` in step with the code: ``tripdesk locales``.

Extracts every ``_``/``gettext``/``ngettext``/``N_`` message from ``bot/``, ``handlers/`` and ``scheduler/`` into a
template and updates each language's catalog from it the way ``pybabel update`` does (Babel's
:meth:`~babel.messages.catalog.Catalog.update`): a message whose id changed keeps its old translation, marked
``fuzzy`` and with the previous id beside it (``#| msgid``), for a translator to check; a new message gets an empty
string to fill; a message the code no longer uses is dropped (git keeps it). The locale test refuses empty and
fuzzy entries. English is the source language: its text follows the code's message ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po, write_po

from bot.i18n import CATALOG, LOCALES_DIR, available_languages

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("bot", "handlers", "scheduler")
SOURCE_LANGUAGE = "en"

MessageId = str | tuple[str, str]
Places = list[tuple[str, int]]


def extract_messages(root: Path = ROOT) -> dict[MessageId, Places]:
    """Every message id in the code, with where it is used."""
    found: dict[MessageId, Places] = {}
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


def template(messages: Mapping[MessageId, Places]) -> Catalog:
    """The messages as a template (what ``pybabel extract`` writes to a ``.pot``), in the code's order."""
    pot = Catalog(project="Tripdesk", fuzzy=False)
    for message_id, places in messages.items():
        pot.add(message_id, locations=places)
    return pot


def sync(directory: Path = LOCALES_DIR) -> dict[str, int]:
    """Update every language's catalog from the code; returns how many messages each still needs a translator
    for (empty or fuzzy)."""
    return update_catalogs(extract_messages(), directory)


def update_catalogs(messages: Mapping[MessageId, Places], directory: Path = LOCALES_DIR) -> dict[str, int]:
    missing: dict[str, int] = {}
    for language in available_languages(directory):
        catalog = read_catalog(language, directory)
        # a template of its own: Catalog.update adopts the template's new messages as they are, not copies.
        # The creation date stays: the template is made anew on every run, so its date would only churn the file.
        catalog.update(template(messages), update_creation_date=False)
        for message in catalog:
            if not message.id:
                continue  # the header
            if language == SOURCE_LANGUAGE and (message.fuzzy or not _filled(message.string)):
                _source_text(message, catalog.num_plurals)
            if message.fuzzy or not _filled(message.string):
                missing[language] = missing.get(language, 0) + 1
        with open(directory / language / CATALOG, "wb") as po:
            write_po(
                po,
                catalog,
                width=120,
                omit_header=False,
                sort_output=False,
                include_lineno=False,
                ignore_obsolete=True,
                include_previous=True,
            )
    return missing


def _source_text(message: Message, num_plurals: int) -> None:
    """The source language says what the code says: its message id, in every plural form."""
    if isinstance(message.id, str):
        message.string = message.id
    else:
        singular, plural = message.id[0], message.id[1]
        message.string = (singular,) + (plural,) * (num_plurals - 1)
    message.flags.discard("fuzzy")
    message.previous_id = []


def _filled(string: str | tuple[str, ...] | list[str] | None) -> bool:
    if string is None:
        return False
    if isinstance(string, str):
        return bool(string.strip())
    return all(s.strip() for s in string)
