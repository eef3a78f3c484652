"""An organiser's answer to a booking request, in any of our languages: yes, no (with a reason), or unclear.

Only the first word decides; nothing is guessed: "maybe", "call me" or "ок, но позже?" are unclear, and unclear
replies go to the operators with the organiser's text.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

YES_WORDS = frozenset(
    {
        "+",
        "++",
        "+1",
        "ok",
        "okay",
        "okey",
        "yes",
        "y",
        "yep",
        "yeah",
        "sure",
        "confirm",
        "confirmed",  # en
        "да",
        "ок",
        "ага",
        "угу",
        "подтверждаю",
        "подтверждено",
        "конечно",
        "давай",
        "давайте",  # ru
        "ja",
        "jawohl",
        "klar",
        "bestätigt",
        "bestätige",
        "gerne",  # de
        "jah",
        "jaa",
        "jep",
        "jes",
        "sobib",
        "kinnitan",
        "kinnitatud",
        "olgu",
        "muidugi",  # et
        "👍",
        "✅",
        "✔",
        "✔️",
        "👌",
    }
)
NO_WORDS = frozenset(
    {
        "-",
        "−",
        "–",
        "—",
        "--",
        "-1",
        "no",
        "n",
        "nope",
        "decline",
        "declined",
        "cancel",  # en
        "нет",
        "не",
        "неа",
        "отказ",
        "отказываю",
        "отмена",  # ru
        "nein",
        "nö",
        "ablehnen",
        "abgelehnt",
        "leider",  # de
        "ei",
        "eip",
        "keeldun",
        "tühista",  # et
        "👎",
        "❌",
        "✖",
        "✖️",
        "⛔",
    }
)

_SIGN = re.compile(r"^([+\-−–—]+1?)(?!\d)(.*)$", re.DOTALL)  # "+", "-no boat", "+1"
_FIRST = re.compile(r"^(\S+?)(?=[\s,.;:!)]|$)[\s,.;:!)]*(.*)$", re.DOTALL)
MAX_REASON = 500


class Verdict(enum.StrEnum):
    YES = "yes"
    NO = "no"
    UNCLEAR = "unclear"


@dataclass(frozen=True, slots=True)
class OrganiserReply:
    verdict: Verdict
    reason: str = ""  # for NO: the rest of the message


def parse_organiser_reply(text: str | None) -> OrganiserReply:
    if not text or not text.strip() or "?" in text:  # a question is not an answer
        return OrganiserReply(Verdict.UNCLEAR)
    match = _SIGN.match(text.strip()) or _FIRST.match(text.strip())
    if match is None:
        return OrganiserReply(Verdict.UNCLEAR)
    word, rest = (
        match.group(1).casefold(),
        " ".join(match.group(2).strip(" ,.;:!)").split()),
    )
    if word in YES_WORDS:
        return OrganiserReply(Verdict.YES)
    if word in NO_WORDS:
        return OrganiserReply(Verdict.NO, rest[:MAX_REASON])
    return OrganiserReply(Verdict.UNCLEAR)
