"""An operator's offer (issue 15), sent to each guest of its segment in their language with its event and "Stop
offers". Rendered when it goes out: a guest who turned offers off (or was forgotten) since it was enqueued, or an
offer no longer current, sends nothing."""

from __future__ import annotations

from domain.model.messages import OutboxKind
from handlers.notifications import RenderContext, Rendered, renders
from handlers.tourist.offer_screens import offer_kb, offer_text, offer_view


@renders(OutboxKind.OFFER)
async def offer(rc: RenderContext) -> Rendered | None:
    async with rc.uow:
        user = await rc.uow.users.get(rc.chat_id)
        offer = await rc.uow.offers.get(int(rc.payload["offer_id"]))
        if user is None or offer is None or await rc.uow.offers.opted_out(user.id):
            return None
        if rc.now is not None and not offer.current(rc.now):
            return None
        tr = rc.i18n.translator(user.language)
        view = await offer_view(rc.uow, offer, tr.language, user.region_id)
    return Rendered(offer_text(tr, view), offer_kb(tr, view))
