"""Who may change an organiser's own catalog from the chat (issue 14): the organiser's own chat, or an operator
acting for them. Checked on the server for every message and button: the caller says who is acting, and every use
case checks it against the organiser it is about before it reads or changes anything else."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.errors import NotAllowed, NotFound
from domain.model.catalog import Organiser
from domain.model.messages import AuditEntry, operator_actor
from domain.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class OrganiserActor:
    """The chat a change comes from, and the operator making it (None: whoever speaks in the organiser's chat)."""

    chat_id: int
    operator_id: int | None = None

    @property
    def audit_actor(self) -> str:
        return operator_actor(self.operator_id) if self.operator_id is not None else f"organiser:{self.chat_id}"

    def may_act_for(self, organiser: Organiser) -> bool:
        """The caller sets ``operator_id`` only for someone it checked is an operator."""
        return self.operator_id is not None or organiser.chat_id == self.chat_id


async def organiser_for(uow: UnitOfWork, organiser_id: int, actor: OrganiserActor) -> Organiser:
    """The organiser, read from the database; :class:`NotFound` or :class:`NotAllowed` (``actor`` may not)."""
    organiser = await uow.catalog.organiser(organiser_id)
    if organiser is None:
        raise NotFound(organiser=organiser_id)
    if not actor.may_act_for(organiser):
        raise NotAllowed(organiser=organiser_id)
    return organiser


async def audit_organiser_change(
    uow: UnitOfWork,
    now: datetime,
    actor: OrganiserActor,
    action: str,
    organiser: Organiser,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    """The audit entry of an organiser's change (no order: ``organiser`` names whose catalog it is)."""
    await uow.audit.add(
        AuditEntry(
            at=now,
            actor=actor.audit_actor,
            action=action,
            before={"organiser": organiser.code, **before},
            after={"organiser": organiser.code, **after},
        )
    )
