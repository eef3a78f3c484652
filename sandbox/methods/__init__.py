"""The Bot API methods the emulator implements, by area; :data:`METHODS` maps each name to its implementation.

Any other method is answered 404 ``Not Found``, as Telegram answers an unknown one.
"""

from __future__ import annotations

from sandbox.methods import callbacks, chats, files, forum, inline, messages, payments, places, profile, updates
from sandbox.methods.common import Method

METHODS: dict[str, Method] = {
    **profile.METHODS,
    **updates.METHODS,
    **messages.METHODS,
    **files.METHODS,
    **places.METHODS,
    **payments.METHODS,
    **callbacks.METHODS,
    **inline.METHODS,
    **chats.METHODS,
    **forum.METHODS,
}
_BY_LOWER_NAME = {name.lower(): name for name in METHODS}


def resolve_method(name: str) -> str | None:
    """Telegram reads method names case-insensitively; ``None`` for a method the sandbox does not implement."""
    return _BY_LOWER_NAME.get(name.lower())
