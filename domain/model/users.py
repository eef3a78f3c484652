"""The tourist as the bot knows them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.errors import InvalidPhone


@dataclass(slots=True)
class User:
    id: int  # Telegram user id
    language: str
    created_at: datetime
    first_name: str | None = None
    username: str | None = None
    phone: str | None = None  # E.164
    hotel_id: int | None = None
    region_id: int | None = None  # the region last browsed; hotel search happens in it
    blocked_bot: bool = False

    @property
    def display_name(self) -> str:
        """What operators call the tourist: their first name, else their Telegram id."""
        return self.first_name or str(self.id)


def normalize_phone(raw: str) -> str:
    """A phone number as E.164 (``+3725550001``); raises :class:`InvalidPhone` if it is not a valid number.

    Telegram shares contacts without the leading ``+``; numbers are international by construction there.
    """
    import phonenumbers  # here, not at the top: ~0.8 MiB the bot keeps for life, for the few who share a phone

    text = raw.strip()
    if not text.startswith("+"):
        text = "+" + text
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        raise InvalidPhone() from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone()
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(phone: str | None) -> str:
    """``+3725550001`` -> ``+372•••••01``: enough to recognise, not enough to dial."""
    if not phone:
        return ""
    return phone[:4] + "•" * max(len(phone) - 6, 0) + phone[-2:]
