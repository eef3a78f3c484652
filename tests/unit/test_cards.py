"""A problem card: every change is a method of :class:`Card`, refused on a resolved card (nothing changes then)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import CardClosed, DomainError, InvalidTransition
from domain.model.desk import SNOOZES, Card, CardStatus

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def make_card() -> Card:
    return Card(
        subject="order:7",
        kinds=["unpaid"],
        opened_at=NOW,
        updated_at=NOW,
        order_id=7,
        remind_at=NOW + timedelta(minutes=30),
        id=3,
    )


CHANGES = [
    pytest.param(lambda c: c.record("operator:1", "Ann", "remind", NOW), id="record"),
    pytest.param(lambda c: c.set_kinds(["refund_due"]), id="set_kinds"),
    pytest.param(lambda c: c.take(1, "Ann", NOW), id="take"),
    pytest.param(lambda c: c.snooze(1, "Ann", SNOOZES[0], NOW), id="snooze"),
    pytest.param(lambda c: c.reraise(NOW + timedelta(hours=1)), id="reraise"),
    pytest.param(lambda c: c.repost(), id="repost"),
    pytest.param(lambda c: c.resolve("operator:2", "Bob", "resolve", NOW), id="resolve"),
]


@pytest.mark.parametrize("change", CHANGES)
def test_a_resolved_card_refuses_every_change(change: Callable[[Card], object]) -> None:
    card = make_card()
    card.resolve("system", None, "back_to_normal", NOW)
    before = copy.deepcopy(card)
    with pytest.raises(CardClosed) as refused:
        change(card)
    assert card == before
    assert refused.value.data == {"card": 3, "resolved_by": None, "resolution": "back_to_normal"}


def test_take_snooze_and_resolve() -> None:
    card = make_card()
    card.take(1, "Ann", NOW)
    assert (card.taken_by, card.taken_by_name, card.last_action) == (
        1,
        "Ann",
        {"actor": "operator:1", "by": "Ann", "action": "take", "at": NOW.isoformat()},
    )
    card.snooze(1, "Ann", timedelta(hours=1), NOW)
    assert card.snoozed_until == card.remind_at == NOW + timedelta(hours=1)
    assert card.last_action is not None and card.last_action["minutes"] == 60
    card.resolve("operator:1", "Ann", "resolve", NOW)
    assert (card.status, card.resolved_by_name, card.remind_at) == (CardStatus.RESOLVED, "Ann", None)


def test_only_the_offered_snoozes() -> None:
    card = make_card()
    before = copy.deepcopy(card)
    with pytest.raises(DomainError) as refused:
        card.snooze(1, "Ann", timedelta(minutes=10), NOW)
    assert refused.value.data == {"snooze": 600.0}
    assert card == before


def test_a_card_is_raised_again_only_when_due() -> None:
    card = make_card()
    with pytest.raises(InvalidTransition):
        card.reraise(NOW)  # due in 30 minutes
    card.reraise(NOW + timedelta(minutes=30))
    assert (card.remind_at, card.reraised_at, card.snoozed_until) == (None, NOW + timedelta(minutes=30), None)
    with pytest.raises(InvalidTransition):
        card.reraise(NOW + timedelta(hours=1))  # once: nothing is due any more


def test_each_change_is_a_new_version() -> None:
    card = make_card()
    card.new_version(NOW + timedelta(minutes=1))
    assert (card.version, card.updated_at) == (1, NOW + timedelta(minutes=1))
    card.message_id, card.digest_id = 55, 29
    card.repost()
    assert (card.message_id, card.digest_id) == (None, None)
