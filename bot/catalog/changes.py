"""The catalog import and the organisers' own changes (``/settings``): neither overwrites the other silently.

An organiser who changes one of the catalog's values in the chat (hold, confirm and pay windows, reminders, the
waitlist's claim window, an event's confirmation; the booking questions, ``/questions``) leaves a note of the value
the catalog had then (``organiser_changes``). At the next import, per noted value:

- the file still says what the catalog said then: the catalog did not change it, so **the organiser's value is kept**
  (the note stays, for the imports after);
- the file says something else: the catalog changed it since, so **the file's value replaces the organiser's** (the
  note goes: from now on the value is the catalog's again).

The same holds for a session's capacity an organiser changed (``/sessions``, noted per session,
:func:`~domain.use_cases.organiser_sessions.capacity_key`); a session the organiser added has no catalog value, so
the first file that lists it replaces the organiser's capacity (reported too).

A session whose sales the organiser stopped (``/sessions``) stays stopped whatever the file says: the file has no
such value, so no import resumes the sales (only the organiser or an operator does, in ``/sessions``); a capacity the
file changes applies, its seats stay off sale. Each import reports such a session among the kept values.

The import's report lists both (``ImportReport.kept`` / ``.replaced``), one line per value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.organiser_tables import OrganiserChangeRow
from domain.model.organiser_settings import Setting
from domain.rules.durations import format_duration
from domain.use_cases.organiser_sessions import capacity_key

# the organisers' column of each organiser-level setting the catalog carries
ORGANISER_COLUMNS = {
    Setting.HOLD.value: "hold_s",
    Setting.CONFIRM_WITHIN.value: "confirm_within_s",
    Setting.PAY_WITHIN.value: "pay_within_s",
    Setting.REMINDERS.value: "reminders_s",
    Setting.CLAIM_WINDOW.value: "waitlist_claim_window_s",
    "questions": "questions",  # the booking questions (``/questions``, domain/use_cases/organiser_questions.py)
}
_EVENT_KEY = Setting.CONFIRMATION.value + ":"


def _shown(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return format_duration(timedelta(seconds=value))
    if isinstance(value, list) and all(isinstance(v, dict) and "id" in v for v in value) and value:
        # booking questions: by id (a removed one, kept for the answers of earlier orders, is not asked)
        return "[" + ", ".join(str(v["id"]) for v in value if not v.get("retired")) + "]"
    if isinstance(value, list):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    return str(value)


@dataclass(slots=True)
class Reconciled:
    """What the import did with the organisers' changes: lines for the report, and the notes to drop."""

    kept: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    settled: list[tuple[int, str]] = field(default_factory=list)  # (organiser id, key)


Notes = dict[int, dict[str, Any]]  # organiser id -> {key: the catalog's value when the organiser changed it}


async def load_notes(s: AsyncSession) -> Notes:
    notes: Notes = {}
    for row in await s.scalars(select(OrganiserChangeRow)):
        notes.setdefault(row.organiser_id, {})[row.key] = row.catalog_value
    return notes


def keep_organisers(
    done: Reconciled,
    notes: Notes,
    organisers: list[tuple[str, dict[str, Any]]],
    organisers_db: Mapping[str, dict[str, Any]],
) -> None:
    """Apply the rule above to the organiser rows the file wants (``(code, values)``: changed in place where the
    organiser's value is kept), against the rows as they are (``organisers_db``)."""
    for code, values in organisers:
        old = organisers_db.get(code)
        if old is None or old["id"] not in notes:
            continue
        for key, catalog_value in notes[old["id"]].items():
            if (column := ORGANISER_COLUMNS.get(key)) is not None:
                _settle(done, old["id"], key, f"organiser {code}: {key}", values, column, old, catalog_value)


def keep_events(
    done: Reconciled, notes: Notes, events: list[tuple[str, dict[str, Any]]], events_db: Mapping[str, dict[str, Any]]
) -> None:
    """The same for the events' confirmation."""
    for code, values in events:
        old = events_db.get(code)
        if old is None or (key := _EVENT_KEY + code) not in notes.get(old["organiser_id"], {}):
            continue
        catalog_value = notes[old["organiser_id"]][key]
        _settle(
            done, old["organiser_id"], key, f"event {code}: confirmation", values, "confirmation", old, catalog_value
        )


def keep_session_capacity(done: Reconciled, notes: Notes, where: str, wanted: int, old: Mapping[str, Any]) -> int:
    """The capacity an existing session (``old``, its row) gets from a file that says ``wanted``: the organiser's
    while the file still says what the catalog said when they changed it, else the file's."""
    key = capacity_key(old["id"])
    noted = [(organiser_id, values[key]) for organiser_id, values in notes.items() if key in values]
    if not noted:
        return wanted
    organiser_id, catalog_value = noted[0]
    values = {"capacity": wanted}
    _settle(done, organiser_id, key, f"{where}: capacity", values, "capacity", old, catalog_value, shown=str)
    return int(values["capacity"])


def keep_stopped_sales(done: Reconciled, where: str, old: Mapping[str, Any]) -> None:
    """An existing session (``old``, its row) whose sales its organiser stopped: reported, never resumed."""
    if old.get("sales_stopped"):
        done.kept.append(f"{where}: sales kept stopped by the organiser (resumed only in /sessions)")


def _settle(
    done: Reconciled,
    organiser_id: int,
    key: str,
    where: str,
    values: dict[str, Any],
    column: str,
    old: Mapping[str, Any],
    catalog_value: Any,
    shown: Callable[[Any], str] = _shown,
) -> None:
    wanted, current = values[column], old[column]
    if wanted == catalog_value:  # the catalog did not change it: the organiser's value stays
        values[column] = current
        if current != wanted:
            done.kept.append(f"{where} kept the organiser's {shown(current)} (the file still says {shown(wanted)})")
        return
    done.settled.append((organiser_id, key))
    if current != wanted:
        since = (
            "the organiser added the session"
            if catalog_value is None
            else f"changed in the file since {shown(catalog_value)}"
        )
        done.replaced.append(
            f"{where} replaced the organiser's {shown(current)} with the file's {shown(wanted)} ({since})"
        )


async def drop_settled(s: AsyncSession, settled: list[tuple[int, str]]) -> None:
    if settled:
        await s.execute(
            delete(OrganiserChangeRow).where(
                tuple_(OrganiserChangeRow.organiser_id, OrganiserChangeRow.key).in_(settled)
            )
        )
