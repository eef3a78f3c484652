"""The operator desk in the operator group chat: problem cards, commands, answers to tourists' questions.

:data:`router` holds every desk router (:data:`desk`), behind the operator guard set once
(:mod:`handlers.operator.access`): only the operator chat's messages, and only members of the operator chat and
``ADMIN_IDS`` get through; anyone else's button press is refused with "not allowed" and changes nothing. Before it,
:data:`~handlers.operator.access.membership` reads the signs of someone leaving the operator chat.
"""

from __future__ import annotations

from aiogram import Router

from handlers.operator import (
    alerts,
    events,
    find,
    offers,
    order_details,
    order_money,
    order_session,
    orders,
    problems,
    replies,
    sessions,
    stats,
)
from handlers.operator import help as desk_help
from handlers.operator.access import guard, membership

desk = guard(Router(name=f"{__name__}.desk"))
desk.include_routers(
    replies.router,  # first: answers to tourists, and "write to…" mode, which any /command ends
    offers.router,  # /offer's conversation (issue 15): talk among operators in its state is the offer's text
    alerts.router,
    problems.router,
    orders.router,
    order_session.router,
    order_money.router,
    order_details.router,
    sessions.router,
    find.router,
    events.router,
    stats.router,
    desk_help.router,
)
router = Router(name=__name__)
router.include_routers(
    membership,  # signs of leaving the operator chat end access at once (not guarded: the one who left is no operator)
    desk,
)
