"""Every inline button of the tourist's chat: typed, short prefixes, ids and enums only (64-byte limit).

Buttons prove nothing: each handler re-checks on the server that the object exists, is in the expected state and
belongs to the user who pressed. Data that does not parse falls through to the fallback router.
"""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData


class MenuAction(enum.StrEnum):
    HOME = "home"
    EVENTS = "events"
    ORDERS = "orders"
    QUESTION = "question"
    PROFILE = "profile"
    FAVOURITES = "fav"


class MenuCb(CallbackData, prefix="m"):
    action: MenuAction


class Below(enum.StrEnum):
    """Where a button under a message that must stay leads (a confirmation, a decline with its reason, a ticket, a
    receipt, a notice): the screen comes as a new message below, and the pressed one is left as it is."""

    HOME = "h"
    EVENTS = "es"
    EVENT = "e"  # ``id``: the event
    ORDERS = "os"
    ORDER = "o"  # ``id``: the order
    BOOK = "b"  # ``id``: the session to start booking


class BelowCb(CallbackData, prefix="n"):
    to: Below
    id: int = 0


class LangCb(CallbackData, prefix="l"):
    language: str


class When(enum.StrEnum):
    TODAY = "t"
    TOMORROW = "tm"
    WEEKEND = "w"
    UPCOMING = "u"  # the next 30 days
    DAY = "d"  # a picked day (``day`` is its proleptic ordinal)
    PICK = "p"  # show the date picker


class BrowseCb(CallbackData, prefix="b"):
    """One step of region -> when -> category -> list; ``category`` "" means all categories."""

    region: int
    when: When | None = None
    day: int = 0
    category: str = ""
    page: int = 0
    step: str = "region"  # region, when, category, list


class EventCb(CallbackData, prefix="e"):
    event: int


class BookAction(enum.StrEnum):
    START = "s"  # picked a session
    INC = "i"
    DEC = "d"
    NEXT = "n"  # quantities chosen
    CHOICE = "c"  # answered a choice question (``value`` = choice index)
    SKIP = "k"  # skipped an optional question
    CONFIRM = "y"
    ABORT = "x"
    POINTS = "pt"  # use ``value`` loyalty points on the summary (0: none)
    CODE = "cd"  # "Have a code?": the guest types it next
    NO_CODE = "nc"  # remove the code (or stop typing one): back to the summary


class BookCb(CallbackData, prefix="k"):
    action: BookAction
    session: int
    value: int = 0  # ticket type index for INC/DEC, choice index for CHOICE, points for POINTS


class OrderAction(enum.StrEnum):
    VIEW = "v"
    CANCEL = "c"  # asks for confirmation
    CANCEL_CONFIRM = "cy"
    EVENT = "e"


class OrderCb(CallbackData, prefix="o"):
    action: OrderAction
    order: int


class OrdersPageCb(CallbackData, prefix="op"):
    page: int


class ProfileAction(enum.StrEnum):
    LANGUAGE = "l"
    PHONE = "p"
    HOTEL = "h"
    HOTEL_CLEAR = "hc"
    DELETE = "d"  # asks for confirmation
    DELETE_CONFIRM = "dy"
    POINTS = "pt"  # my loyalty points: balance, history, referral link


class ProfileCb(CallbackData, prefix="p"):
    action: ProfileAction


class HotelCb(CallbackData, prefix="h"):
    hotel: int


class HotelRegionCb(CallbackData, prefix="hr"):
    region: int


class RateCb(CallbackData, prefix="rt"):
    """A star under the rating request after a session (1-5; anything else is refused on the server)."""

    order: int
    stars: int


class WaitAction(enum.StrEnum):
    """The waitlist of a sold-out session (``id``: the session for ASK and JOIN, else the waitlist entry)."""

    ASK = "a"  # how many seats? (the session)
    JOIN = "j"  # join for ``seats`` seats (the session)
    VIEW = "v"  # the entry
    LEAVE = "l"  # leave the list (the entry)
    CLAIM = "c"  # claim the offered seats: the booking screens, then the order (the entry)
    DECLINE = "d"  # no thanks: the offer passes on (the entry)


class WaitCb(CallbackData, prefix="w"):
    action: WaitAction
    id: int
    seats: int = 0


class RoomAction(enum.StrEnum):
    """The waiting room of a hot on-sale (``place``: the tourist's place in it)."""

    REFRESH = "r"  # 🔄 My place: answered in the callback answer, no message
    LEAVE = "l"  # step out (the place is kept for the retention)
    BACK = "b"  # back to the place stepped out of
    PREPARE = "p"  # pre-fill the booking while waiting
    BOOK = "k"  # their turn: book (one tap with a prepared booking)


class RoomCb(CallbackData, prefix="wr"):
    action: RoomAction
    place: int


class RebookAction(enum.StrEnum):
    """Changing the date of one's own order (``order``; ``session``: the new date)."""

    DATES = "d"  # the other dates it may move to
    PICK = "p"  # the summary of moving to ``session``
    CONFIRM = "y"  # move it (or, paid and dearer: the invoice for the difference)


class RebookCb(CallbackData, prefix="rb"):
    action: RebookAction
    order: int
    session: int = 0


class FavAction(enum.StrEnum):
    """A favourite (``event``): starred or unstarred on the event card (the card is redrawn), or changed in the list of
    "My favourites" (the list is redrawn)."""

    ADD = "a"  # ☆ on the card
    REMOVE = "r"  # ★ on the card
    DROP = "d"  # ✖ in the list
    ALERTS_ON = "n"  # 🔕 -> 🔔 in the list
    ALERTS_OFF = "f"  # 🔔 -> 🔕 in the list


class FavCb(CallbackData, prefix="fv"):
    action: FavAction
    event: int
