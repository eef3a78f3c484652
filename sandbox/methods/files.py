"""Files the bot sends: an upload, a known ``file_id`` or a URL becomes a stored file (``sendPhoto``,
``sendDocument``)."""

from __future__ import annotations

import mimetypes
import re
import secrets
from typing import Any

from sandbox.errors import bad_request
from sandbox.methods.common import Method, bot_sends, render
from sandbox.model import is_upload
from sandbox.state import WorldState


def stored_file(world: WorldState, value: Any, kind: str) -> dict[str, Any]:
    """An uploaded file, a known file_id or a URL -> the stored file (400 for an unknown file_id)."""
    stored: dict[str, Any]
    if is_upload(value):
        n = world.next_id()
        data = getattr(value, "data", b"") or b""
        name = value.filename or f"{kind}{n}"
        stored = {
            "file_id": f"sandbox-{kind}-{n}-{secrets.token_hex(4)}",
            "file_unique_id": f"u{kind}{n}",
            "file_name": name,
            "file_size": len(data),
            "kind": kind,
        }
        world.file_bytes[stored["file_id"]] = data
    elif isinstance(value, str) and value in world.files:
        return world.files[value]
    elif isinstance(value, str) and re.match(r"^https?://", value):
        n = world.next_id()
        name = value.rstrip("/").rsplit("/", 1)[-1] or f"{kind}{n}"
        stored = {
            "file_id": f"sandbox-{kind}-{n}-{secrets.token_hex(4)}",
            "file_unique_id": f"u{kind}{n}",
            "file_name": name,
            "file_size": 0,
            "kind": kind,
            "url": value,
        }
    else:
        raise bad_request("wrong file identifier/HTTP URL specified")
    world.files[stored["file_id"]] = stored
    return stored


async def _send_photo(world: WorldState, p: dict[str, Any]) -> Any:
    def content() -> dict[str, Any]:
        stored = stored_file(world, p["photo"], "photo")
        photo = [
            {
                "file_id": stored["file_id"],
                "file_unique_id": stored["file_unique_id"],
                "width": 1280,
                "height": 960,
                "file_size": stored["file_size"],
            }
        ]
        return {"photo": photo, **render(p, "caption", "caption_entities")}

    return bot_sends(world, "sendPhoto", p, content)


async def _send_document(world: WorldState, p: dict[str, Any]) -> Any:
    def content() -> dict[str, Any]:
        stored = stored_file(world, p["document"], "document")
        document = {
            "file_id": stored["file_id"],
            "file_unique_id": stored["file_unique_id"],
            "file_name": stored["file_name"],
            "file_size": stored["file_size"],
        }
        mime = mimetypes.guess_type(stored["file_name"])[0]
        if mime:
            document["mime_type"] = mime
        return {"document": document, **render(p, "caption", "caption_entities")}

    return bot_sends(world, "sendDocument", p, content)


METHODS: dict[str, Method] = {
    "sendPhoto": _send_photo,
    "sendDocument": _send_document,
}
