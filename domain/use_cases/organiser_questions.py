"""An organiser edits the questions every booking of their events asks (issue 14): add, edit, reorder, remove; free
text with a length limit, or choices; required or not; each text per language.

Each change is one transaction on the organiser's row, locked while it is read and written, with its audit entry.
A change applies to the next booking; orders keep the answers they gave: a removed question is kept aside
(``Organiser.retired_questions``), no longer asked, so an earlier order still shows its answer; choices are fixed
once a question has them (a different set is a new question), so an answer's choice never changes meaning.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from domain.errors import DomainError, NotFound
from domain.model.catalog import Choice, Organiser, Question, QuestionKind
from domain.ports import UnitOfWork
from domain.use_cases.organiser_access import OrganiserActor, audit_organiser_change, organiser_for

# as the catalog file allows (bot/catalog/fields.py)
QUESTION_TEXT_MAX = 500
CHOICE_TEXT_MAX = 64  # a button's label
CHOICES_RANGE = (2, 10)
MAX_LENGTH_RANGE = (1, 1000)
DEFAULT_MAX_LENGTH = 200
MAX_QUESTIONS = 10  # asked at each booking: more would tire anyone
QUESTIONS_KEY = "questions"  # the note of an organiser's change the catalog import reads (bot/catalog/changes.py)


class QuestionRefused(DomainError):
    """``reason``: ``empty``, ``too_long`` (``limit``), ``choices`` (``low``..``high`` of them), ``choice_too_long``
    (``limit``), ``same_choices``, ``choices_count`` (the other language has ``count``), ``bad_limit``
    (``low``..``high``), ``too_many`` (``limit``), ``last_language``, ``not_text``, ``not_choice``."""

    code = "question_refused"


def question_key(question_id: str) -> str:
    """A short stable key of a question for buttons (a catalog id may be too long for callback data)."""
    return hashlib.sha1(question_id.encode()).hexdigest()[:8]


def find_question(questions: Sequence[Question], key: str) -> Question | None:
    return next((q for q in questions if question_key(q.id) == key), None)


def check_text(text: str | None, limit: int = QUESTION_TEXT_MAX) -> str:
    cleaned = " ".join((text or "").split())
    if not cleaned:
        raise QuestionRefused(reason="empty")
    if len(cleaned) > limit:
        raise QuestionRefused(reason="too_long", limit=limit, length=len(cleaned))
    return cleaned


def check_choices(text: str | None) -> list[str]:
    """One choice a line."""
    lines = [" ".join(line.split()) for line in (text or "").splitlines()]
    choices = [line for line in lines if line]
    low, high = CHOICES_RANGE
    if not low <= len(choices) <= high:
        raise QuestionRefused(reason="choices", low=low, high=high)
    if any(len(c) > CHOICE_TEXT_MAX for c in choices):
        raise QuestionRefused(reason="choice_too_long", limit=CHOICE_TEXT_MAX)
    if len({c.casefold() for c in choices}) != len(choices):
        raise QuestionRefused(reason="same_choices")
    return choices


def check_limit(raw: str | None) -> int:
    low, high = MAX_LENGTH_RANGE
    text = (raw or "").strip()
    if not text.isdecimal() or not low <= int(text) <= high:
        raise QuestionRefused(reason="bad_limit", low=low, high=high)
    return int(text)


def describe(question: Question) -> dict[str, Any]:
    """A question as the audit log keeps it."""
    return {
        "id": question.id,
        "text": dict(question.text),
        "kind": question.kind.value,
        "required": question.required,
        "max_length": question.max_length,
        "choices": [{"id": c.id, "text": dict(c.text)} for c in question.choices],
    }


def _new_id(taken: set[str]) -> str:
    return next(f"q{n}" for n in range(1, len(taken) + 2) if f"q{n}" not in taken)


class _Edit:
    """The organiser's questions read under lock, changed, saved and audited in one transaction."""

    def __init__(self, uow: UnitOfWork, organiser: Organiser, asked: list[Question], removed: list[Question]) -> None:
        self.uow, self.organiser, self.asked, self.removed = uow, organiser, asked, removed

    def get(self, key: str) -> Question:
        found = find_question(self.asked, key)
        if found is None:
            raise NotFound(question=key)
        return found

    def replace(self, question: Question) -> None:
        self.asked = [question if q.id == question.id else q for q in self.asked]


async def _edit(
    uow: UnitOfWork,
    organiser_id: int,
    actor: OrganiserActor,
    now: datetime,
    action: str,
    change: Any,
) -> Organiser:
    """Run ``change(edit) -> (before, after)`` on the locked questions, then save and audit them as ``action``."""
    async with uow:
        organiser = await organiser_for(uow, organiser_id, actor)
        locked = await uow.organiser_catalog.lock_questions(organiser.id)
        if locked is None:
            raise NotFound(organiser=organiser_id)
        edit = _Edit(uow, organiser, *locked)
        # the catalog import keeps the organiser's questions while its file still says what it said then
        # (bot/catalog/changes.py); the first change since the import notes that
        before_all = [describe(q) for q in edit.asked] + [{**describe(q), "retired": True} for q in edit.removed]
        await uow.organiser_settings.note_change(organiser.id, QUESTIONS_KEY, before_all, now)
        before, after = change(edit)
        await uow.organiser_catalog.save_questions(organiser.id, edit.asked, edit.removed)
        await audit_organiser_change(uow, now, actor, action, organiser, before, after)
        await uow.commit()
    return dataclasses.replace(organiser, questions=tuple(edit.asked), retired_questions=tuple(edit.removed))


async def add_question(
    uow: UnitOfWork,
    organiser_id: int,
    language: str,
    text: str,
    choices: str | None,
    actor: OrganiserActor,
    now: datetime,
) -> Organiser:
    """A new question, last, required, in ``language``: free text when ``choices`` is None, else one choice a line."""
    wording = check_text(text)
    options = check_choices(choices) if choices is not None else None

    def change(edit: _Edit) -> tuple[dict[str, Any], dict[str, Any]]:
        if len(edit.asked) >= MAX_QUESTIONS:
            raise QuestionRefused(reason="too_many", limit=MAX_QUESTIONS)
        new_id = _new_id({q.id for q in (*edit.asked, *edit.removed)})
        question = Question(
            id=new_id,
            text={language: wording},
            kind=QuestionKind.TEXT if options is None else QuestionKind.CHOICE,
            required=True,
            max_length=DEFAULT_MAX_LENGTH,
            choices=tuple(Choice(id=f"c{n}", text={language: c}) for n, c in enumerate(options or (), 1)),
        )
        edit.asked.append(question)
        return {}, {"question": describe(question)}

    return await _edit(uow, organiser_id, actor, now, "question.added", change)


async def set_question_text(
    uow: UnitOfWork, organiser_id: int, key: str, language: str, text: str | None, actor: OrganiserActor, now: datetime
) -> Organiser:
    """The question's text in ``language``; ``text`` None removes that language (never the last one)."""
    wording = check_text(text) if text is not None else None

    def change(edit: _Edit) -> tuple[dict[str, Any], dict[str, Any]]:
        question = edit.get(key)
        texts = dict(question.text)
        if wording is None:
            texts.pop(language, None)
            if not texts:
                raise QuestionRefused(reason="last_language")
        else:
            texts[language] = wording
        changed = dataclasses.replace(question, text=texts)
        edit.replace(changed)
        return {"question": describe(question)}, {"question": describe(changed)}

    return await _edit(uow, organiser_id, actor, now, "question.text_changed", change)


async def set_choice_texts(
    uow: UnitOfWork, organiser_id: int, key: str, language: str, lines: str, actor: OrganiserActor, now: datetime
) -> Organiser:
    """The choices' labels in ``language``, one per line in the order they have (the same number of them)."""
    given = [line for line in lines.splitlines() if line.strip()]

    def change(edit: _Edit) -> tuple[dict[str, Any], dict[str, Any]]:
        question = edit.get(key)
        if question.kind is not QuestionKind.CHOICE:
            raise QuestionRefused(reason="not_choice")
        if len(given) != len(question.choices):
            raise QuestionRefused(reason="choices_count", count=len(question.choices))
        labels = check_choices(lines)
        choices = tuple(
            Choice(id=c.id, text={**c.text, language: label}) for c, label in zip(question.choices, labels, strict=True)
        )
        changed = dataclasses.replace(question, choices=choices)
        edit.replace(changed)
        return {"question": describe(question)}, {"question": describe(changed)}

    return await _edit(uow, organiser_id, actor, now, "question.choices_changed", change)


async def set_required(
    uow: UnitOfWork, organiser_id: int, key: str, required: bool, actor: OrganiserActor, now: datetime
) -> Organiser:
    def change(edit: _Edit) -> tuple[dict[str, Any], dict[str, Any]]:
        question = edit.get(key)
        changed = dataclasses.replace(question, required=required)
        edit.replace(changed)
        return {"question": question.id, "required": question.required}, {"question": question.id, "required": required}

    return await _edit(uow, organiser_id, actor, now, "question.required_changed", change)


async def set_answer_limit(
    uow: UnitOfWork, organiser_id: int, key: str, raw: str, actor: OrganiserActor, now: datetime
) -> Organiser:
    """The longest answer a free-text question takes (applies to the next booking)."""
    limit = check_limit(raw)

    def change(edit: _Edit) -> tuple[dict[str, Any], dict[str, Any]]:
        question = edit.get(key)
        if question.kind is not QuestionKind.TEXT:
            raise QuestionRefused(reason="not_text")
        changed = dataclasses.replace(question, max_length=limit)
        edit.replace(changed)
        return (
            {"question": question.id, "max_length": question.max_length},
            {"question": question.id, "max_length": limit},
        )

    return await _edit(uow, organiser_id, actor, now, "question.limit_changed", change)


async def move_question(
    uow: UnitOfWork, organiser_id: int, key: str, up: bool, actor: OrganiserActor, now: datetime
) -> Organiser:
    """One place earlier (``up``) or later; at either end nothing moves."""

    def change(edit: _Edit) -> tuple[dict[str, Any], dict[str, Any]]:
        question = edit.get(key)
        order = [q.id for q in edit.asked]
        at = order.index(question.id)
        to = at - 1 if up else at + 1
        if 0 <= to < len(edit.asked):
            edit.asked[at], edit.asked[to] = edit.asked[to], edit.asked[at]
        return {"order": order}, {"order": [q.id for q in edit.asked]}

    return await _edit(uow, organiser_id, actor, now, "question.moved", change)


async def remove_question(
    uow: UnitOfWork, organiser_id: int, key: str, actor: OrganiserActor, now: datetime
) -> Organiser:
    """No longer asked; kept aside so the orders that answered it still show the answer."""

    def change(edit: _Edit) -> tuple[dict[str, Any], dict[str, Any]]:
        question = edit.get(key)
        edit.asked = [q for q in edit.asked if q.id != question.id]
        edit.removed.append(question)
        return {"question": describe(question)}, {"question": question.id, "removed": True}

    return await _edit(uow, organiser_id, actor, now, "question.removed", change)


async def organiser_questions(uow: UnitOfWork, organiser_id: int, actor: OrganiserActor) -> Organiser:
    """The organiser with their questions as the database has them now (for a screen)."""
    async with uow:
        organiser = await organiser_for(uow, organiser_id, actor)
        locked = await uow.organiser_catalog.lock_questions(organiser.id)
    if locked is None:
        raise NotFound(organiser=organiser_id)
    return dataclasses.replace(organiser, questions=tuple(locked[0]), retired_questions=tuple(locked[1]))
