"""The organisers' side (issue 14), in their own chat: :data:`router` holds the organiser routers that are not
replies to a booking request (those, ``confirmations.router``, come first in ``bot/app.py``): the day itself
(check-in links, the participant list's buttons, "running late"); ``/sessions`` and ``/questions``.

Each router checks on the server that the presser is the organiser (their chat) or an operator.
"""

from __future__ import annotations

from aiogram import Router

from handlers.organiser import checkin, commands, day, questions, sessions, settings, settings_texts

router = Router(name=__name__)
router.include_routers(
    commands.router,  # an organiser's /start sets their chat's command menu, then goes on (issue 14)
    checkin.router,
    day.router,
    sessions.router,  # /sessions (issue 14)
    questions.router,  # /questions (issue 14)
    settings.router,  # /settings: the booking terms (issue 14)
    settings_texts.router,  # /settings: texts and the Book button (issue 14)
)
