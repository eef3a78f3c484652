"""Every message the code uses exists and is translated in every language, with the same placeholders and tags."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from bot.i18n import I18n, available_languages
from bot.locales_sync import extract_messages, read_catalog

LANGUAGES = available_languages()
MESSAGES = extract_messages()
PLACEHOLDER = re.compile(r"\{(\w*)\}")
TAG = re.compile(r"</?([a-z]+)[^>]*>")


def _key(message_id: str | tuple[str, str]) -> str:
    return message_id[0] if isinstance(message_id, tuple) else message_id


def test_at_least_the_four_languages() -> None:
    assert {"en", "ru", "de", "et"} <= set(LANGUAGES)


def test_the_code_uses_messages() -> None:
    assert len(MESSAGES) > 100  # extraction works; a broken extractor would make the checks below vacuous


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated(language: str) -> None:
    catalog = read_catalog(language)
    missing = []
    for message_id in MESSAGES:
        entry = catalog.get(_key(message_id))
        strings = entry.string if entry is not None else None
        strings = strings if isinstance(strings, tuple) else (strings,)
        if entry is None or entry.fuzzy or not all(s and s.strip() for s in strings):
            missing.append(_key(message_id))
    assert missing == [], f"{language}: {len(missing)} messages lack a translation, e.g. {missing[:5]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_has_no_leftovers(language: str) -> None:
    """Messages the code no longer uses are removed (run `tripdesk locales`)."""
    used = {_key(m) for m in MESSAGES}
    stale = [m.id for m in read_catalog(language) if m.id and _key(m.id) not in used]
    assert stale == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_and_tags_match(language: str) -> None:
    catalog = read_catalog(language)
    problems = []
    for message_id in MESSAGES:
        entry = catalog.get(_key(message_id))
        if entry is None:
            continue
        ids = message_id if isinstance(message_id, tuple) else (message_id,)
        expected_fields = set().union(*(PLACEHOLDER.findall(i) for i in ids))
        expected_tags = sorted(TAG.findall(ids[0]))
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        for string in strings:
            if not string:
                continue
            fields = set(PLACEHOLDER.findall(string))
            # a plural form may leave out {n} ("one ticket"), but never invent a placeholder
            if not fields <= expected_fields or (len(ids) == 1 and fields != expected_fields):
                problems.append(f"{_key(message_id)!r}: placeholders {sorted(fields)} != {sorted(expected_fields)}")
            if sorted(TAG.findall(string)) != expected_tags:
                problems.append(f"{_key(message_id)!r}: tags {TAG.findall(string)} != {expected_tags}")
    assert problems == [], f"{language}: " + "; ".join(problems[:5])


def test_russian_has_three_plural_forms() -> None:
    tr = I18n().translator("ru")
    forms = {tr.ngettext("{n} seat left", "{n} seats left", n).format(n=n) for n in (1, 3, 5)}
    assert len(forms) == 3, forms
    assert tr.ngettext("{n} seat left", "{n} seats left", 21) == tr.ngettext("{n} seat left", "{n} seats left", 1)
    assert tr.ngettext("{n} seat left", "{n} seats left", 11) == tr.ngettext("{n} seat left", "{n} seats left", 5)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_formats(language: str) -> None:
    """Translate first, then format: every translation accepts the placeholders its message id names."""
    tr = I18n().translator(language)
    for message_id in MESSAGES:
        ids = message_id if isinstance(message_id, tuple) else (message_id,)
        fields = {name: "x" for i in ids for name in PLACEHOLDER.findall(i)}
        fields["n"] = 3
        if isinstance(message_id, tuple):
            for n in (1, 2, 5):
                tr.ngettext(*message_id, n).format(**{**fields, "n": n})
        else:
            tr.gettext(message_id).format(**fields)


def test_locale_formats() -> None:
    i18n = I18n()
    moment = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # 10:00 in Tallinn
    assert "10:00" in i18n.translator("de").datetime(moment, "Europe/Tallinn")
    assert i18n.translator("de").money(4500, "EUR").replace("\xa0", " ") == "45,00 €"
    assert i18n.translator("en").money(4500, "EUR") == "€45.00"
    assert "45,00" in i18n.translator("ru").money(4500, "EUR")
    assert i18n.translator("en").duration(timedelta(hours=3)) == "3 hours"
    assert i18n.translator("en").duration(timedelta(hours=1, minutes=30)) == "1 hour 30 minutes"
    assert i18n.translator("en").duration(timedelta(minutes=10)) == "10 minutes"
    assert i18n.translator("ru").duration(timedelta(hours=2)) == "2 часа"
    assert i18n.translator("de").duration(timedelta(minutes=15)) == "15 Minuten"
    assert i18n.translator("et").duration(timedelta(hours=3)) != i18n.translator("en").duration(timedelta(hours=3))


def test_best_language() -> None:
    i18n = I18n(default="en")
    assert i18n.best("de-AT") == "de"
    assert i18n.best("ru") == "ru"
    assert i18n.best("pt-BR") == "en"
    assert i18n.best(None) == "en"
