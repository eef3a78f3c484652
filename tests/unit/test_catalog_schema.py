"""The catalog schema beyond the field messages: currencies are ISO 4217, and the JSON Schema editors use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.catalog.load import CatalogError, parse_catalog, read_catalog_file
from bot.catalog.schema import catalog_json_schema
from bot.cli import main
from domain.model.catalog import TicketType
from tests.unit.test_catalog_parse import sample

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE = EXAMPLES / "catalog.yaml"


def refusal(data: object) -> list[str]:
    with pytest.raises(CatalogError) as caught:
        parse_catalog(data)
    return caught.value.problems


# ---- ISO 4217 ------------------------------------------------------------------------------------------------------


def test_a_currency_outside_iso_4217_is_refused() -> None:
    data = sample()
    data["events"][0]["currency"] = "XYZ"
    assert refusal(data) == [
        'events[0] (islands-cruise).currency: "XYZ" is not a currency code of ISO 4217 (such as EUR or SEK)'
    ]


@pytest.mark.parametrize("currency", ["EUR", "SEK", "NOK", "USD", "JPY", "KWD"])
def test_iso_4217_currencies_are_accepted(currency: str) -> None:
    data = sample()
    data["events"][0]["currency"] = currency
    data["events"][0]["prices"] = {"adult": "45"}
    assert parse_catalog(data).events[0].currency == currency


@pytest.mark.parametrize(
    ("currency", "price", "minor", "refused"),
    [
        ("JPY", "4500", 4500, None),
        ("JPY", "45.5", None, '"45.5" has more than 0 decimal places for JPY'),
        ("KWD", "1.250", 1250, None),
        ("KWD", "1.2505", None, '"1.2505" has more than 3 decimal places for KWD'),
        ("SEK", "650.00", 65000, None),
    ],
)
def test_prices_are_read_in_the_minor_units_of_their_currency(
    currency: str, price: str, minor: int | None, refused: str | None
) -> None:
    data = sample()
    data["events"][0]["currency"] = currency
    data["events"][0]["prices"] = {"adult": price}
    if refused is None:
        assert parse_catalog(data).events[0].prices == (TicketType("adult", minor or 0),)
    else:
        assert refusal(data) == [f"events[0] (islands-cruise).prices.adult: {refused}"]


def test_a_lowercase_currency_is_still_named_as_such() -> None:
    data = sample()
    data["events"][0]["currency"] = "sek"
    assert refusal(data) == [
        'events[0] (islands-cruise).currency: "sek" is not a currency code such as EUR (3 capital letters)'
    ]


# ---- the JSON Schema -----------------------------------------------------------------------------------------------


def printed_schema(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}")
    assert main(["catalog-schema"]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_command_prints_the_json_schema(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    schema = printed_schema(capsys, monkeypatch, tmp_path)

    assert schema == json.loads(json.dumps(catalog_json_schema()))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "Tripdesk catalog"
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == {"regions", "hotels", "organisers", "events"}
    assert not tmp_path.joinpath("unused.db").exists()  # printing the schema needs no database


def test_the_schema_says_what_the_importer_checks() -> None:
    definitions = catalog_json_schema()["$defs"]
    event = definitions["EventSpec"]
    assert event["additionalProperties"] is False
    assert event["required"] == [
        "id",
        "organiser",
        "region",
        "category",
        "title",
        "duration",
        "languages",
        "currency",
        "prices",
    ]
    currencies = event["properties"]["currency"]["enum"]
    assert {"EUR", "SEK", "JPY"} <= set(currencies) and "XYZ" not in currencies
    assert event["properties"]["prices"]["maxProperties"] == 6
    assert event["properties"]["languages"]["maxItems"] == 10
    assert event["properties"]["title"]["additionalProperties"]["maxLength"] == 200
    organiser = definitions["OrganiserSpec"]["properties"]
    assert organiser["confirm_within"]["default"] == "10m"  # as the file writes it, not ISO 8601's PT10M
    assert organiser["reminders"]["default"] == ["1d", "2h"]
    assert organiser["chat_id"]["not"] == {"const": 0}
    assert definitions["QuestionKind"]["enum"] == ["text", "choice"]
    session = definitions["SessionSpec"]
    assert session["required"] == ["starts_at", "capacity"] and session["additionalProperties"] is False


def test_every_field_of_the_example_is_in_the_schema() -> None:
    schema = catalog_json_schema()

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = schema["$defs"][node["$ref"].rsplit("/", 1)[1]]
        return node

    def walk(value: object, node: dict[str, Any], where: str) -> None:
        node = resolve(node)
        if isinstance(value, dict) and "properties" in node:
            for key in node.get("required", ()):
                assert key in value, f"{where}.{key} is required by the schema"
            for key, item in value.items():
                assert key in node["properties"], f"{where}.{key} is not in the schema"
                walk(item, node["properties"][key], f"{where}.{key}")
        elif isinstance(value, list) and "items" in node:
            for i, item in enumerate(value):
                walk(item, node["items"], f"{where}[{i}]")

    walk(read_catalog_file(EXAMPLE), schema, "catalog")


def test_the_examples_schema_is_up_to_date() -> None:
    written = json.loads((EXAMPLES / "catalog.schema.json").read_text(encoding="utf-8"))
    assert written == json.loads(json.dumps(catalog_json_schema())), (
        "examples/catalog.schema.json is stale: tripdesk catalog-schema > examples/catalog.schema.json"
    )
    assert EXAMPLE.read_text(encoding="utf-8").startswith("# yaml-language-server: $schema=catalog.schema.json\n")
