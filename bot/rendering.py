"""The outbox's renderers (:mod:`handlers.notifications`) with the application's adapters: forum topics of the
operator chat (:mod:`bot.desk_topics`) and QR images of tickets (segno)."""

from __future__ import annotations

import io
from typing import Any

from bot.desk_topics import topic_for
from handlers import notifications
from handlers.ui import Languages

QR_SIZE_PX = 300  # about this wide: easily scanned from a phone screen at the meeting point
QR_BORDER = 4  # the quiet zone the QR standard asks for, in modules


def qr_png(text: str, size_px: int = QR_SIZE_PX) -> bytes:
    """A PNG of ``text`` as a QR code, about ``size_px`` wide with its quiet zone."""
    import segno  # here, not at the top: ~0.6 MiB the bot keeps for life, needed only when a ticket is sent

    qr = segno.make_qr(text, error="m")
    modules, _height = qr.symbol_size(scale=1, border=QR_BORDER)
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=max(1, round(size_px / modules)), border=QR_BORDER)
    return buffer.getvalue()


class Renderer(notifications.Renderer):
    """Renders an outbox row of any kind in its recipient's language; ``options`` reach every renderer (e.g.
    ``payment_provider_token``)."""

    def __init__(self, i18n: Languages, **options: Any) -> None:
        super().__init__(i18n, topic_for=topic_for, qr_image=qr_png, **options)
