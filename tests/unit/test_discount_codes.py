"""Discount codes, pure: the text, the terms a code must make sense with, the check at checkout (each refusal with
its code) and what a code takes off a total; the fake repository's uses (once per guest, never above max_uses)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import DomainError
from domain.model.discount_codes import (
    CodeAlreadyUsed,
    CodeExpired,
    CodeNotForEvent,
    CodeNotYetValid,
    CodeUnknown,
    CodeUsedUp,
    CodeWrongCurrency,
    DiscountCode,
    InvalidCodeTerms,
    check_code,
    normalize_code,
)
from domain.rules.money import Money
from tests.fakes import FakeUnitOfWork

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def a_code(**terms: object) -> DiscountCode:
    values: dict[str, object] = {
        "code": "KIHNU-10",
        "percent": 10,
        "valid_from": NOW - timedelta(days=1),
        "valid_until": NOW + timedelta(days=7),
        "created_at": NOW - timedelta(days=1),
    }
    return DiscountCode(**(values | terms))  # type: ignore[arg-type]


def test_a_typed_code_is_trimmed_and_upper_cased() -> None:
    assert normalize_code("  kihnu-10 ") == "KIHNU-10"


@pytest.mark.parametrize("text", ["", "ab", "-ABC", "WITH SPACE", "ÄÖÜ1", "X" * 33, "CODE!"])
def test_text_that_cannot_be_a_code_is_unknown(text: str) -> None:
    with pytest.raises(CodeUnknown):
        normalize_code(text)


@pytest.mark.parametrize(
    ("terms", "reason"),
    [
        ({"percent": 0}, "percent"),
        ({"percent": 101}, "percent"),
        ({"percent": None}, "percent_or_amount"),
        ({"amount_minor": 500, "currency": "EUR"}, "percent_or_amount"),
        ({"percent": None, "amount_minor": 0, "currency": "EUR"}, "amount"),
        ({"percent": None, "amount_minor": 500}, "amount"),
        ({"valid_until": NOW - timedelta(days=1)}, "validity"),
        ({"max_uses": 0}, "uses"),
        ({"code": "lower"}, "text"),
    ],
)
def test_terms_that_make_no_sense_are_refused(terms: dict[str, object], reason: str) -> None:
    with pytest.raises(InvalidCodeTerms) as refused:
        a_code(**terms)
    assert refused.value.data["reason"] == reason


def test_a_valid_code_passes_the_check() -> None:
    code = a_code(max_uses=5, used=4, event_id=3)
    assert check_code(code, now=NOW, event_id=3, used_by_guest=False) is code


@pytest.mark.parametrize(
    ("code", "event_id", "used_by_guest", "refusal"),
    [
        (None, None, False, CodeUnknown),
        (a_code(valid_from=NOW + timedelta(hours=1)), None, False, CodeNotYetValid),
        (a_code(valid_until=NOW), None, False, CodeExpired),
        (a_code(event_id=3), 4, False, CodeNotForEvent),
        (a_code(max_uses=5, used=5), None, False, CodeUsedUp),
        (a_code(), None, True, CodeAlreadyUsed),
    ],
)
def test_the_check_refuses_with_a_code(
    code: DiscountCode | None, event_id: int | None, used_by_guest: bool, refusal: type[DomainError]
) -> None:
    with pytest.raises(refusal) as refused:
        check_code(code, now=NOW, event_id=event_id, used_by_guest=used_by_guest)
    assert refused.value.code.startswith("code_")


def test_a_percentage_and_a_fixed_amount_off_a_total() -> None:
    assert a_code(percent=15).discount_on(Money(3333, "EUR")) == Money(500, "EUR")  # 28.33 kept, half up
    fixed = a_code(percent=None, amount_minor=1000, currency="EUR")
    assert fixed.discount_on(Money(4500, "EUR")) == Money(1000, "EUR")
    assert fixed.discount_on(Money(700, "EUR")) == Money(630, "EUR")  # at most 90 %: a tenth is left to pay
    with pytest.raises(InvalidCodeTerms):
        a_code(percent=100)  # nothing left to invoice
    with pytest.raises(CodeWrongCurrency):
        fixed.discount_on(Money(4500, "USD"))


async def test_the_fake_takes_a_use_once_per_guest_and_never_above_max_uses() -> None:
    uow = FakeUnitOfWork()
    async with uow:
        assert await uow.discount_codes.add(a_code(max_uses=2)) is not None
        assert await uow.discount_codes.add(a_code()) is None  # the text is taken
        assert await uow.discount_codes.record_use("kihnu-10", 1, 11, NOW)
        assert not await uow.discount_codes.record_use("KIHNU-10", 1, 12, NOW)  # once per guest
        assert await uow.discount_codes.uses_by("kihnu-10", 1) == 1
        assert await uow.discount_codes.record_use("KIHNU-10", 2, 13, NOW)
        assert not await uow.discount_codes.record_use("KIHNU-10", 3, 14, NOW)  # used up
        assert await uow.discount_codes.release_use("KIHNU-10", 13)
        stored = await uow.discount_codes.get("kihnu-10")
        assert stored is not None and stored.used == 1 and stored.uses_left == 1
