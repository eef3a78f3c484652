"""Every message the code uses exists and is translated (not fuzzy) in every language, with the same placeholders
and tags; `tripdesk locales` keeps an edited message's translations as fuzzy."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from bot.i18n import CATALOG, I18n, available_languages
from bot.locales_sync import extract_messages, read_catalog, update_catalogs

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


def lacking(catalog: Catalog, messages: Iterable[str | tuple[str, str]]) -> list[str]:
    """The messages without a finished translation: absent, empty (in any plural form) or fuzzy."""
    missing = []
    for message_id in messages:
        entry = catalog.get(_key(message_id))
        strings = entry.string if entry is not None else None
        strings = strings if isinstance(strings, tuple) else (strings,)
        if entry is None or entry.fuzzy or not all(s and s.strip() for s in strings):
            missing.append(_key(message_id))
    return missing


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated(language: str) -> None:
    missing = lacking(read_catalog(language), MESSAGES)
    assert missing == [], f"{language}: {len(missing)} messages lack a translation, e.g. {missing[:5]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_fuzzy_entry_is_left(language: str) -> None:
    """`tripdesk locales` marks a translation whose English changed as fuzzy: a translator checks it, then removes
    the flag."""
    fuzzy = [_key(m.id) for m in read_catalog(language) if m.id and m.fuzzy]
    assert fuzzy == [], f"{language}: {len(fuzzy)} fuzzy translations to check, e.g. {fuzzy[:5]}"


def test_editing_an_english_message_keeps_its_translations_as_fuzzy(tmp_path: Path) -> None:
    """What `pybabel update` does: the changed id keeps the old translation, marked fuzzy with the previous id."""
    for language in ("en", "ru"):
        (tmp_path / language / CATALOG).parent.mkdir(parents=True)
        with open(tmp_path / language / CATALOG, "wb") as po:
            write_po(po, Catalog(locale=language))
    seats = ("{n} seat left", "{n} seats left")
    before = {"Your booking is confirmed.": [("handlers/a.py", 1)], seats: [("handlers/a.py", 2)]}
    assert update_catalogs(before, tmp_path) == {"ru": 2}  # English takes the code's text; Russian waits
    russian = read_catalog("ru", tmp_path)
    russian["Your booking is confirmed."].string = "Ваше бронирование подтверждено."
    russian[seats].string = ("Осталось {n} место", "Осталось {n} места", "Осталось {n} мест")
    with open(tmp_path / "ru" / CATALOG, "wb") as po:
        write_po(po, russian)
    assert update_catalogs(before, tmp_path) == {}

    after = {"Your booking is confirmed!": [("handlers/a.py", 1)], seats: [("handlers/a.py", 2)]}
    assert update_catalogs(after, tmp_path) == {"ru": 1}
    russian = read_catalog("ru", tmp_path)
    edited = russian["Your booking is confirmed!"]
    assert edited.string == "Ваше бронирование подтверждено." and edited.fuzzy
    assert '#| msgid "Your booking is confirmed."' in (tmp_path / "ru" / CATALOG).read_text(
        "utf-8"
    )  # for the translator
    assert "Your booking is confirmed." not in russian and not russian[seats].fuzzy
    assert lacking(russian, after) == ["Your booking is confirmed!"]  # the locale test refuses it until checked
    english = read_catalog("en", tmp_path)["Your booking is confirmed!"]
    assert english.string == "Your booking is confirmed!" and not english.fuzzy
    assert lacking(read_catalog("en", tmp_path), after) == []

    russian["Your booking is confirmed!"].flags.discard("fuzzy")  # the translator checked it
    with open(tmp_path / "ru" / CATALOG, "wb") as po:
        write_po(po, russian)
    assert update_catalogs(after, tmp_path) == {}
    assert lacking(read_catalog("ru", tmp_path), after) == []


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


@pytest.mark.parametrize(
    ("language", "expected", "time_only"),
    [
        ("en", "Tue, Dec 1, 10:00 (Tallinn time)", "10:00 (Tallinn time)"),
        ("ru", "вт, 1 дек., 10:00 (часовой пояс: Таллин)", "10:00 (часовой пояс: Таллин)"),
        ("de", "Di., 1. Dez., 10:00 (Ortszeit Tallinn)", "10:00 (Ortszeit Tallinn)"),
        ("et", "T, 1. dets, 10:00 (ajavöönd: Tallinn)", "10:00 (ajavöönd: Tallinn)"),
    ],
)
def test_a_zoned_time_names_the_region_s_city_in_the_reader_s_language(
    language: str, expected: str, time_only: str
) -> None:
    tr = I18n().translator(language)
    moment = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # 10:00 in Tallinn
    assert tr.zoned(moment, "Europe/Tallinn") == expected
    assert tr.zoned(moment, "Europe/Tallinn", with_day=False) == time_only


def test_a_zoned_time_follows_the_zone_s_own_city() -> None:
    moment = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # 09:00 in Stockholm
    assert I18n().translator("en").zoned(moment, "Europe/Stockholm") == "Tue, Dec 1, 09:00 (Stockholm time)"
    assert I18n().translator("ru").zoned(moment, "Europe/Stockholm").endswith("09:00 (часовой пояс: Стокгольм)")


def test_best_language() -> None:
    i18n = I18n(default="en")
    assert i18n.best("de-AT") == "de"
    assert i18n.best("ru") == "ru"
    assert i18n.best("pt-BR") == "en"
    assert i18n.best(None) == "en"
