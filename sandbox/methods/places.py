"""A map pin and an album from the bot (issue 15): ``sendVenue`` (a venue carries its location too, as Telegram's
messages do) and ``sendMediaGroup`` (2-10 photos or documents, one message each with a shared ``media_group_id``,
the caption where the bot put it). The spec has already checked the parameters' types (sandbox/request_parsing.py);
the checks here are the values Telegram refuses."""

from __future__ import annotations

import copy
import math
from typing import Any

from sandbox.errors import bad_request
from sandbox.methods.common import Method, bot_sends, check_sending, render
from sandbox.methods.files import stored_file
from sandbox.state import WorldState

_MEDIA_KINDS = ("photo", "document")


def _coordinate(value: Any, bound: float, name: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value) or abs(value) > bound:
        raise bad_request(f"wrong {name} specified")
    return float(value)


async def _send_venue(world: WorldState, p: dict[str, Any]) -> Any:
    latitude = _coordinate(p["latitude"], 90, "latitude")
    longitude = _coordinate(p["longitude"], 180, "longitude")
    title, address = str(p["title"]).strip(), str(p["address"]).strip()
    if not title:
        raise bad_request("venue title must be non-empty")
    if not address:
        raise bad_request("venue address must be non-empty")
    location = {"latitude": latitude, "longitude": longitude}
    venue = {"location": location, "title": title, "address": address}
    return bot_sends(world, "sendVenue", p, {"venue": venue, "location": dict(location)})


def _media_content(world: WorldState, item: dict[str, Any]) -> dict[str, Any]:
    kind = item.get("type")
    if kind not in _MEDIA_KINDS:
        raise bad_request(f"the sandbox sends albums of {' or '.join(_MEDIA_KINDS)} only, got {kind!r}")
    stored = stored_file(world, item.get("media"), kind)
    content: dict[str, Any]
    if kind == "photo":
        size = {"width": 1280, "height": 960, "file_size": stored["file_size"]}
        content = {"photo": [{"file_id": stored["file_id"], "file_unique_id": stored["file_unique_id"], **size}]}
    else:
        content = {"document": {k: stored[k] for k in ("file_id", "file_unique_id", "file_name", "file_size")}}
    return {**content, **render(item, "caption", "caption_entities")}


async def _send_media_group(world: WorldState, p: dict[str, Any]) -> Any:
    media = p["media"]
    if not isinstance(media, list) or not 2 <= len(media) <= 10:
        raise bad_request("MEDIA_INVALID: an album holds 2 to 10 media")
    if not all(isinstance(item, dict) for item in media):
        raise bad_request("can't parse media JSON object")
    kinds = {item.get("type") for item in media}
    if "document" in kinds and len(kinds) > 1:
        raise bad_request("documents can't be mixed with other media types")
    chat, thread, reply_to = check_sending(world, "sendMediaGroup", p)
    contents = [_media_content(world, item) for item in media]  # every file checked before any message is stored
    group = str(world.next_id())
    sent = []
    for content in contents:
        message = world.store_message(
            chat, world.bot_user, {**content, "media_group_id": group}, thread_id=thread, reply_to=reply_to
        )
        sent.append(copy.deepcopy(message.data))
    world.bump(chat.id)
    return sent


METHODS: dict[str, Method] = {
    "sendVenue": _send_venue,
    "sendMediaGroup": _send_media_group,
}
