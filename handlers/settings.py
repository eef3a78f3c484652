"""What the handlers read of the configuration: a port that ``bot.config.Settings`` implements; the Dispatcher
injects it as ``settings``."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from domain.model.desk import DeskSettings


class HandlerSettings(Protocol):
    @property
    def operator_chat_id(self) -> int | None:
        """The operators' group; None: no desk."""

    @property
    def admin_ids(self) -> tuple[int, ...]: ...

    @property
    def default_locale(self) -> str: ...

    @property
    def question_answer_within(self) -> timedelta: ...

    @property
    def desk(self) -> DeskSettings: ...

    @property
    def payments_enabled(self) -> bool: ...

    @property
    def desk_timezone(self) -> str | None:
        """The zone every time on the desk is shown in; None: the first region's."""
