"""The ticket's calendar file (RFC 5545, domain/rules/ics.py): read back by a small parser that follows the RFC
(unfolding, unescaping), so what a calendar app reads is what the booking says."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.model.places import Point
from domain.rules.ics import CalendarEvent, calendar_file, escape_text, fold

START = datetime(2026, 12, 1, 10, 0, tzinfo=timezone(timedelta(hours=2)))  # 08:00 UTC
BOOKED = datetime(2026, 11, 30, 9, 0, 5, tzinfo=UTC)


def event(**changes: object) -> CalendarEvent:
    values: dict[str, object] = {
        "uid": "order-HCMKKC@tripdesk",
        "starts_at": START,
        "ends_at": START + timedelta(hours=3),
        "summary": "Islands cruise",
        "stamp": BOOKED,
        "location": "Pier 3, Sadama 25, 10111 Tallinn",
        "description": "Order HCM-KKC\nTicket: 7Q4-XK2",
        "point": Point(59.4445, 24.767),
    }
    values.update(changes)
    return CalendarEvent(**values)  # type: ignore[arg-type]


def unescape(value: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def parse(data: bytes) -> list[tuple[str, str]]:
    """Content lines as (name, raw value): CRLF only, every physical line within 75 octets, folds undone."""
    assert data.endswith(b"\r\n")
    physical = data[:-2].split(b"\r\n")
    assert all(len(line) <= 75 for line in physical), [len(line) for line in physical]
    assert b"\n" not in b"".join(physical) and b"\r" not in b"".join(physical)
    unfolded = b"".join(b"\r\n" + line if not line.startswith(b" ") else line[1:] for line in physical)
    lines = unfolded.decode().split("\r\n")[1:]  # utf-8 decodes: no character was split by a fold
    return [(line.split(":", 1)[0], line.split(":", 1)[1]) for line in lines]


def props(data: bytes) -> dict[str, str]:
    return dict(parse(data))


def test_one_event_in_one_calendar() -> None:
    lines = parse(calendar_file(event()))
    names = [name for name, _ in lines]
    assert names[:6] == ["BEGIN", "VERSION", "PRODID", "CALSCALE", "METHOD", "BEGIN"]
    assert lines[0] == ("BEGIN", "VCALENDAR") and lines[-1] == ("END", "VCALENDAR")
    assert ("BEGIN", "VEVENT") in lines and ("END", "VEVENT") in lines
    assert dict(lines)["VERSION"] == "2.0"


def test_times_are_utc() -> None:
    found = props(calendar_file(event()))
    assert found["DTSTART"] == "20261201T080000Z"
    assert found["DTEND"] == "20261201T110000Z"
    assert found["DTSTAMP"] == "20261130T090005Z"


def test_texts_are_escaped_and_read_back() -> None:
    tricky = 'Kihnu; island, "trip" \\ with a backslash'
    found = props(calendar_file(event(summary=tricky, description="line one\nline two; more, and more")))
    assert found["SUMMARY"] == 'Kihnu\\; island\\, "trip" \\\\ with a backslash'
    assert unescape(found["SUMMARY"]) == tricky
    assert unescape(found["DESCRIPTION"]) == "line one\nline two; more, and more"
    assert unescape(found["LOCATION"]) == "Pier 3, Sadama 25, 10111 Tallinn"
    assert found["GEO"] == "59.444500;24.767000"


def test_escape_text_follows_the_rfc() -> None:
    assert escape_text("a\\b;c,d\r\ne\nf") == "a\\\\b\\;c\\,d\\ne\\nf"


@pytest.mark.parametrize("text", ["x" * 200, "Круиз по островам Таллинского залива " * 6, "🚢" * 40])
def test_long_lines_are_folded_at_75_octets_without_splitting_a_character(text: str) -> None:
    data = calendar_file(event(summary=text))
    assert unescape(props(data)["SUMMARY"]) == text  # parse() checked every line's length and the UTF-8
    parts = list(fold("SUMMARY:" + text))
    assert all(len(p.encode()) <= 75 for p in parts) and all(p.startswith(" ") for p in parts[1:])


def test_the_uid_is_the_caller_s_and_the_file_is_the_same_every_time() -> None:
    first, again = calendar_file(event()), calendar_file(event())
    assert first == again
    assert props(first)["UID"] == "order-HCMKKC@tripdesk"
    other = props(calendar_file(event(uid="order-OTHER@tripdesk")))
    assert other["UID"] != props(first)["UID"]


def test_location_and_point_are_optional() -> None:
    found = props(calendar_file(event(location="", point=None, description="")))
    assert "LOCATION" not in found and "GEO" not in found and "DESCRIPTION" not in found


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        calendar_file(event(starts_at=datetime(2026, 12, 1, 10, 0)))
