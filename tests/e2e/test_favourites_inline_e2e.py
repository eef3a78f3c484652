"""The real bot process and the emulator (issue 15): a guest opens an event by its deep link, stars it, finds it in
"My favourites", presses Share, and the inline query it starts is answered in their language with the event and a
link back to the card; picking the result sends it "via @bot" into the chat."""

from __future__ import annotations

import pytest

from handlers.tourist.callbacks import FavAction, FavCb, MenuAction, MenuCb
from tests.e2e.tourist import buttons

pytestmark = pytest.mark.asyncio(loop_scope="package")  # with the package's bot process (see conftest)


async def test_star_list_share_and_the_inline_answer(tourist_factory, database, world) -> None:
    seeded = database.seeded
    greta = await tourist_factory("Greta", "de")
    card = await greta.send("/start ev-islands-cruise")
    assert card["text"].startswith("Inselkreuzfahrt")
    card = await greta.press(FavCb(action=FavAction.ADD, event=seeded.event_id), card)
    assert any(b["text"].startswith("★") for b in buttons(card))
    [share] = [b for b in buttons(card) if "switch_inline_query_chosen_chat" in b]
    query = share["switch_inline_query_chosen_chat"]["query"]
    assert query == "Inselkreuzfahrt"

    listing = await greta.send("/favourites")
    assert "Inselkreuzfahrt" in listing["text"] and any(b.get("text") == "🔔" for b in buttons(listing))
    menu = await greta.send("/start")
    listing = await greta.press(MenuCb(action=MenuAction.FAVOURITES), menu)
    assert "Inselkreuzfahrt" in listing["text"]

    query_id = await world.user_inline_query(greta.id, query, chat_id=greta.id)
    answer = await greta.wait(lambda: world.inline_answer(query_id), "the bot's inline answer")
    assert answer["is_personal"] is True
    [result] = answer["results"]
    assert result["title"] == "Inselkreuzfahrt"
    link = result["reply_markup"]["inline_keyboard"][0][0]["url"]
    assert link == f"https://t.me/{world.bot.username}?start=ev-islands-cruise"

    sent = await world.user_chooses_result(query_id, result["id"], greta.id)
    assert sent["via_bot"]["username"] == world.bot.username and sent["text"].startswith("Inselkreuzfahrt")
