"""The eight regions of the demo catalog (``tripdesk demo-data``): Baltic and Nordic cities and resorts with their
real time zones, currencies, mobile number prefixes, streets and meeting points, and how many hotels and organisers
each has at scale 1."""

from __future__ import annotations

from dataclasses import dataclass

T = dict[str, str]  # translations


@dataclass(frozen=True, slots=True)
class DemoRegion:
    code: str
    timezone: str
    name: T
    currency: str
    phone_prefixes: tuple[str, ...]  # country code + mobile prefix, 7 random digits follow
    hotels: int  # at scale 1
    organisers: int  # at scale 1
    guide_languages: tuple[str, ...]  # besides English
    organiser_languages: tuple[tuple[str, int], ...]  # (language, weight)
    places: tuple[str, ...]  # streets and districts for hotel and organiser names
    meeting_points: tuple[tuple[T, bool], ...]  # (translations, on the water)


def tr(en: str, ru: str, de: str, et: str) -> T:
    """A text in the demo's four languages."""
    return {"en": en, "ru": ru, "de": de, "et": et}


REGIONS: tuple[DemoRegion, ...] = (
    DemoRegion(
        "tallinn",
        "Europe/Tallinn",
        tr("Tallinn", "Таллин", "Tallinn", "Tallinn"),
        "EUR",
        ("3725",),
        190,
        45,
        ("et", "ru", "de", "fi"),
        (("et", 4), ("ru", 3), ("en", 2), ("de", 1)),
        (
            "Viru",
            "Toompea",
            "Kadriorg",
            "Pirita",
            "Kalamaja",
            "Telliskivi",
            "Rotermann",
            "Vanalinn",
            "Kesklinn",
            "Nõmme",
            "Merivälja",
            "Pikk",
            "Lai",
            "Müürivahe",
            "Tornimäe",
            "Kalev",
        ),
        (
            (tr("Viru Gate", "Ворота Виру", "Viru-Tor", "Viru värav"), False),
            (tr("Town Hall Square", "Ратушная площадь", "Rathausplatz", "Raekoja plats"), False),
            (tr("Freedom Square", "Площадь Свободы", "Freiheitsplatz", "Vabaduse väljak"), False),
            (
                tr(
                    "Old City Harbour, Pier 3",
                    "Старый городской порт, причал 3",
                    "Alter Stadthafen, Pier 3",
                    "Vanasadam, kai 3",
                ),
                True,
            ),
            (tr("Pirita marina", "Яхтенная гавань Пирита", "Jachthafen Pirita", "Pirita jahisadam"), True),
        ),
    ),
    DemoRegion(
        "riga",
        "Europe/Riga",
        tr("Riga", "Рига", "Riga", "Riia"),
        "EUR",
        ("3712",),
        170,
        40,
        ("lv", "ru", "de"),
        (("ru", 5), ("en", 4), ("de", 1), ("et", 1)),
        (
            "Daugava",
            "Vecrīga",
            "Alberta",
            "Brīvības",
            "Elizabetes",
            "Ķīpsala",
            "Mežaparks",
            "Kalnciema",
            "Tērbatas",
            "Avotu",
            "Āgenskalns",
            "Esplanāde",
            "Doma",
            "Jēkaba",
        ),
        (
            (tr("Freedom Monument", "Памятник Свободы", "Freiheitsdenkmal", "Vabadussammas"), False),
            (tr("Riga Central Market", "Рижский центральный рынок", "Rigaer Zentralmarkt", "Riia keskturg"), False),
            (tr("Town Hall Square", "Ратушная площадь", "Rathausplatz", "Raekoja plats"), False),
            (tr("Riga Passenger Port", "Рижский пассажирский порт", "Passagierhafen Riga", "Riia reisisadam"), True),
        ),
    ),
    DemoRegion(
        "vilnius",
        "Europe/Vilnius",
        tr("Vilnius", "Вильнюс", "Vilnius", "Vilnius"),
        "EUR",
        ("3706",),
        130,
        30,
        ("lt", "ru", "de", "pl"),
        (("en", 6), ("ru", 3), ("de", 1)),
        (
            "Gediminas",
            "Užupis",
            "Pilies",
            "Didžioji",
            "Žvėrynas",
            "Antakalnis",
            "Neris",
            "Vokiečių",
            "Trakų",
            "Aušros",
            "Bernardinų",
            "Katedros",
        ),
        (
            (tr("Cathedral Square", "Кафедральная площадь", "Kathedralenplatz", "Katedraali väljak"), False),
            (tr("Gate of Dawn", "Острая брама", "Tor der Morgenröte", "Koidiku värav"), False),
            (tr("Town Hall Square", "Ратушная площадь", "Rathausplatz", "Raekoja plats"), False),
            (
                tr(
                    "Neris embankment at the White Bridge",
                    "Набережная Нярис у Белого моста",
                    "Neris-Ufer an der Weißen Brücke",
                    "Neris jõe kallas Valge silla juures",
                ),
                True,
            ),
        ),
    ),
    DemoRegion(
        "helsinki",
        "Europe/Helsinki",
        tr("Helsinki", "Хельсинки", "Helsinki", "Helsingi"),
        "EUR",
        ("35840", "35850"),
        140,
        32,
        ("fi", "sv", "ru", "et"),
        (("en", 6), ("ru", 2), ("et", 2), ("de", 1)),
        (
            "Esplanadi",
            "Kamppi",
            "Kallio",
            "Töölö",
            "Punavuori",
            "Katajanokka",
            "Eira",
            "Kruununhaka",
            "Ullanlinna",
            "Hakaniemi",
            "Lauttasaari",
            "Kaivopuisto",
        ),
        (
            (tr("Senate Square", "Сенатская площадь", "Senatsplatz", "Senati väljak"), False),
            (
                tr(
                    "Helsinki Central Station",
                    "Центральный вокзал Хельсинки",
                    "Hauptbahnhof Helsinki",
                    "Helsingi keskraudteejaam",
                ),
                False,
            ),
            (tr("Market Square", "Рыночная площадь", "Marktplatz", "Turuplats"), False),
            (tr("Market Square pier", "Причал у Рыночной площади", "Anleger am Marktplatz", "Turuplatsi kai"), True),
        ),
    ),
    DemoRegion(
        "stockholm",
        "Europe/Stockholm",
        tr("Stockholm", "Стокгольм", "Stockholm", "Stockholm"),
        "SEK",
        ("4670", "4673"),
        130,
        30,
        ("sv", "de", "fi"),
        (("en", 8), ("de", 2)),
        (
            "Gamla Stan",
            "Södermalm",
            "Östermalm",
            "Kungsholmen",
            "Vasastan",
            "Djurgården",
            "Norrmalm",
            "Skeppsholmen",
            "Slussen",
            "Riddarholmen",
            "Hornstull",
            "Strandvägen",
        ),
        (
            (
                tr(
                    "Stortorget, Gamla stan",
                    "Площадь Стурторьет, Старый город",
                    "Stortorget, Gamla stan",
                    "Stortorget, Gamla stan",
                ),
                False,
            ),
            (tr("Sergels torg", "Площадь Сергеля", "Sergels torg", "Sergeli väljak"), False),
            (
                tr("Skansen main entrance", "Главный вход в Скансен", "Haupteingang Skansen", "Skanseni peasissepääs"),
                False,
            ),
            (tr("Strömkajen pier", "Причал Стрёмкайен", "Anleger Strömkajen", "Strömkajeni kai"), True),
        ),
    ),
    DemoRegion(
        "parnu",
        "Europe/Tallinn",
        tr("Pärnu", "Пярну", "Pärnu", "Pärnu"),
        "EUR",
        ("3725",),
        50,
        20,
        ("et", "ru", "fi"),
        (("et", 5), ("ru", 3), ("en", 2)),
        ("Rüütli", "Supeluse", "Ranna", "Vallikäär", "Mere", "Rannapargi", "Kuninga", "Munamäe", "Vana-Pärnu"),
        (
            (
                tr("Pärnu Beach promenade", "Пляжный променад Пярну", "Strandpromenade Pärnu", "Pärnu rannapromenaad"),
                False,
            ),
            (tr("Tallinn Gate", "Таллинские ворота", "Tallinner Tor", "Tallinna värav"), False),
            (tr("Pärnu bus station", "Автовокзал Пярну", "Busbahnhof Pärnu", "Pärnu bussijaam"), False),
            (tr("Pärnu Yacht Club", "Пярнуский яхт-клуб", "Yachtclub Pärnu", "Pärnu jahtklubi"), True),
        ),
    ),
    DemoRegion(
        "jurmala",
        "Europe/Riga",
        tr("Jūrmala", "Юрмала", "Jūrmala", "Jūrmala"),
        "EUR",
        ("3712",),
        50,
        20,
        ("lv", "ru"),
        (("ru", 5), ("en", 3), ("de", 1), ("et", 1)),
        ("Majori", "Dzintari", "Bulduri", "Jomas", "Ķemeri", "Lielupe", "Dubulti", "Asari", "Pumpuri"),
        (
            (tr("Majori railway station", "Станция Майори", "Bahnhof Majori", "Majori raudteejaam"), False),
            (tr("Jomas Street", "Улица Йомас", "Jomas-Straße", "Jomase tänav"), False),
            (
                tr(
                    "Dzintari Concert Hall", "Концертный зал Дзинтари", "Konzertsaal Dzintari", "Dzintari kontserdisaal"
                ),
                False,
            ),
            (tr("Lielupe marina", "Яхтенная гавань Лиелупе", "Jachthafen Lielupe", "Lielupe jahisadam"), True),
        ),
    ),
    DemoRegion(
        "klaipeda",
        "Europe/Vilnius",
        tr("Klaipėda", "Клайпеда", "Klaipėda", "Klaipėda"),
        "EUR",
        ("3706",),
        45,
        20,
        ("lt", "ru", "de"),
        (("en", 5), ("ru", 3), ("de", 2)),
        ("Danė", "Smiltynė", "Melnragė", "Giruliai", "Teatro", "Tiltų", "Kuršių", "Mažvydo", "Senamiestis"),
        (
            (tr("Theatre Square", "Театральная площадь", "Theaterplatz", "Teatri väljak"), False),
            (
                tr(
                    "Klaipėda Castle Museum", "Музей Клайпедского замка", "Burgmuseum Klaipėda", "Klaipėda lossimuuseum"
                ),
                False,
            ),
            (
                tr("Old Ferry Terminal", "Старый паромный терминал", "Alter Fährterminal", "Vana parvlaevaterminal"),
                True,
            ),
            (
                tr("Smiltynė ferry pier", "Паромный причал Смильтине", "Fähranleger Smiltynė", "Smiltynė parvlaevakai"),
                True,
            ),
        ),
    ),
)

# Where each region is (latitude, longitude in degrees): when its sun sets, for the sunset trips.
POSITIONS: dict[str, tuple[float, float]] = {
    "tallinn": (59.437, 24.745),
    "riga": (56.949, 24.105),
    "vilnius": (54.687, 25.280),
    "helsinki": (60.170, 24.938),
    "stockholm": (59.329, 18.069),
    "parnu": (58.385, 24.497),
    "jurmala": (56.968, 23.770),
    "klaipeda": (55.703, 21.144),
}
