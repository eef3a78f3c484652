"""A guest's favourite events (issue 15): a ☆ on the event card, the "My favourites" screen, and optional alerts.

Alerts are a switch per favourite (🔔, on when the favourite is added): a guest may want to hear about one excursion
and only keep another in the list. Two things are told, each at most once per guest and session:

- **new dates**: sessions of the event added after the guest starred it (by the catalog import or by the organiser
  in ``/sessions``); ``seen_session_id`` is the highest session id the guest has been told about (or that existed
  when they starred it or turned the alerts on), so each new session is in exactly one alert;
- **seats again**: a session of the event that was sold out has free seats the waitlist did not take (the waitlist
  gets freed seats first; see ``domain/use_cases/favourites.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.errors import DomainError

# how many favourites one guest may keep (the list is one screen)
MAX_FAVOURITES = 30


class FavouritesFull(DomainError):
    """The guest keeps :data:`MAX_FAVOURITES` favourites already: one must go before another comes."""

    code = "favourites_full"


@dataclass(frozen=True, slots=True)
class Favourite:
    user_id: int
    event_id: int
    created_at: datetime
    alerts: bool = True
    seen_session_id: int = 0
