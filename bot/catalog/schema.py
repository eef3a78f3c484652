"""The catalog file as pydantic models: the fields of every entry, and the checks between the entries of one file.

``Catalog.model_validate(data)`` validates a YAML-loaded document in one pass and collects every problem; the
field types and their wording live in :mod:`bot.catalog.fields`. References to entries that are not in the file
(an event's organiser, a hotel's region) are checked on import, where the database can be seen
(:mod:`bot.catalog.store`). ``Catalog.model_json_schema()`` is what ``tripdesk catalog-schema`` prints.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from bot.catalog.fields import (
    AMOUNT_SCHEMA,
    DEFAULT_MAX_LENGTH,
    MAX_CHOICES,
    MAX_EVENT_LANGUAGES,
    MAX_TICKET_TYPES,
    MIN_CHOICES,
    TICKET_RE,
    Capacity,
    Category,
    ChatId,
    ChoiceId,
    ChoiceText,
    ConfirmationMode,
    Currency,
    Description,
    Discount,
    Duration,
    Id,
    Kind,
    Language,
    LocalTime,
    MaxLength,
    MeetingPoint,
    Name,
    OrganiserRef,
    Phone,
    QuestionId,
    QuestionText,
    RegionName,
    RegionRef,
    Status,
    TimeZone,
    Title,
    YesNo,
    amount,
    listed,
    local_to_utc,
    longest_first,
    no_repeats,
    ticket_code,
    unique_ids,
    zone,
)
from bot.catalog.place_fields import Address, AreaGuide, HotelText, Latitude, Longitude, Photos
from bot.catalog.refusals import Loc, bool_key_hint, refusals, refuse, repeated, show
from domain.model.catalog import (
    DEFAULT_CONFIRM_WITHIN,
    DEFAULT_HOLD,
    DEFAULT_PAY_WITHIN,
    DEFAULT_REMINDERS,
    DEFAULT_WAITLIST_CLAIM_WINDOW,
    Confirmation,
    QuestionKind,
    TicketType,
)
from domain.rules.durations import format_duration
from domain.rules.money import currency_exponent

KINDS = ("regions", "hotels", "organisers", "events")
MAX_REFERRAL_BONUS = 100_000  # points


class Entry(BaseModel):
    """An entry of the catalog file. The docstrings of the entries are the descriptions in the JSON Schema."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    @classmethod
    def unknown_key(cls, key: object) -> str:
        """The words for a key the entry does not have."""
        fields = _fields_of(cls)
        expected = ", ".join([name for name in fields if fields[name]] + [name for name in fields if not fields[name]])
        return f"unknown field{bool_key_hint(key)} (expected one of: {expected})"

    @model_validator(mode="before")
    @classmethod
    def fields_as_written(cls, data: object) -> object:
        """Exactly the fields of the entry (a typo is refused, never ignored); a field written with no value
        counts as absent, so the default applies or a required field is missing."""
        if not isinstance(data, Mapping):
            raise refuse(f"expected a mapping of fields, got {show(data)}")
        written = {key: value for key, value in data.items() if value is not None}
        known = _fields_of(cls)
        unknown = [((key,), refuse(cls.unknown_key(key)), value) for key, value in data.items() if key not in known]
        missing = [
            ((key,), refuse("missing (required)"), None)
            for key, required in known.items()
            if required and key not in written
        ]
        if unknown or missing:  # not the entry it should be: its fields are not read further
            raise refusals(unknown + missing)
        return written


@cache
def _fields_of(entry: type[Entry]) -> dict[str, bool]:
    """The fields of ``entry`` as written in the file, each with whether it is required."""
    return {field.alias or name: field.is_required() for name, field in entry.model_fields.items()}


class RegionPointsSpec(Entry):
    """Loyalty points in the region: an attended order earns earn_percent of the amount paid (1 point = 0.01 of the
    currency), and a referral gives referral_bonus points to each guest after the invited one's first attended
    booking (docs/catalog.md)."""

    earn_percent: Discount = 0
    referral_bonus: Annotated[int, Field(ge=0, le=MAX_REFERRAL_BONUS)] = 0


class OrganiserPointsSpec(Entry):
    """The organiser's own earn_percent, in place of its events' regions'."""

    earn_percent: Discount


class RegionSpec(Entry):
    """A region: its time zone applies to the sessions of its events."""

    code: Id = Field(alias="id")
    timezone: TimeZone
    name: RegionName
    guide: AreaGuide = Field(default_factory=dict)  # the area guide, per language
    points: RegionPointsSpec | None = None  # loyalty (issue 15): bot/catalog/points_store.py


class PointSpec(Entry):
    """A place on the map: latitude and longitude in degrees."""

    latitude: Latitude
    longitude: Longitude


class HotelSpec(Entry):
    """A partner hotel; its guests get discount_percent off the events; its page tells them what it offers."""

    code: Id = Field(alias="id")
    region: RegionRef
    name: Name
    discount_percent: Discount = 0
    # the hotel's page (issue 15): bot/catalog/store_places.py
    address: Address | None = None
    location: PointSpec | None = None
    free: HotelText = Field(default_factory=dict)
    paid: HotelText = Field(default_factory=dict)
    timetable: HotelText = Field(default_factory=dict)
    sights: HotelText = Field(default_factory=dict)


class ChoiceSpec(Entry):
    """One answer of a choice question, shown as a button."""

    id: ChoiceId
    text: ChoiceText


class QuestionSpec(Entry):
    """A question asked of every tourist booking one of the organiser's events."""

    id: QuestionId
    text: QuestionText
    kind: Kind = QuestionKind.TEXT
    required: YesNo = True
    max_length: MaxLength = DEFAULT_MAX_LENGTH
    choices: Annotated[
        tuple[ChoiceSpec, ...],
        WrapValidator(listed(f"a list of {MIN_CHOICES} to {MAX_CHOICES} choices")),
        AfterValidator(unique_ids("choice id", attribute="id")),
    ] = ()

    @model_validator(mode="after")
    def choices_fit_the_kind(self) -> QuestionSpec:
        if self.kind is QuestionKind.CHOICE and not MIN_CHOICES <= len(self.choices) <= MAX_CHOICES:
            needs = f"a choice question needs {MIN_CHOICES} to {MAX_CHOICES} choices, got {len(self.choices)}"
            raise refusals([(("choices",), refuse(needs), self.choices)])
        if self.kind is not QuestionKind.CHOICE and "choices" in self.model_fields_set:
            raise refusals([(("choices",), refuse("only a question of kind: choice has choices"), self.choices)])
        return self


class OrganiserSpec(Entry):
    """An organiser: where its booking requests go and how long each step may take."""

    code: Id = Field(alias="id")
    name: Name
    chat_id: ChatId
    language: Language
    phone: Phone = None
    # The defaults are shown in the JSON Schema as the file writes them (10m), not as ISO 8601 (PT10M).
    confirm_within: Duration = Field(
        default=DEFAULT_CONFIRM_WITHIN, json_schema_extra={"default": format_duration(DEFAULT_CONFIRM_WITHIN)}
    )
    pay_within: Duration = Field(
        default=DEFAULT_PAY_WITHIN, json_schema_extra={"default": format_duration(DEFAULT_PAY_WITHIN)}
    )
    hold: Duration = Field(default=DEFAULT_HOLD, json_schema_extra={"default": format_duration(DEFAULT_HOLD)})
    waitlist_claim_window: Duration = Field(
        default=DEFAULT_WAITLIST_CLAIM_WINDOW,
        json_schema_extra={"default": format_duration(DEFAULT_WAITLIST_CLAIM_WINDOW)},
    )
    reminders: Annotated[
        tuple[Duration, ...],
        WrapValidator(listed("a list of durations such as [24h, 2h]")),
        AfterValidator(no_repeats(format_duration)),
        AfterValidator(longest_first),
    ] = Field(
        default=DEFAULT_REMINDERS,
        json_schema_extra={"default": [format_duration(r) for r in DEFAULT_REMINDERS], "uniqueItems": True},
    )
    questions: Annotated[
        tuple[QuestionSpec, ...], WrapValidator(listed()), AfterValidator(unique_ids("question id", attribute="id"))
    ] = ()
    points: OrganiserPointsSpec | None = None  # loyalty (issue 15): its earn_percent over the region's


class SessionSpec(Entry):
    """A session of the event: its start in the region's time, its seats, and "cancelled" to take it off sale."""

    # starts_at is naive (the region's wall-clock time) unless the file wrote an offset. A missing status is
    # "scheduled" for a new session and leaves an existing one as it is (see bot.catalog.store).
    starts_at: LocalTime
    capacity: Capacity
    status: Status | None = None
    # a hot on-sale (the waiting room): each unset field is the event's
    hot: YesNo | None = None
    sale_opens_at: LocalTime | None = None
    admission_window: Duration | None = None

    @property
    def label(self) -> str:
        return self.starts_at.isoformat(timespec="minutes")


_PRICES_SCHEMA = {
    "type": "object",
    "description": 'ticket types and their prices, e.g. {adult: "45.00", child: "25.00"}',
    "minProperties": 1,
    "maxProperties": MAX_TICKET_TYPES,
    "propertyNames": {"pattern": TICKET_RE.pattern},
    "additionalProperties": AMOUNT_SCHEMA,
}


class EventSpec(Entry):
    """An event of an organiser in a region, and its sessions."""

    code: Id = Field(alias="id")
    organiser: OrganiserRef
    region: RegionRef
    category: Category
    title: Title
    description: Description = Field(default_factory=dict)
    meeting_point: MeetingPoint = Field(default_factory=dict)
    meeting_location: PointSpec | None = None  # the meeting point on the map (issue 15)
    meeting_address: Address | None = None
    photos: Photos = ()
    duration: Duration
    languages: Annotated[
        tuple[Language, ...],
        Field(min_length=1, max_length=MAX_EVENT_LANGUAGES, json_schema_extra={"uniqueItems": True}),
        WrapValidator(
            listed(f"a list of 1 to {MAX_EVENT_LANGUAGES} language codes such as [en, ru]", (1, MAX_EVENT_LANGUAGES))
        ),
        AfterValidator(no_repeats(show)),
    ]
    currency: Currency
    prices: Annotated[tuple[TicketType, ...], WithJsonSchema(_PRICES_SCHEMA)]  # after currency: read in its units
    confirmation: ConfirmationMode = Confirmation.REQUIRED
    # a hot on-sale (the waiting room), for every session that does not say otherwise
    hot: YesNo = False
    sale_opens_at: LocalTime | None = None
    admission_window: Duration | None = None
    sessions: Annotated[tuple[SessionSpec, ...], WrapValidator(listed())] = ()

    @field_validator("prices", mode="plain")
    @classmethod
    def prices_in_minor_units(cls, value: object, info: ValidationInfo) -> tuple[TicketType, ...]:
        """``{adult: "45.00"}`` in the event's currency as ``(TicketType("adult", 4500),)``, in the file's order."""
        if not isinstance(value, Mapping) or not 1 <= len(value) <= MAX_TICKET_TYPES:
            count = f"{len(value)} ticket types" if isinstance(value, Mapping) else show(value)
            raise refuse(
                f'expected 1 to {MAX_TICKET_TYPES} ticket types such as {{adult: "45.00", child: "25.00"}}, got {count}'
            )
        currency: str | None = info.data.get("currency")  # None: the currency is refused, and the entry with it
        prices: list[TicketType] = []
        found: list[tuple[Loc, PydanticCustomError, object]] = []
        for ticket, written in value.items():
            try:
                code, price = ticket_code(ticket), amount(written)
            except PydanticCustomError as error:
                found.append(((ticket,), error, written))
                continue
            if currency is None:
                continue
            exponent = currency_exponent(currency)
            minor = price.scaleb(exponent)
            if minor != minor.to_integral_value():
                places = f"{show(written)} has more than {exponent} decimal places for {currency}"
                found.append(((ticket,), refuse(places), written))
            else:
                prices.append(TicketType(code=code, price_minor=int(minor)))
        if found:
            raise refusals(found)
        return tuple(prices)


class Catalog(Entry):
    """A Tripdesk catalog file: regions, partner hotels, organisers and their events (docs/catalog.md)."""

    model_config = ConfigDict(title="Tripdesk catalog")

    regions: Annotated[tuple[RegionSpec, ...], WrapValidator(listed()), AfterValidator(unique_ids("region id"))] = ()
    hotels: Annotated[tuple[HotelSpec, ...], WrapValidator(listed()), AfterValidator(unique_ids("hotel id"))] = ()
    organisers: Annotated[
        tuple[OrganiserSpec, ...], WrapValidator(listed()), AfterValidator(unique_ids("organiser id"))
    ] = ()
    events: Annotated[tuple[EventSpec, ...], WrapValidator(listed()), AfterValidator(unique_ids("event id"))] = ()

    @classmethod
    def unknown_key(cls, key: object) -> str:
        return f"unknown section (expected: {', '.join(KINDS)})"

    @field_validator("events")
    @classmethod
    def sessions_fit_their_region(cls, events: tuple[EventSpec, ...], info: ValidationInfo) -> tuple[EventSpec, ...]:
        """Where the event's region is in the file, its session times must exist there (not in the hour the clocks
        skip); two sessions of an event never start at the same time. Regions in the database: on import."""
        zones = {region.code: zone(region.timezone) for region in info.data.get("regions", ())}
        found: list[tuple[Loc, PydanticCustomError, object]] = []
        for i, event in enumerate(events):
            where = zones.get(event.region)
            first: dict[datetime, int] = {}
            for j, session in enumerate(event.sessions):
                key = session.starts_at
                if where is not None:
                    try:
                        key = local_to_utc(session.starts_at, where)
                    except ValueError as exc:
                        found.append(((i, "sessions", j, "starts_at"), refuse(str(exc)), session.starts_at))
                        continue
                if key in first:
                    twice = repeated("a second session at the same time", (first[key], "starts_at"))
                    found.append(((i, "sessions", j, "starts_at"), twice, session.starts_at))
                else:
                    first[key] = j
        if found:
            raise refusals(found)
        return events

    @property
    def session_count(self) -> int:
        return sum(len(event.sessions) for event in self.events)


def catalog_json_schema() -> dict[str, Any]:
    """The JSON Schema of the catalog file, for editors (``tripdesk catalog-schema``)."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **Catalog.model_json_schema()}
