"""Organisers' buttons: under a booking request (the same as replying + or −), and the day itself: check-in, the
participant list, "at the meeting point"; and the tourist's "running late"."""

from __future__ import annotations

import enum
from typing import ClassVar

from aiogram.filters.callback_data import CallbackData

from domain.model.catalog import Confirmation
from domain.model.organiser_settings import ButtonStyle, Setting, TextKind
from domain.use_cases.organiser_sessions import CancelReason
from handlers.operator.bounds import PAGE, ROW_ID, Bounded, Bounds


class RequestAction(enum.StrEnum):
    CONFIRM = "y"
    DECLINE = "n"


class RequestCb(CallbackData, prefix="r"):
    action: RequestAction
    order: int


# ---- /sessions and /questions (issue 14): ids and enums only; every press is checked again on the server ----------


class OrgSessionAction(enum.StrEnum):
    LIST = "l"  # a page of the sessions
    OPEN = "o"  # one session
    ADD = "a"  # add a session (which event, when there are several)
    EVENT = "e"  # add a session of this event
    CAPACITY = "c"
    STOP = "s"  # asks first
    STOP_YES = "S"
    RESUME = "r"  # sales stopped: on sale again (no question: nothing is lost)
    CANCEL = "x"  # the reasons to choose from


class OrgSessionCb(Bounded, CallbackData, prefix="os"):
    BOUNDS: ClassVar[Bounds] = {"org": ROW_ID, "id": ROW_ID, "page": PAGE}

    action: OrgSessionAction
    org: int
    id: int = 0  # the session (the event for EVENT)
    page: int = 0


class OrgCancelCb(Bounded, CallbackData, prefix="oc"):
    BOUNDS: ClassVar[Bounds] = {"org": ROW_ID, "session": ROW_ID}

    org: int
    session: int
    reason: CancelReason


class OrgQuestionAction(enum.StrEnum):
    LIST = "l"
    OPEN = "o"
    ADD_TEXT = "t"  # a new free-text question
    ADD_CHOICE = "c"  # a new question with choices
    WORDING = "w"  # the question's text in ``lang``
    CHOICES = "h"  # the choices' labels in ``lang``
    REQUIRED = "r"  # required <-> optional
    LIMIT = "m"  # the longest answer
    UP = "u"
    DOWN = "d"
    REMOVE = "x"  # asks first
    REMOVE_YES = "X"


class OrgQuestionCb(Bounded, CallbackData, prefix="oq"):
    BOUNDS: ClassVar[Bounds] = {"org": ROW_ID}

    action: OrgQuestionAction
    org: int
    q: str = ""  # the question's key (domain.use_cases.organiser_questions.question_key)
    lang: str = ""


# ---- /settings (issue 14, handlers/organiser/settings.py and settings_texts.py) ------------------------------------


class SettingsAction(enum.StrEnum):
    MAIN = "m"  # the overview
    CANCEL = "x"  # stop typing a value: back to the overview
    EVENTS = "v"  # instant or confirmed, per event
    TEXTS = "t"  # the three texts
    BUTTON = "b"  # the Book button


class SettingsCb(Bounded, CallbackData, prefix="st"):
    BOUNDS: ClassVar[Bounds] = {"org": ROW_ID}

    action: SettingsAction
    org: int


class SettingEditCb(Bounded, CallbackData, prefix="se"):
    """Type a new value of ``setting``."""

    BOUNDS: ClassVar[Bounds] = {"org": ROW_ID}

    org: int
    setting: Setting


class ConfirmationCb(Bounded, CallbackData, prefix="sc"):
    """Make ``event`` instant or confirmed by the organiser."""

    BOUNDS: ClassVar[Bounds] = {"org": ROW_ID, "event": ROW_ID}

    org: int
    event: int
    mode: Confirmation


class TextAction(enum.StrEnum):
    OPEN = "o"  # the kind's screen: each language's text or the default wording
    EDIT = "e"  # type the text in ``lang``
    SAVE = "s"  # save the previewed draft
    DROP = "d"  # remove ``lang``'s text: the default wording again
    PREVIEW = "p"  # every language, as tourists would read it


class TextCb(Bounded, CallbackData, prefix="sx"):
    BOUNDS: ClassVar[Bounds] = {"org": ROW_ID}

    action: TextAction
    org: int
    kind: TextKind
    lang: str = ""  # checked against the bot's languages


class ButtonAction(enum.StrEnum):
    STYLE = "y"  # the colour ``style``
    LABEL = "l"  # type the label in ``lang``
    RESET = "r"  # ``lang``'s label back to the default


class BookButtonCb(Bounded, CallbackData, prefix="sb"):
    BOUNDS: ClassVar[Bounds] = {"org": ROW_ID}

    action: ButtonAction
    org: int
    style: ButtonStyle = ButtonStyle.DEFAULT
    lang: str = ""


# ---- the day itself (handlers/organiser/checkin.py, day.py) ----------------------------------------------------------


class CheckinCb(CallbackData, prefix="ci"):
    """Check this order's ticket in (the organiser of the event or an operator; checked on the server)."""

    order: int


class ManifestAction(enum.StrEnum):
    REFRESH = "r"  # the participant list as it stands now (who has checked in)
    AT_POINT = "p"  # "We're at the meeting point": asks to confirm first
    AT_POINT_SEND = "s"  # ... confirmed: tell the session's tourists


class ManifestCb(CallbackData, prefix="cm"):
    action: ManifestAction
    session: int


class LateCb(CallbackData, prefix="cl"):
    """The tourist is running late (their own order, on the day)."""

    order: int
