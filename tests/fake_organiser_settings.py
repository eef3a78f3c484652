"""The in-memory :class:`domain.ports.OrganiserSettingsRepository` of :mod:`tests.fakes` (its state lives in
``FakeState.organisers`` / ``.events`` for the terms, ``.organiser_extras`` and ``.organiser_changes``). Like the
SQL one, it stores copies, and a second change of a key keeps the catalog value of the first."""

from __future__ import annotations

import copy
import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from domain.model.catalog import Confirmation, Organiser
from domain.model.organiser_settings import OrganiserExtras

if TYPE_CHECKING:
    from tests.fakes import FakeState


class _Opened(Protocol):
    def require_open(self) -> FakeState: ...


class FakeOrganiserSettingsRepository:
    def __init__(self, uow: _Opened) -> None:
        self._uow = uow

    @property
    def _state(self) -> FakeState:
        return self._uow.require_open()

    async def extras(self, organiser_id: int) -> OrganiserExtras:
        stored = self._state.organiser_extras.get(organiser_id)
        return copy.deepcopy(stored) if stored is not None else OrganiserExtras(organiser_id=organiser_id)

    async def extras_to_change(self, organiser_id: int) -> OrganiserExtras:
        return await self.extras(organiser_id)

    async def save_extras(self, extras: OrganiserExtras) -> None:
        self._state.organiser_extras[extras.organiser_id] = copy.deepcopy(extras)

    async def terms_to_change(self, organiser_id: int) -> Organiser | None:
        return self._state.organisers.get(organiser_id)

    async def save_terms(self, organiser: Organiser) -> None:
        stored = self._state.organisers.get(organiser.id)
        if stored is not None:
            self._state.organisers[organiser.id] = dataclasses.replace(
                stored,
                confirm_within=organiser.confirm_within,
                pay_within=organiser.pay_within,
                hold=organiser.hold,
                waitlist_claim_window=organiser.waitlist_claim_window,
                reminders=organiser.reminders,
            )

    async def save_confirmation(self, event_id: int, confirmation: Confirmation) -> None:
        stored = self._state.events.get(event_id)
        if stored is not None:
            self._state.events[event_id] = dataclasses.replace(stored, confirmation=confirmation)

    async def note_change(self, organiser_id: int, key: str, catalog_value: object, now: datetime) -> None:
        self._state.organiser_changes.setdefault((organiser_id, key), copy.deepcopy(catalog_value))
