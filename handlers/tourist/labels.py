"""Names of catalog codes that have no translations of their own: ticket types and categories."""

from __future__ import annotations

from handlers.ui import Translator


def ticket_type_name(code: str, tr: Translator) -> str:
    _ = tr.gettext
    names = {
        "adult": _("Adult"),
        "child": _("Child"),
        "family": _("Family"),
        "senior": _("Senior"),
        "student": _("Student"),
        "infant": _("Infant"),
        "group": _("Group"),
    }
    return names.get(code, code.replace("_", " ").replace("-", " ").capitalize())


def category_name(code: str, tr: Translator) -> str:
    _ = tr.gettext
    names = {
        "sea": _("Sea & boats"),
        "city": _("City tours"),
        "food": _("Food & drink"),
        "nature": _("Nature"),
        "history": _("History & culture"),
        "kids": _("For kids"),
        "night": _("Nightlife"),
        "adventure": _("Adventure"),
        "music": _("Music"),
        "sport": _("Sport"),
        "wellness": _("Wellness"),
        "art": _("Art"),
    }
    return names.get(code, code.replace("-", " ").capitalize())
