"""``/offer`` in the operator group (issue 15): a short guided conversation with the operator who typed it, then a
preview in every language and the summary (how many guests it reaches) with Send / Cancel.

Steps: the English text (required), the other languages' (``/skip``: English), the event (its code, ``/skip``), a
discount code (``/skip``), how many days it is valid, the segment (offer_screens.py has the syntax). ``/cancel`` stops
at any step. The draft lives in the operator's own conversation state (per operator and chat), so only they can send
it; the send is re-checked on the server (the segment must still reach someone, the code's text still be free) and
audited. The delivery job then enqueues it (domain/use_cases/offers.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aiogram import F, Router, html
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from domain.errors import DomainError
from domain.model.catalog import localized
from domain.model.discount_codes import CodeTaken, DiscountCode
from domain.model.offers import MAX_TEXT, SOURCE_LANGUAGE, EmptySegment, InvalidSegment, Offer, Segment
from domain.ports import Clock, UnitOfWork
from domain.use_cases.offers import NewCode, SendOffer, offer_reach, send_offer
from handlers.operator.access import Operator
from handlers.operator.offer_screens import (
    BadInput,
    OfferSendAction,
    OfferSendCb,
    Summary,
    bad_input_text,
    code_prompt,
    days_prompt,
    event_prompt,
    parse_code,
    parse_days,
    parse_segment,
    segment_prompt,
    summary_screen,
    text_prompt,
)
from handlers.tourist.messaging import answer_query, show
from handlers.tourist.offer_screens import OfferView, offer_text
from handlers.ui import Languages, Translator

router = Router(name=__name__)

DRAFT = "offer_draft"  # FSM data: the draft being composed


class OfferForm(StatesGroup):
    text = State()  # ``draft["language"]``: the language whose text comes next
    event = State()
    code = State()
    days = State()
    segment = State()
    confirm = State()


async def _draft(state: FSMContext) -> dict[str, Any]:
    return dict((await state.get_data()).get(DRAFT) or {})


async def _save(state: FSMContext, draft: dict[str, Any]) -> None:
    await state.update_data({DRAFT: draft})


def _next_language(i18n: Languages, texts: dict[str, str], language: str) -> str | None:
    others = [x for x in i18n.languages if x != SOURCE_LANGUAGE]
    later = others[others.index(language) + 1 :] if language in others else others
    return next((x for x in later if x not in texts), None)


@router.message(Command("offer"))
async def cmd_offer(message: Message, state: FSMContext, tr: Translator) -> None:
    await state.set_state(OfferForm.text)
    await state.set_data({DRAFT: {"language": SOURCE_LANGUAGE, "texts": {}}})
    await message.answer(text_prompt(tr, SOURCE_LANGUAGE))


@router.message(OfferForm.text, Command("cancel"))
@router.message(OfferForm.event, Command("cancel"))
@router.message(OfferForm.code, Command("cancel"))
@router.message(OfferForm.days, Command("cancel"))
@router.message(OfferForm.segment, Command("cancel"))
@router.message(OfferForm.confirm, Command("cancel"))
async def on_offer_cancel(message: Message, state: FSMContext, tr: Translator) -> None:
    await state.clear()
    await message.answer(tr.gettext("The offer is dropped: nothing was sent."))


@router.message(OfferForm.text, Command("skip"))
@router.message(OfferForm.text, F.text, ~F.text.startswith("/"))
async def on_offer_text(message: Message, state: FSMContext, tr: Translator, i18n: Languages) -> None:
    draft = await _draft(state)
    language, texts = draft.get("language", SOURCE_LANGUAGE), dict(draft.get("texts") or {})
    skipped = (message.text or "").startswith("/")
    if skipped and language == SOURCE_LANGUAGE:
        await message.answer("⚠️ " + tr.gettext("The English text is required."))
        return
    if not skipped:
        text = (message.text or "").strip()
        if len(text) > MAX_TEXT:
            await message.answer(
                "⚠️ "
                + tr.gettext("That is {n} characters; an offer takes up to {limit}.").format(
                    n=len(text), limit=MAX_TEXT
                )
            )
            return
        texts[language] = text
    following = _next_language(i18n, texts, language)
    draft |= {"texts": texts, "language": following}
    await _save(state, draft)
    if following is not None:
        await message.answer(text_prompt(tr, following))
        return
    await state.set_state(OfferForm.event)
    await message.answer(event_prompt(tr))


@router.message(OfferForm.event, Command("skip"))
@router.message(OfferForm.event, F.text, ~F.text.startswith("/"))
async def on_offer_event(message: Message, state: FSMContext, uow: UnitOfWork, tr: Translator) -> None:
    draft = await _draft(state)
    text = (message.text or "").strip()
    if not text.startswith("/"):
        async with uow.read():
            event = await uow.catalog.event_by_code(text.lower()[:64])
        if event is None:
            await message.answer(
                "⚠️ "
                + tr.gettext("No event with the code {code}.").format(code=f"<code>{html.quote(text[:64])}</code>")
                + "\n"
                + event_prompt(tr)
            )
            return
        draft["event_id"] = event.id
    await _save(state, draft)
    await state.set_state(OfferForm.code)
    await message.answer(code_prompt(tr))


@router.message(OfferForm.code, Command("skip"))
@router.message(OfferForm.code, F.text, ~F.text.startswith("/"))
async def on_offer_code(message: Message, state: FSMContext, uow: UnitOfWork, tr: Translator) -> None:
    draft = await _draft(state)
    text = (message.text or "").strip()
    if not text.startswith("/"):
        try:
            code = parse_code(text)
        except BadInput as error:
            await message.answer(bad_input_text(tr, error) + "\n\n" + code_prompt(tr))
            return
        async with uow.read():
            taken = await uow.discount_codes.get(code.code) is not None
        if taken:
            await message.answer(
                "⚠️ "
                + tr.gettext("The code {code} exists already; choose another.").format(code=f"<code>{code.code}</code>")
            )
            return
        draft["code"] = {
            "code": code.code,
            "percent": code.percent,
            "amount_minor": code.amount_minor,
            "currency": code.currency,
            "max_uses": code.max_uses,
        }
    await _save(state, draft)
    await state.set_state(OfferForm.days)
    await message.answer(days_prompt(tr))


@router.message(OfferForm.days, F.text, ~F.text.startswith("/"))
async def on_offer_days(message: Message, state: FSMContext, tr: Translator) -> None:
    try:
        days = parse_days(message.text or "")
    except BadInput as error:
        await message.answer(bad_input_text(tr, error))
        return
    draft = await _draft(state)
    draft["days"] = days
    await _save(state, draft)
    await state.set_state(OfferForm.segment)
    await message.answer(segment_prompt(tr))


def _new_code(draft: dict[str, Any]) -> NewCode | None:
    code = draft.get("code")
    return NewCode(**code) if code else None


async def _previews(
    message: Message, uow: UnitOfWork, draft: dict[str, Any], tr: Translator, i18n: Languages, now: datetime
) -> str | None:
    """One message per language: the offer as those guests will read it. Returns the event's title (desk's
    language)."""
    new = _new_code(draft)
    valid_until = now + timedelta(days=int(draft["days"]))
    offer = Offer(
        texts=draft["texts"], segment=Segment(), created_at=now, valid_until=valid_until, created_by="preview"
    )
    code = None
    if new is not None:
        code = DiscountCode(
            code=new.code,
            percent=new.percent,
            amount_minor=new.amount_minor,
            currency=new.currency,
            max_uses=new.max_uses,
            valid_from=now,
            valid_until=valid_until,
            created_at=now,
        )
    async with uow.read():
        event = await uow.catalog.event(int(draft["event_id"])) if draft.get("event_id") else None
        region = await uow.catalog.region(event.region_id) if event else None
        if region is None:
            regions = await uow.catalog.regions()
            region = regions[0] if regions else None
    zone = region.timezone if region else "UTC"
    for language in i18n.languages:
        reader = i18n.translator(language)
        title = localized(event.title, language) if event else None
        head = "👁 " + tr.gettext("Preview: {language}").format(language=tr.language_in_mine(language))
        if language not in offer.texts:
            head += " " + tr.gettext("(no text of its own: the English one)")
        await message.answer(head + "\n\n" + offer_text(reader, OfferView(offer, code, title, zone)))
    return localized(event.title, tr.language) if event else None


@router.message(OfferForm.segment, F.text, ~F.text.startswith("/"))
async def on_offer_segment(
    message: Message, state: FSMContext, uow: UnitOfWork, tr: Translator, i18n: Languages, clock: Clock
) -> None:
    now = clock.now()
    text = (message.text or "").strip()
    try:
        spec = parse_segment(text, i18n.languages)
        segment, reach = await offer_reach(uow, spec, now)
    except BadInput as error:
        await message.answer(bad_input_text(tr, error) + "\n\n" + segment_prompt(tr))
        return
    except InvalidSegment as error:
        value = f"<code>{html.quote(str(error.data.get('value', ''))[:64])}</code>"
        if error.data.get("field") == "region":
            unknown = tr.gettext("No region with the code {code}.").format(code=value)
        else:
            unknown = tr.gettext("No hotel with the code {code}.").format(code=value)
        await message.answer("⚠️ " + unknown)
        return
    if reach == 0:
        await message.answer("👥 " + tr.gettext("No guest matches this segment right now. Send another one."))
        return
    draft = await _draft(state)
    draft |= {"segment": segment.as_json(), "reach": reach}
    await _save(state, draft)
    await state.set_state(OfferForm.confirm)
    event_title = await _previews(message, uow, draft, tr, i18n, now)
    new_code = draft.get("code") or {}
    summary = Summary(
        reach=reach,
        languages=sorted(draft["texts"], key=lambda x: (x != SOURCE_LANGUAGE, x)),
        event_title=event_title,
        code=new_code.get("code"),
        days=int(draft["days"]),
        segment=text[:200],
    )
    text_, markup = summary_screen(tr, summary)
    await message.answer(text_, reply_markup=markup)


@router.callback_query(OfferSendCb.filter(F.action == OfferSendAction.DROP))
async def on_offer_drop(query: CallbackQuery, state: FSMContext, tr: Translator) -> None:
    if await state.get_state() == OfferForm.confirm.state:
        await state.clear()
    await answer_query(query, tr.gettext("Nothing was sent."))
    await show(query, "✖️ " + tr.gettext("The offer is dropped: nothing was sent."))


@router.callback_query(OfferSendCb.filter(F.action == OfferSendAction.SEND))
async def on_offer_send(
    query: CallbackQuery, state: FSMContext, uow: UnitOfWork, tr: Translator, clock: Clock, operator: Operator
) -> None:
    _ = tr.gettext
    draft = await _draft(state)
    if await state.get_state() != OfferForm.confirm.state or "segment" not in draft:
        await answer_query(query, _("Only the operator who wrote this offer can send it. Start with /offer."), True)
        return
    now = clock.now()
    cmd = SendOffer(
        actor=operator.actor,
        texts=draft["texts"],
        days=int(draft["days"]),
        segment=Segment.from_json(draft["segment"]),
        event_id=draft.get("event_id"),
        code=_new_code(draft),
    )
    try:
        offer = await send_offer(uow, cmd, now)
    except EmptySegment:
        await answer_query(query, _("No guest matches this segment any more: nothing was sent."), True)
        return
    except CodeTaken:
        await answer_query(query, _("That code was taken meanwhile: nothing was sent. Start again with /offer."), True)
        return
    except DomainError:  # the event left the catalog, the code's terms (checked when typed)
        await answer_query(query, _("The offer cannot be sent as it is. Start again with /offer."), True)
        return
    await state.clear()
    reach = int(draft.get("reach", 0))
    await answer_query(query, _("Sent."))
    await show(
        query,
        "📨 "
        + _("{name} sent the offer (no. {id}): it goes out to the guests of the segment now.").format(
            name=html.quote(operator.name), id=offer.id
        )
        + "\n"
        + tr.ngettext("About {n} guest.", "About {n} guests.", reach).format(n=reach),
    )
