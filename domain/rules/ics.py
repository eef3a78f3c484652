"""An iCalendar file (RFC 5545) of one event: what a ticket brings along so the guest's calendar has it.

Written by hand, not with the ``icalendar`` package: the project does not depend on it and one VEVENT needs little —
the TEXT escaping of section 3.3.11, lines folded at 75 octets (3.1, never inside a UTF-8 character), CRLF line
ends, times in UTC (``DTSTART:20261201T070000Z``). The UID is the caller's: the same for every copy of the same
booking, so a calendar that gets it twice (the ticket, then "Add to calendar") updates the entry instead of adding a
second one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from domain.model.places import Point

PRODID = "-//Tripdesk//Tickets//EN"
LINE_OCTETS = 75
MEDIA_TYPE = "text/calendar"


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    uid: str
    starts_at: datetime  # aware
    ends_at: datetime  # aware
    summary: str
    stamp: datetime  # when the booking was made: DTSTAMP (the same for every copy)
    location: str = ""
    description: str = ""
    point: Point | None = None


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon and comma escaped, line breaks as ``\\n``."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> Iterator[str]:
    """``line`` in parts of at most 75 octets of UTF-8; every part after the first starts with a space (3.1)."""
    part, size, limit = "", 0, LINE_OCTETS
    for char in line:
        octets = len(char.encode())
        if size + octets > limit:
            yield part
            part, size, limit = " ", 1, LINE_OCTETS
        part += char
        size += octets
    yield part


def utc_stamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("a calendar time must be aware")
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar_file(event: CalendarEvent) -> bytes:
    """The ``.ics`` file of ``event``: one VCALENDAR with one VEVENT, UTF-8, CRLF line ends."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{escape_text(event.uid)}",
        f"DTSTAMP:{utc_stamp(event.stamp)}",
        f"DTSTART:{utc_stamp(event.starts_at)}",
        f"DTEND:{utc_stamp(event.ends_at)}",
        f"SUMMARY:{escape_text(event.summary)}",
    ]
    if event.location:
        lines.append(f"LOCATION:{escape_text(event.location)}")
    if event.point is not None:
        lines.append(f"GEO:{event.point.latitude:.6f};{event.point.longitude:.6f}")
    if event.description:
        lines.append(f"DESCRIPTION:{escape_text(event.description)}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "".join(part + "\r\n" for line in lines for part in fold(line)).encode()
