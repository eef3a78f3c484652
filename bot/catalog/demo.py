"""A realistic demo catalog: 8 Baltic and Nordic regions, ~900 hotels, ~240 organisers, ~700 events and several
thousand sessions over three weeks, with texts in English, Russian, German and Estonian.

The numbers follow the marketplace the design describes (905 partner hotels, 237 suppliers, 8 regions); ``scale``
multiplies hotels, organisers and events. The same ``seed`` and ``start`` always give the same file.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import phonenumbers
import yaml

DAYS = 21
LANGS = ("en", "ru", "de", "et")

T = dict[str, str]  # translations


@dataclass(frozen=True, slots=True)
class _Region:
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


def _t(en: str, ru: str, de: str, et: str) -> T:
    return {"en": en, "ru": ru, "de": de, "et": et}


REGIONS: tuple[_Region, ...] = (
    _Region(
        "tallinn",
        "Europe/Tallinn",
        _t("Tallinn", "Таллин", "Tallinn", "Tallinn"),
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
            (_t("Viru Gate", "Ворота Виру", "Viru-Tor", "Viru värav"), False),
            (_t("Town Hall Square", "Ратушная площадь", "Rathausplatz", "Raekoja plats"), False),
            (_t("Freedom Square", "Площадь Свободы", "Freiheitsplatz", "Vabaduse väljak"), False),
            (
                _t(
                    "Old City Harbour, Pier 3",
                    "Старый городской порт, причал 3",
                    "Alter Stadthafen, Pier 3",
                    "Vanasadam, kai 3",
                ),
                True,
            ),
            (_t("Pirita marina", "Яхтенная гавань Пирита", "Jachthafen Pirita", "Pirita jahisadam"), True),
        ),
    ),
    _Region(
        "riga",
        "Europe/Riga",
        _t("Riga", "Рига", "Riga", "Riia"),
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
            (_t("Freedom Monument", "Памятник Свободы", "Freiheitsdenkmal", "Vabadussammas"), False),
            (_t("Riga Central Market", "Рижский центральный рынок", "Rigaer Zentralmarkt", "Riia keskturg"), False),
            (_t("Town Hall Square", "Ратушная площадь", "Rathausplatz", "Raekoja plats"), False),
            (_t("Riga Passenger Port", "Рижский пассажирский порт", "Passagierhafen Riga", "Riia reisisadam"), True),
        ),
    ),
    _Region(
        "vilnius",
        "Europe/Vilnius",
        _t("Vilnius", "Вильнюс", "Vilnius", "Vilnius"),
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
            (_t("Cathedral Square", "Кафедральная площадь", "Kathedralenplatz", "Katedraali väljak"), False),
            (_t("Gate of Dawn", "Острая брама", "Tor der Morgenröte", "Koidiku värav"), False),
            (_t("Town Hall Square", "Ратушная площадь", "Rathausplatz", "Raekoja plats"), False),
            (
                _t(
                    "Neris embankment at the White Bridge",
                    "Набережная Нярис у Белого моста",
                    "Neris-Ufer an der Weißen Brücke",
                    "Neris jõe kallas Valge silla juures",
                ),
                True,
            ),
        ),
    ),
    _Region(
        "helsinki",
        "Europe/Helsinki",
        _t("Helsinki", "Хельсинки", "Helsinki", "Helsingi"),
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
            (_t("Senate Square", "Сенатская площадь", "Senatsplatz", "Senati väljak"), False),
            (
                _t(
                    "Helsinki Central Station",
                    "Центральный вокзал Хельсинки",
                    "Hauptbahnhof Helsinki",
                    "Helsingi keskraudteejaam",
                ),
                False,
            ),
            (_t("Market Square", "Рыночная площадь", "Marktplatz", "Turuplats"), False),
            (_t("Market Square pier", "Причал у Рыночной площади", "Anleger am Marktplatz", "Turuplatsi kai"), True),
        ),
    ),
    _Region(
        "stockholm",
        "Europe/Stockholm",
        _t("Stockholm", "Стокгольм", "Stockholm", "Stockholm"),
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
                _t(
                    "Stortorget, Gamla stan",
                    "Площадь Стурторьет, Старый город",
                    "Stortorget, Gamla stan",
                    "Stortorget, Gamla stan",
                ),
                False,
            ),
            (_t("Sergels torg", "Площадь Сергеля", "Sergels torg", "Sergeli väljak"), False),
            (
                _t("Skansen main entrance", "Главный вход в Скансен", "Haupteingang Skansen", "Skanseni peasissepääs"),
                False,
            ),
            (_t("Strömkajen pier", "Причал Стрёмкайен", "Anleger Strömkajen", "Strömkajeni kai"), True),
        ),
    ),
    _Region(
        "parnu",
        "Europe/Tallinn",
        _t("Pärnu", "Пярну", "Pärnu", "Pärnu"),
        "EUR",
        ("3725",),
        50,
        20,
        ("et", "ru", "fi"),
        (("et", 5), ("ru", 3), ("en", 2)),
        ("Rüütli", "Supeluse", "Ranna", "Vallikäär", "Mere", "Rannapargi", "Kuninga", "Munamäe", "Vana-Pärnu"),
        (
            (
                _t("Pärnu Beach promenade", "Пляжный променад Пярну", "Strandpromenade Pärnu", "Pärnu rannapromenaad"),
                False,
            ),
            (_t("Tallinn Gate", "Таллинские ворота", "Tallinner Tor", "Tallinna värav"), False),
            (_t("Pärnu bus station", "Автовокзал Пярну", "Busbahnhof Pärnu", "Pärnu bussijaam"), False),
            (_t("Pärnu Yacht Club", "Пярнуский яхт-клуб", "Yachtclub Pärnu", "Pärnu jahtklubi"), True),
        ),
    ),
    _Region(
        "jurmala",
        "Europe/Riga",
        _t("Jūrmala", "Юрмала", "Jūrmala", "Jūrmala"),
        "EUR",
        ("3712",),
        50,
        20,
        ("lv", "ru"),
        (("ru", 5), ("en", 3), ("de", 1), ("et", 1)),
        ("Majori", "Dzintari", "Bulduri", "Jomas", "Ķemeri", "Lielupe", "Dubulti", "Asari", "Pumpuri"),
        (
            (_t("Majori railway station", "Станция Майори", "Bahnhof Majori", "Majori raudteejaam"), False),
            (_t("Jomas Street", "Улица Йомас", "Jomas-Straße", "Jomase tänav"), False),
            (
                _t(
                    "Dzintari Concert Hall", "Концертный зал Дзинтари", "Konzertsaal Dzintari", "Dzintari kontserdisaal"
                ),
                False,
            ),
            (_t("Lielupe marina", "Яхтенная гавань Лиелупе", "Jachthafen Lielupe", "Lielupe jahisadam"), True),
        ),
    ),
    _Region(
        "klaipeda",
        "Europe/Vilnius",
        _t("Klaipėda", "Клайпеда", "Klaipėda", "Klaipėda"),
        "EUR",
        ("3706",),
        45,
        20,
        ("lt", "ru", "de"),
        (("en", 5), ("ru", 3), ("de", 2)),
        ("Danė", "Smiltynė", "Melnragė", "Giruliai", "Teatro", "Tiltų", "Kuršių", "Mažvydo", "Senamiestis"),
        (
            (_t("Theatre Square", "Театральная площадь", "Theaterplatz", "Teatri väljak"), False),
            (
                _t(
                    "Klaipėda Castle Museum", "Музей Клайпедского замка", "Burgmuseum Klaipėda", "Klaipėda lossimuuseum"
                ),
                False,
            ),
            (
                _t("Old Ferry Terminal", "Старый паромный терминал", "Alter Fährterminal", "Vana parvlaevaterminal"),
                True,
            ),
            (
                _t("Smiltynė ferry pier", "Паромный причал Смильтине", "Fähranleger Smiltynė", "Smiltynė parvlaevakai"),
                True,
            ),
        ),
    ),
)

HOTEL_TYPES = (
    "Hotel",
    "Spa Hotel",
    "Guesthouse",
    "Boutique Hotel",
    "Hostel",
    "Apartments",
    "Residence",
    "Inn",
    "Suites",
    "Villa",
    "Design Hotel",
    "Park Hotel",
)
HOTEL_BRANDS = (
    "Amber",
    "Baltic",
    "Nordic",
    "Old Town",
    "Harbour",
    "Seaside",
    "Garden",
    "Royal",
    "Grand",
    "City",
    "Central",
    "Forest",
    "Lighthouse",
    "Linden",
    "Birch",
    "Pine",
    "White",
    "Blue",
    "Sunny",
    "Hanseatic",
    "Northern Star",
    "Dune",
    "Riverside",
    "Skyline",
)

# What an organiser calls itself and which kinds of events it runs.
ORGANISER_KINDS: dict[str, tuple[str, ...]] = {
    "Boats": ("sea", "night"),
    "Sailing": ("sea",),
    "Kayak Club": ("adventure", "sea", "night"),
    "Walks": ("city", "history", "night"),
    "Food Tours": ("food",),
    "Heritage Tours": ("history", "city"),
    "Family Trips": ("kids", "nature"),
    "Bike Tours": ("city", "adventure"),
    "Outdoors": ("nature", "adventure"),
    "Adventures": ("adventure", "nature", "night"),
    "Tours": ("city", "history", "food", "night", "sea"),
    "Guides": ("city", "history", "nature", "kids"),
    "Excursions": ("history", "nature", "sea", "kids"),
    "Experiences": ("food", "night", "adventure", "kids"),
}
ORGANISER_BRANDS = (
    "Amber",
    "Baltic",
    "Nordic",
    "Seagull",
    "Lighthouse",
    "Old Town",
    "Hanseatic",
    "Midsummer",
    "Linden",
    "Compass",
    "Northern",
    "Coastline",
    "Wild Berry",
    "Driftwood",
    "Blue Lagoon",
    "Bluebell",
    "Fox & Pine",
    "Saltwind",
    "Granite",
    "Polaris",
)

CATEGORIES = ("sea", "city", "food", "nature", "history", "kids", "night", "adventure")

TITLES: dict[str, tuple[T, ...]] = {
    "sea": (
        _t("Islands cruise", "Круиз по островам", "Inselkreuzfahrt", "Saarte kruiis"),
        _t(
            "Sunset sailing",
            "Парусная прогулка на закате",
            "Segeltörn bei Sonnenuntergang",
            "Päikeseloojangu purjetamine",
        ),
        _t("Harbour boat tour", "Экскурсия на катере по гавани", "Hafenrundfahrt", "Sadama paadiretk"),
        _t("Seal watching trip", "Поездка к тюленям", "Robbenbeobachtung per Boot", "Hüljeste vaatlusretk"),
    ),
    "city": (
        _t("Old Town walk", "Прогулка по Старому городу", "Altstadtrundgang", "Vanalinna jalutuskäik"),
        _t("Architecture tour", "Архитектурная экскурсия", "Architekturführung", "Arhitektuuriekskursioon"),
        _t(
            "Hidden courtyards walk",
            "Прогулка по тайным дворикам",
            "Rundgang durch versteckte Innenhöfe",
            "Varjatud hoovide jalutuskäik",
        ),
        _t("City bike tour", "Велоэкскурсия по городу", "Stadtrundfahrt mit dem Fahrrad", "Linna rattaekskursioon"),
    ),
    "food": (
        _t("Market tasting tour", "Дегустационный тур по рынку", "Markt-Verkostungstour", "Turu degusteerimistuur"),
        _t("Craft beer tasting", "Дегустация крафтового пива", "Craft-Beer-Verkostung", "Käsitööõlle degusteerimine"),
        _t(
            "Nordic cuisine dinner",
            "Ужин северной кухни",
            "Abendessen mit nordischer Küche",
            "Põhjamaise köögi õhtusöök",
        ),
        _t("Cooking class", "Кулинарный мастер-класс", "Kochkurs", "Kokakursus"),
    ),
    "nature": (
        _t("Bog walk", "Прогулка по болоту", "Moorwanderung", "Rabamatk"),
        _t("Forest hike", "Поход по лесу", "Waldwanderung", "Metsamatk"),
        _t(
            "Birdwatching morning", "Утро наблюдения за птицами", "Vogelbeobachtung am Morgen", "Hommikune linnuvaatlus"
        ),
        _t("Coastal cliffs trip", "Поездка к прибрежным скалам", "Ausflug zur Steilküste", "Pankranniku retk"),
    ),
    "history": (
        _t(
            "Medieval walls tour",
            "Экскурсия по средневековым стенам",
            "Führung entlang der Stadtmauer",
            "Keskaegse linnamüüri ekskursioon",
        ),
        _t(
            "Soviet heritage tour",
            "Экскурсия по советскому наследию",
            "Tour zum sowjetischen Erbe",
            "Nõukogude pärandi tuur",
        ),
        _t(
            "Castle and museum visit",
            "Посещение замка и музея",
            "Burg- und Museumsbesuch",
            "Lossi ja muuseumi külastus",
        ),
        _t(
            "Hanseatic merchants walk",
            "По следам ганзейских купцов",
            "Auf den Spuren der Hansekaufleute",
            "Hansakaupmeeste jälgedes",
        ),
    ),
    "kids": (
        _t("Pirate treasure hunt", "Пиратские поиски сокровищ", "Piraten-Schatzsuche", "Piraatide aardejaht"),
        _t(
            "Science centre for families",
            "Научный центр для всей семьи",
            "Wissenschaftszentrum für Familien",
            "Teaduskeskus kogu perele",
        ),
        _t("Puppet workshop", "Кукольная мастерская", "Puppenwerkstatt", "Nukutöötuba"),
        _t("Morning at the zoo", "Утро в зоопарке", "Vormittag im Zoo", "Hommik loomaaias"),
    ),
    "night": (
        _t("Ghost walk", "Прогулка с привидениями", "Geisterführung", "Kummitustuur"),
        _t("Night kayaking", "Ночная прогулка на каяках", "Nachtkajakfahrt", "Öine süstasõit"),
        _t("Evening bar tour", "Вечерний тур по барам", "Abendliche Bartour", "Õhtune baaridetuur"),
        _t("Stargazing evening", "Вечер наблюдения за звёздами", "Sternbeobachtung am Abend", "Tähevaatlusõhtu"),
    ),
    "adventure": (
        _t("Sea kayaking", "Морской каякинг", "Seekajak-Tour", "Meresüstasõit"),
        _t("Fat-bike ride", "Прогулка на фэтбайках", "Fatbike-Tour", "Fatbike'i sõit"),
        _t("Rope park climbing", "Верёвочный парк", "Klettern im Hochseilgarten", "Ronimine seiklusparkis"),
        _t("Stand-up paddle tour", "Прогулка на сап-бордах", "Stand-up-Paddling-Tour", "Aerulauatuur"),
    ),
}

PITCHES: dict[str, T] = {
    "sea": _t(
        "Fresh sea air, views of the coast and a skipper who knows every island.",
        "Свежий морской воздух, виды на побережье и шкипер, который знает каждый остров.",
        "Frische Seeluft, Blick auf die Küste und ein Skipper, der jede Insel kennt.",
        "Värske mereõhk, vaated rannikule ja kipper, kes tunneb iga saart.",
    ),
    "city": _t(
        "A local guide shows the streets, stories and corners most visitors miss.",
        "Местный гид покажет улицы, истории и уголки, которые большинство туристов пропускают.",
        "Ein einheimischer Guide zeigt Straßen, Geschichten und Ecken, die die meisten Besucher verpassen.",
        "Kohalik giid näitab tänavaid, lugusid ja nurgatagusi, mis enamikul külastajatel märkamata jäävad.",
    ),
    "food": _t(
        "Taste local specialities and hear where they come from.",
        "Попробуйте местные блюда и узнайте их историю.",
        "Probieren Sie regionale Spezialitäten und erfahren Sie, woher sie kommen.",
        "Maitske kohalikke hõrgutisi ja kuulge, kust need pärit on.",
    ),
    "nature": _t(
        "Quiet trails, clean air and a guide who knows the local plants and birds.",
        "Тихие тропы, чистый воздух и гид, который знает местные растения и птиц.",
        "Ruhige Pfade, saubere Luft und ein Guide, der die heimischen Pflanzen und Vögel kennt.",
        "Vaiksed rajad, puhas õhk ja giid, kes tunneb kohalikke taimi ja linde.",
    ),
    "history": _t(
        "Centuries of history told on the spot, from the Hanseatic era to today.",
        "Века истории прямо на месте событий — от ганзейских времён до наших дней.",
        "Jahrhunderte Geschichte vor Ort erzählt, von der Hansezeit bis heute.",
        "Sajandite pikkune ajalugu otse sündmuskohal, hansaajast tänapäevani.",
    ),
    "kids": _t(
        "Made for families: short walks, games and plenty of breaks.",
        "Для всей семьи: короткие переходы, игры и много перерывов.",
        "Für Familien gemacht: kurze Wege, Spiele und viele Pausen.",
        "Mõeldud peredele: lühikesed käigud, mängud ja palju puhkepause.",
    ),
    "night": _t(
        "The city after dark, with stories you will not hear by day.",
        "Город после заката и истории, которые днём не услышишь.",
        "Die Stadt bei Nacht, mit Geschichten, die man tagsüber nicht hört.",
        "Linn pärast pimeduse saabumist ja lood, mida päeval ei kuule.",
    ),
    "adventure": _t(
        "Active and outdoors; all equipment and a safety briefing are included.",
        "Активный отдых на свежем воздухе; всё снаряжение и инструктаж включены.",
        "Aktiv und draußen; Ausrüstung und Sicherheitseinweisung sind inklusive.",
        "Aktiivne ja värskes õhus; kogu varustus ja ohutusjuhendamine on hinna sees.",
    ),
}

LANGUAGE_NAMES: dict[str, T] = {
    "en": _t("English", "английский", "Englisch", "inglise"),
    "ru": _t("Russian", "русский", "Russisch", "vene"),
    "de": _t("German", "немецкий", "Deutsch", "saksa"),
    "et": _t("Estonian", "эстонский", "Estnisch", "eesti"),
    "fi": _t("Finnish", "финский", "Finnisch", "soome"),
    "sv": _t("Swedish", "шведский", "Schwedisch", "rootsi"),
    "lv": _t("Latvian", "латышский", "Lettisch", "läti"),
    "lt": _t("Lithuanian", "литовский", "Litauisch", "leedu"),
    "pl": _t("Polish", "польский", "Polnisch", "poola"),
}

# Per category: (adult price range in EUR, durations in minutes, start times, capacity range).
PROFILES: dict[str, tuple[tuple[int, int], tuple[int, ...], tuple[str, ...], tuple[int, int]]] = {
    "sea": ((25, 65), (90, 120, 180, 240), ("10:00", "11:00", "12:00", "14:00", "16:00", "18:00"), (12, 60)),
    "city": ((12, 30), (90, 120, 150, 180), ("10:00", "10:30", "11:00", "13:00", "15:00", "17:00"), (10, 25)),
    "food": ((35, 85), (120, 150, 180), ("12:00", "13:00", "17:00", "18:00", "19:00"), (6, 16)),
    "nature": ((20, 55), (180, 240, 300, 360), ("08:00", "09:00", "10:00", "11:00"), (8, 20)),
    "history": ((12, 35), (90, 120, 180), ("10:00", "11:00", "12:00", "14:00", "16:00"), (10, 30)),
    "kids": ((10, 25), (60, 90, 120), ("10:00", "11:00", "12:00", "14:00", "15:00"), (8, 20)),
    "night": ((15, 40), (90, 120, 150), ("19:00", "20:00", "21:00", "22:00"), (8, 20)),
    "adventure": ((35, 90), (120, 180, 240), ("09:00", "10:00", "11:00", "13:00", "15:00"), (6, 14)),
}
WATER_TITLES = {"Night kayaking", "Sea kayaking", "Stand-up paddle tour"}

QUESTIONS: tuple[dict[str, Any], ...] = (
    {
        "id": "pickup",
        "text": _t(
            "Where shall we pick you up?", "Откуда вас забрать?", "Wo holen wir Sie ab?", "Kust teid peale võtta?"
        ),
    },
    {
        "id": "diet",
        "required": False,
        "max_length": 300,
        "text": _t(
            "Any dietary requirements?",
            "Есть ли ограничения в питании?",
            "Haben Sie Ernährungswünsche?",
            "Kas teil on toitumispiiranguid?",
        ),
    },
    {
        "id": "guide-language",
        "kind": "choice",
        "text": _t(
            "Which language should the guide speak?",
            "На каком языке провести экскурсию?",
            "In welcher Sprache soll geführt werden?",
            "Mis keeles giid rääkima peaks?",
        ),
        "choices": [{"id": code, "text": LANGUAGE_NAMES[code]} for code in ("en", "ru", "de")],
    },
    {
        "id": "experience",
        "kind": "choice",
        "text": _t("Have you done this before?", "У вас есть опыт?", "Haben Sie Erfahrung?", "Kas teil on kogemust?"),
        "choices": [
            {"id": "first", "text": _t("First time", "Впервые", "Zum ersten Mal", "Esimest korda")},
            {"id": "some", "text": _t("A little", "Немного", "Ein wenig", "Natuke")},
            {"id": "lots", "text": _t("Yes, often", "Да, часто", "Ja, oft", "Jah, tihti")},
        ],
    },
    {
        "id": "lunch",
        "kind": "choice",
        "text": _t(
            "Which lunch would you like?",
            "Какой обед вы хотите?",
            "Welches Mittagessen möchten Sie?",
            "Millist lõunasööki soovite?",
        ),
        "choices": [
            {"id": "fish", "text": _t("Fish", "Рыба", "Fisch", "Kala")},
            {"id": "meat", "text": _t("Meat", "Мясо", "Fleisch", "Liha")},
            {"id": "veg", "text": _t("Vegetarian", "Вегетарианский", "Vegetarisch", "Taimetoit")},
        ],
    },
    {
        "id": "shoe-size",
        "max_length": 10,
        "required": False,
        "text": _t(
            "Your shoe size (for boots)?",
            "Ваш размер обуви (для сапог)?",
            "Ihre Schuhgröße (für Stiefel)?",
            "Teie jalanõu suurus (saabaste jaoks)?",
        ),
    },
)

CONFIRM_WITHIN = ("5m", "10m", "10m", "15m")
PAY_WITHIN = ("20m", "30m", "30m", "1h")
HOLDS = ("10m", "15m", "15m", "20m")
REMINDERS = (("24h", "2h"), ("24h", "2h"), ("24h",), ("48h", "3h"), ("12h", "1h"))


def _slug(text: str, limit: int) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:limit].rstrip("-")


def _unique(base: str, taken: set[str]) -> str:
    code, n = base, 2
    while code in taken:
        suffix = f"-{n}"
        code = base[: 60 - len(suffix)] + suffix
        n += 1
    taken.add(code)
    return code


def _weighted(rng: random.Random, pairs: Sequence[tuple[str, int]]) -> str:
    return rng.choices([p for p, _ in pairs], weights=[w for _, w in pairs])[0]


def _phone(rng: random.Random, region: _Region) -> str:
    for _ in range(100):
        number = "+" + rng.choice(region.phone_prefixes) + "".join(str(rng.randrange(10)) for _ in range(7))
        if phonenumbers.is_valid_number(phonenumbers.parse(number)):
            return number
    raise RuntimeError(f"no valid phone number for {region.code}")  # pragma: no cover - the prefixes are valid


def _money(amount: float, currency: str, whole: bool = False) -> str:
    if currency == "SEK":
        return f"{round(amount * 11, -1):.2f}"
    return f"{round(amount):.2f}" if whole else f"{round(amount * 2) / 2:.2f}"


def _hours(minutes: int) -> T:
    h, m = divmod(minutes, 60)
    return {
        "en": " ".join(p for p in (f"{h} h" if h else "", f"{m} min" if m else "") if p),
        "ru": " ".join(p for p in (f"{h} ч" if h else "", f"{m} мин" if m else "") if p),
        "de": " ".join(p for p in (f"{h} Std." if h else "", f"{m} Min." if m else "") if p),
        "et": " ".join(p for p in (f"{h} h" if h else "", f"{m} min" if m else "") if p),
    }


def _description(category: str, minutes: int, capacity: int, languages: Sequence[str]) -> T:
    hours = _hours(minutes)
    hours = {lang: text if text.endswith(".") else text + "." for lang, text in hours.items()}
    spoken = {lang: ", ".join(LANGUAGE_NAMES[code][lang] for code in languages) for lang in LANGS}
    return {
        "en": f"{PITCHES[category]['en']} Duration: {hours['en']} Groups of up to {capacity} people. "
        f"Languages: {spoken['en']}.",
        "ru": f"{PITCHES[category]['ru']} Продолжительность: {hours['ru']} Группы до {capacity} человек. "
        f"Языки: {spoken['ru']}.",
        "de": f"{PITCHES[category]['de']} Dauer: {hours['de']} Gruppen bis zu {capacity} Personen. "
        f"Sprachen: {spoken['de']}.",
        "et": f"{PITCHES[category]['et']} Kestus: {hours['et']} Grupis kuni {capacity} inimest. "
        f"Keeled: {spoken['et']}.",
    }


def _duration(minutes: int) -> str:
    h, m = divmod(minutes, 60)
    return (f"{h}h" if h else "") + (f"{m}m" if m else "")


def _hotels(rng: random.Random, scale: int, taken: set[str]) -> list[dict[str, Any]]:
    hotels = []
    for region in REGIONS:
        names: set[str] = set()
        for _ in range(region.hotels * scale):
            for attempt in range(20):
                place = rng.choice(region.places)
                brand, kind = rng.choice(HOTEL_BRANDS), rng.choice(HOTEL_TYPES)
                pattern = rng.randrange(4)
                name = (f"{brand} {kind}", f"{kind} {place}", f"{place} {kind}", f"{brand} {place} {kind}")[pattern]
                if attempt >= 10:
                    name = f"{name} {rng.randrange(2, 100)}"
                if name not in names:
                    break
            names.add(name)
            hotel: dict[str, Any] = {
                "id": _unique(f"{region.code}-{_slug(name, 40)}", taken),
                "region": region.code,
                "name": name,
            }
            discount = rng.choices((0, 5, 10, 15, 20), weights=(4, 2, 3, 1, 1))[0]
            if discount:
                hotel["discount_percent"] = discount
            hotels.append(hotel)
    return hotels


def _organiser(
    rng: random.Random, region: _Region, n: int, names: set[str], taken: set[str]
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """An organiser of ``region`` and the categories it runs."""
    for attempt in range(30):
        first = rng.choice((*ORGANISER_BRANDS, *region.places)) if attempt < 20 else f"{region.name['en']} {n}"
        kind = rng.choice(tuple(ORGANISER_KINDS))
        name = f"{first} {kind}"
        if name not in names:
            break
    names.add(name)
    organiser: dict[str, Any] = {
        "id": _unique(_slug(name, 40), taken),
        "name": name,
        "chat_id": 700000 + n,
        "language": _weighted(rng, region.organiser_languages),
        "phone": _phone(rng, region),
        "confirm_within": rng.choice(CONFIRM_WITHIN),
        "pay_within": rng.choice(PAY_WITHIN),
        "hold": rng.choice(HOLDS),
        "reminders": list(rng.choice(REMINDERS)),
    }
    count = rng.choices((0, 1, 2), weights=(4, 4, 2))[0]
    if count:
        organiser["questions"] = [dict(q) for q in rng.sample(QUESTIONS, count)]
    return organiser, ORGANISER_KINDS[kind]


def _sessions(rng: random.Random, start: date, times: Sequence[str], capacity: int) -> list[dict[str, Any]]:
    weekdays = set(rng.sample(range(7), rng.choices((1, 2, 3, 4, 5, 7), weights=(6, 8, 4, 2, 1, 1))[0]))
    slots = sorted(rng.sample(list(times), rng.choices((1, 2), weights=(4, 1))[0]))
    sessions = []
    for offset in range(DAYS):
        day = start + timedelta(days=offset)
        if day.weekday() not in weekdays:
            continue
        for slot in slots:
            starts_at = datetime.combine(day, time.fromisoformat(slot))
            session: dict[str, Any] = {"starts_at": starts_at.strftime("%Y-%m-%dT%H:%M"), "capacity": capacity}
            if rng.random() < 0.01:
                session["status"] = "cancelled"
            sessions.append(session)
    return sessions


def _event(
    rng: random.Random,
    organiser: dict[str, Any],
    region: _Region,
    category: str,
    title: T,
    taken: set[str],
    start: date,
) -> dict[str, Any]:
    (low, high), durations, times, (cap_low, cap_high) = PROFILES[category]
    minutes = rng.choice(durations)
    capacity = rng.randint(cap_low, cap_high)
    languages = ["en", *rng.sample(region.guide_languages, rng.choices((0, 1, 2), weights=(3, 5, 2))[0])]
    if rng.random() < 0.15:
        languages.remove("en")
        languages = languages or [region.guide_languages[0]]
    on_water = category == "sea" or title["en"] in WATER_TITLES
    points = [p for p, water in region.meeting_points if water == on_water] or [p for p, _ in region.meeting_points]
    adult = rng.uniform(low, high)
    prices = {"adult": _money(adult, region.currency)}
    if category != "night" and rng.random() < 0.75:
        prices["child"] = _money(adult * 0.6, region.currency)
    if category in ("kids", "sea", "nature", "city") and rng.random() < 0.4:
        prices["family"] = _money(adult * 3, region.currency, whole=True)
    if rng.random() < 0.1:
        prices["senior"] = _money(adult * 0.8, region.currency)
    event: dict[str, Any] = {
        "id": _unique(f"{organiser['id'][:30]}-{_slug(title['en'], 28)}", taken),
        "organiser": organiser["id"],
        "region": region.code,
        "category": category,
        "title": {lang: f"{title[lang]} · {organiser['name']}" for lang in LANGS},
        "description": _description(category, minutes, capacity, languages),
        "meeting_point": dict(rng.choice(points)),
        "duration": _duration(minutes),
        "languages": languages,
        "currency": region.currency,
        "prices": prices,
        "confirmation": "instant" if rng.random() < 0.25 else "required",
        "sessions": _sessions(rng, start, times, capacity),
    }
    return event


def build_demo_catalog(scale: int = 1, seed: int = 1, start: date | None = None) -> dict[str, Any]:
    """The demo catalog as a YAML-ready dict; sessions run for 21 days from ``start`` (default: today)."""
    if scale < 1:
        raise ValueError("scale must be 1 or more")
    rng = random.Random(seed)
    start = start or date.today()
    regions = [{"id": r.code, "timezone": r.timezone, "name": dict(r.name)} for r in REGIONS]
    hotels = _hotels(rng, scale, set())
    organisers: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    organiser_codes: set[str] = set()
    organiser_names: set[str] = set()
    event_codes: set[str] = set()
    for region in REGIONS:
        for _ in range(region.organisers * scale):
            organiser, categories = _organiser(rng, region, len(organisers) + 1, organiser_names, organiser_codes)
            organisers.append(organiser)
            specialities = rng.sample(categories, rng.randint(1, min(3, len(categories))))
            titles = [(category, title) for category in specialities for title in TITLES[category]]
            # Most events run in the organiser's home region; a few in a neighbour of the same country.
            neighbours = [r for r in REGIONS if r.timezone == region.timezone]
            for category, title in rng.sample(titles, min(len(titles), rng.randint(2, 4))):
                where = rng.choice(neighbours) if rng.random() < 0.15 else region
                events.append(_event(rng, organiser, where, category, title, event_codes, start))
    return {"regions": regions, "hotels": hotels, "organisers": organisers, "events": events}


def catalog_counts(catalog: dict[str, Any]) -> dict[str, int]:
    counts = {kind: len(catalog.get(kind) or ()) for kind in ("regions", "hotels", "organisers", "events")}
    counts["sessions"] = sum(len(e.get("sessions") or ()) for e in catalog.get("events") or ())
    return counts


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Writes shared texts out in full instead of as YAML anchors and aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def write_demo_catalog(path: Path | str, scale: int = 1, seed: int = 1, start: date | None = None) -> dict[str, int]:
    """Write the demo catalog as YAML to ``path``; return the number of entries per kind (and of sessions)."""
    start = start or date.today()
    catalog = build_demo_catalog(scale=scale, seed=seed, start=start)
    dumper = _Dumper
    header = (
        f"# Tripdesk demo catalog: scale {scale}, seed {seed}, sessions for {DAYS} days from {start.isoformat()}.\n"
        f"# Generated by `tripdesk demo-data`; the format is described in docs/catalog.md.\n"
    )
    body = yaml.dump(catalog, Dumper=dumper, allow_unicode=True, sort_keys=False, default_flow_style=None, width=120)
    Path(path).write_text(header + body, encoding="utf-8")
    return catalog_counts(catalog)
