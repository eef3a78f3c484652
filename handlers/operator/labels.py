"""Words the desk shows for an order's state, in the operators' language (translated where shown)."""

from __future__ import annotations

from domain.model.orders import Stage
from handlers.ui import N_, Translator

# An order's stage in a word or two (the tourist's own screens say it in longer, friendlier words).
STAGE_WORDS: dict[Stage, str] = {
    Stage.AWAITING_ORGANISER: N_("awaiting the organiser"),
    Stage.AWAITING_PAYMENT: N_("awaiting payment"),
    Stage.PAY_ON_SITE: N_("confirmed, pays on site"),
    Stage.PAID: N_("paid"),
    Stage.DECLINED: N_("declined"),
    Stage.CANCELLED: N_("cancelled"),
    Stage.REFUND_DUE: N_("refund due"),
    Stage.REFUNDED: N_("refunded"),
    Stage.EXPIRED: N_("expired"),
    Stage.SESSION_CANCELLED: N_("session cancelled"),
    Stage.ATTENDED: N_("attended"),
    Stage.NO_SHOW: N_("no-show"),
    Stage.PAST: N_("session over"),
}


def stage_word(tr: Translator, stage: Stage) -> str:
    return tr.gettext(STAGE_WORDS[stage]) if stage in STAGE_WORDS else stage.value
