"""Use cases of ``/settings``: an organiser (from their own chat) or an operator changes the organiser's booking
terms, texts and Book button. Each is one transaction with its audit entry; a bad value changes nothing.

The terms are the ones the catalog import writes (the organiser's row, its events' confirmation): a change of one of
them is also noted for the import, which then keeps the organiser's value until the catalog file changes that value
itself (``docs/catalog.md``, "The organiser's own changes"). A change applies to bookings placed after it: orders
already placed keep the deadlines they were given.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain.errors import NotAllowed
from domain.model.catalog import Confirmation, Event, Organiser
from domain.model.organiser_settings import ButtonStyle, OrganiserExtras, Setting, TextKind
from domain.ports import UnitOfWork
from domain.rules.organiser_texts import check_book_label, check_template, parse_duration_setting, parse_reminders
from domain.use_cases.organiser_access import OrganiserActor, audit_organiser_change, organiser_for

# the Organiser field of each duration term the catalog carries
_TERM_FIELDS = {
    Setting.HOLD: "hold",
    Setting.CONFIRM_WITHIN: "confirm_within",
    Setting.PAY_WITHIN: "pay_within",
    Setting.CLAIM_WINDOW: "waitlist_claim_window",
}


def _with_term(organiser: Organiser, setting: Setting, value: timedelta) -> Organiser:
    match setting:
        case Setting.HOLD:
            return dataclasses.replace(organiser, hold=value)
        case Setting.CONFIRM_WITHIN:
            return dataclasses.replace(organiser, confirm_within=value)
        case Setting.PAY_WITHIN:
            return dataclasses.replace(organiser, pay_within=value)
        case _:
            return dataclasses.replace(organiser, waitlist_claim_window=value)


@dataclass(frozen=True, slots=True)
class OrganiserSettings:
    """Everything ``/settings`` shows."""

    organiser: Organiser
    extras: OrganiserExtras
    events: tuple[Event, ...]


async def read_settings(uow: UnitOfWork, organiser_id: int, by: OrganiserActor) -> OrganiserSettings:
    """The organiser's settings as they stand (a screen's read: no transaction)."""
    async with uow.read():
        organiser = await organiser_for(uow, organiser_id, by)
        extras = await uow.organiser_settings.extras(organiser.id)
        events = tuple(await uow.organiser_catalog.events(organiser.id))
    return OrganiserSettings(organiser, extras, events)


async def _audit(
    uow: UnitOfWork, now: datetime, by: OrganiserActor, organiser: Organiser, what: str, before: Any, after: Any
) -> None:
    await audit_organiser_change(uow, now, by, f"organiser.{what}", organiser, {"value": before}, {"value": after})


def _seconds(value: timedelta) -> int:
    return int(value.total_seconds())


async def change_term(
    uow: UnitOfWork, organiser_id: int, setting: Setting, raw: str, by: OrganiserActor, now: datetime
) -> OrganiserSettings:
    """Set a duration term (hold, confirm or pay window, claim window, booking cutoff) or the reminder offsets from
    what the person typed; :class:`~domain.model.organiser_settings.InvalidSetting` names what is wrong."""
    async with uow:
        organiser = await organiser_for(uow, organiser_id, by)
        organiser = await uow.organiser_settings.terms_to_change(organiser.id) or organiser  # not a cached copy
        extras = await uow.organiser_settings.extras_to_change(organiser.id)
        if setting is Setting.CUTOFF:
            value = parse_duration_setting(setting, raw)
            before, extras.booking_cutoff = _seconds(extras.booking_cutoff), value
            await uow.organiser_settings.save_extras(extras)
            await _audit(uow, now, by, organiser, "cutoff_changed", before, _seconds(value))
        elif setting is Setting.REMINDERS:
            offsets = parse_reminders(raw)
            old = [_seconds(r) for r in organiser.reminders]
            organiser = dataclasses.replace(organiser, reminders=offsets)
            await uow.organiser_settings.save_terms(organiser)
            await uow.organiser_settings.note_change(organiser.id, setting.value, old, now)
            await _audit(uow, now, by, organiser, "reminders_changed", old, [_seconds(r) for r in offsets])
        elif (name := _TERM_FIELDS.get(setting)) is not None:
            value = parse_duration_setting(setting, raw)
            old_s = _seconds(getattr(organiser, name))
            organiser = _with_term(organiser, setting, value)
            await uow.organiser_settings.save_terms(organiser)
            await uow.organiser_settings.note_change(organiser.id, setting.value, old_s, now)
            await _audit(uow, now, by, organiser, f"{setting.value}_changed", old_s, _seconds(value))
        else:
            raise ValueError(f"{setting} is not a typed setting")
        events = tuple(await uow.organiser_catalog.events(organiser.id))
        await uow.commit()
    return OrganiserSettings(organiser, extras, events)


async def change_confirmation(
    uow: UnitOfWork, organiser_id: int, event_id: int, confirmation: Confirmation, by: OrganiserActor, now: datetime
) -> Event:
    """Make one of the organiser's events instant or confirmed by the organiser (for bookings from now on)."""
    async with uow:
        organiser = await organiser_for(uow, organiser_id, by)
        event = await uow.catalog.event(event_id)
        if event is None or event.organiser_id != organiser.id:
            raise NotAllowed(event=event_id)
        if event.confirmation is not confirmation:
            await uow.organiser_settings.save_confirmation(event.id, confirmation)
            key = f"{Setting.CONFIRMATION.value}:{event.code}"
            await uow.organiser_settings.note_change(organiser.id, key, event.confirmation.value, now)
            await _audit(uow, now, by, organiser, "confirmation_changed", event.confirmation.value, confirmation.value)
            event = dataclasses.replace(event, confirmation=confirmation)
        await uow.commit()
    return event


async def save_text(
    uow: UnitOfWork,
    organiser_id: int,
    kind: TextKind,
    language: str,
    raw: str | None,
    by: OrganiserActor,
    now: datetime,
) -> OrganiserExtras:
    """Save the organiser's ``kind`` text in ``language`` (checked again: placeholders, HTML, length), or with None
    remove it, so that language gets the default wording again."""
    text = check_template(raw) if raw is not None else None
    async with uow:
        organiser = await organiser_for(uow, organiser_id, by)
        extras = await uow.organiser_settings.extras_to_change(organiser.id)
        before = extras.text(kind, language)
        extras.set_text(kind, language, text)
        await uow.organiser_settings.save_extras(extras)
        await _audit(uow, now, by, organiser, f"text_{kind.value}_{language}_changed", before, text)
        await uow.commit()
    return extras


async def save_book_button(
    uow: UnitOfWork,
    organiser_id: int,
    by: OrganiserActor,
    now: datetime,
    *,
    language: str | None = None,
    label: str | None = None,
    style: ButtonStyle | None = None,
) -> OrganiserExtras:
    """Set the Book button's label in ``language`` (None label: the default wording again) and/or its colour."""
    checked = check_book_label(label) if label is not None else None
    async with uow:
        organiser = await organiser_for(uow, organiser_id, by)
        extras = await uow.organiser_settings.extras_to_change(organiser.id)
        before = extras.snapshot()
        if language is not None:
            labels = dict(extras.book_text)
            if checked is None:
                labels.pop(language, None)
            else:
                labels[language] = checked
            extras.book_text = labels
        if style is not None:
            extras.book_style = style
        await uow.organiser_settings.save_extras(extras)
        after = extras.snapshot()
        keep = ("book_text", "book_style")
        await _audit(
            uow,
            now,
            by,
            organiser,
            "book_button_changed",
            {k: before[k] for k in keep},
            {k: after[k] for k in keep},
        )
        await uow.commit()
    return extras
