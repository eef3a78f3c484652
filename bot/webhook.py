"""Webhook mode: Telegram POSTs each update to ``WEBHOOK_URL``; the update is committed to the inbox before the 200
(so an update Telegram was told we have is never lost), then handled like a polled one (bot/inbox.py).

Refused, storing nothing: a POST without the right ``X-Telegram-Bot-Api-Secret-Token`` (401; compared in constant
time), a body over 1 MB (413: aiohttp stops reading there), a body that is not a JSON object with an integer
``update_id`` (400). An object with an ``update_id`` that aiogram cannot decode (a field newer than the library) is
stored as failed and acknowledged, as in polling, or Telegram would send it again forever. A repeated ``update_id``
is acknowledged and dropped. When the database cannot be reached, or the replica is stopping, the answer is 503:
Telegram sends the update again later (to whichever replica the load balancer picks).

The response may carry one Bot API call, which Telegram makes (bot/room_answers.py answers a hot date's Book press
so: at a surge that is one request fewer per press, and Telegram's answer without a round trip of ours).

aiogram's own webhook handler (``SimpleRequestHandler``) is not used: it feeds the dispatcher before or while it
answers, so a replica killed after its 200 would lose the update; here the order is store, answer, handle.
"""

from __future__ import annotations

import hmac
import json
import logging

from aiogram import Bot
from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from bot.inbox import Inbox
from bot.inbox_worker import InboxWorker

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1024 * 1024  # Telegram's updates are a few kB; anything near this is not from Telegram


class WebhookReceiver:
    """The aiohttp handler of the webhook's path."""

    def __init__(self, inbox: Inbox, worker: InboxWorker, bot: Bot, secret: str) -> None:
        self.inbox, self.worker, self.bot = inbox, worker, bot
        self._secret = secret.encode()
        self.accepting = True  # False while stopping: 503, Telegram retries elsewhere

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            return web.Response(status=401, text="wrong or missing secret token")
        if not self.accepting:
            return web.Response(status=503, text="stopping")
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.Response(status=413, text="too large")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=413, text="too large")
        try:
            raw = json.loads(body)
        except ValueError:  # not JSON, or not UTF-8
            return web.Response(status=400, text="not an update")
        update_id = raw.get("update_id") if isinstance(raw, dict) else None
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            return web.Response(status=400, text="not an update")
        try:
            fresh = await self.inbox.accept([raw], self.bot)  # committed before the 200
        except (SQLAlchemyError, OSError) as error:
            log.warning("update %s not stored, Telegram will send it again: %s", update_id, error)
            return web.Response(status=503, text="try again")
        reply = self.worker.reply_for(fresh)  # e.g. a hot date's Book press answered in this response
        self.worker.received(fresh)
        return web.json_response(reply) if reply is not None else web.Response(text="ok")


def webhook_app(receiver: WebhookReceiver, path: str) -> web.Application:
    """The app Telegram posts to: the webhook's path (the health and metrics routes are added by the runner)."""
    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post(path, receiver.handle)
    return app
