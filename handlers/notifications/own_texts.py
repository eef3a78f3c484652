"""The organiser's own texts (``/settings`` → Texts) in the messages tourists get: the reminder's and the
confirmation's opening, and the "what to bring" note. A language without the organiser's own text gets the default
wording (the reminder, the confirmation) or no note (what to bring), never an empty message.

Placeholders are filled with values quoted for HTML; the organiser's text itself was checked when it was saved
(known placeholders only, HTML Telegram accepts, within its length).
"""

from __future__ import annotations

from aiogram import html

from domain.model.catalog import localized
from domain.model.orders import format_order_code
from domain.model.organiser_settings import FILLED_MAX, OrganiserExtras, TextKind
from domain.ports import UnitOfWork
from domain.rules.organiser_texts import fill_template
from handlers.read_models import OrderView
from handlers.ui import Translator


async def extras_of(uow: UnitOfWork, view: OrderView) -> OrganiserExtras:
    """The order's organiser's extras, read at send time (no transaction)."""
    async with uow.read():
        return await uow.organiser_settings.extras(view.organiser.id)


def placeholder_values(view: OrderView, tr: Translator) -> dict[str, str]:
    """What ``{name}``, ``{event}``, ``{time}``, ``{meeting_point}`` and ``{code}`` stand for in the order's message."""
    user = view.user
    return {
        "name": html.quote(user.first_name if user is not None and user.first_name else ""),
        "event": html.quote(localized(view.event.title, tr.language)),
        "time": tr.zoned(view.session.starts_at, view.region.timezone),
        "meeting_point": html.quote(localized(view.event.meeting_point, tr.language)),
        "code": format_order_code(view.order.code),
    }


def own_text(extras: OrganiserExtras, kind: TextKind, view: OrderView, tr: Translator) -> str | None:
    """The organiser's ``kind`` text in the reader's language, filled; None: the default wording applies."""
    template = extras.text(kind, tr.language)
    filled = fill_template(template, placeholder_values(view, tr)) if template else None
    return filled if filled and len(filled) <= FILLED_MAX else None


def bring_line(extras: OrganiserExtras, view: OrderView, tr: Translator) -> list[str]:
    """The "what to bring" note as a line of its own, if the organiser wrote one in the reader's language."""
    note = own_text(extras, TextKind.BRING, view, tr)
    return ["🎒 " + note] if note else []
