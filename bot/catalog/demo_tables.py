"""The word and number tables the demo catalog is drawn from: hotel and organiser names, the eight categories with
their titles (each with its season and, for a sunset trip, its time of day), pitches and price profiles, the
organisers' questions (and which kinds of events each fits) and their deadlines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.catalog.demo_regions import T, tr

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

ANY, SUMMER, WINTER = "any", "summer", "winter"  # seasons: the open-water season is May to September
SUMMER_MONTHS = range(5, 10)


@dataclass(frozen=True, slots=True)
class Title:
    """An event's title, when it runs (``season``; ``sunset``: each session starts an hour before the sun sets),
    and a pitch of its own (else the category's)."""

    text: T
    season: str = ANY
    sunset: bool = False
    pitch: T | None = None

    def runs_in(self, season: str) -> bool:
        return self.season in (ANY, season)


def _title(
    en: str, ru: str, de: str, et: str, season: str = ANY, sunset: bool = False, pitch: T | None = None
) -> Title:
    return Title(tr(en, ru, de, et), season, sunset, pitch)


TITLES: dict[str, tuple[Title, ...]] = {
    "sea": (
        _title("Islands cruise", "Круиз по островам", "Inselkreuzfahrt", "Saarte kruiis", SUMMER),
        _title(
            "Sunset sailing",
            "Парусная прогулка на закате",
            "Segeltörn bei Sonnenuntergang",
            "Päikeseloojangu purjetamine",
            SUMMER,
            sunset=True,
        ),
        _title("Harbour boat tour", "Экскурсия на катере по гавани", "Hafenrundfahrt", "Sadama paadiretk", SUMMER),
        _title("Seal watching trip", "Поездка к тюленям", "Robbenbeobachtung per Boot", "Hüljeste vaatlusretk", SUMMER),
        _title(
            "Icebreaker cruise",
            "Круиз на ледоколе",
            "Eisbrecherfahrt",
            "Jäälõhkuja kruiis",
            WINTER,
            pitch=tr(
                "Hear the ice crack under the bow and warm up with hot tea on deck.",
                "Слушайте, как трещит лёд под носом судна, и грейтесь горячим чаем на палубе.",
                "Hören Sie das Eis unter dem Bug krachen und wärmen Sie sich an Deck mit heißem Tee auf.",
                "Kuulake, kuidas jää laevanina all praguneb, ja soojendage end tekil kuuma teega.",
            ),
        ),
        _title(
            "Sea sauna and ice swim",
            "Морская сауна и купание в проруби",
            "Meeressauna und Eisbaden",
            "Meresaun ja jääauguujumine",
            WINTER,
            pitch=tr(
                "A wood-fired sauna by the shore and a dip in the ice hole, as the locals do in winter.",
                "Сауна на дровах у самого берега и купание в проруби — как зимой делают местные.",
                "Eine holzbefeuerte Sauna am Ufer und ein Bad im Eisloch, wie es die Einheimischen im Winter tun.",
                "Puuküttega saun kaldal ja sulps jääauku, nagu kohalikud talvel teevad.",
            ),
        ),
    ),
    "city": (
        _title("Old Town walk", "Прогулка по Старому городу", "Altstadtrundgang", "Vanalinna jalutuskäik"),
        _title("Architecture tour", "Архитектурная экскурсия", "Architekturführung", "Arhitektuuriekskursioon"),
        _title(
            "Hidden courtyards walk",
            "Прогулка по тайным дворикам",
            "Rundgang durch versteckte Innenhöfe",
            "Varjatud hoovide jalutuskäik",
        ),
        _title(
            "City bike tour",
            "Велоэкскурсия по городу",
            "Stadtrundfahrt mit dem Fahrrad",
            "Linna rattaekskursioon",
            SUMMER,
        ),
        _title(
            "Christmas market walk",
            "Прогулка по рождественской ярмарке",
            "Weihnachtsmarkt-Rundgang",
            "Jõuluturu jalutuskäik",
            WINTER,
            pitch=tr(
                "Mulled wine, gingerbread and the stories behind the old town's winter traditions.",
                "Глинтвейн, имбирные пряники и истории зимних традиций старого города.",
                "Glühwein, Lebkuchen und die Geschichten hinter den Wintertraditionen der Altstadt.",
                "Hõõgvein, piparkoogid ja lood vanalinna talvetraditsioonide taga.",
            ),
        ),
    ),
    "food": (
        _title("Market tasting tour", "Дегустационный тур по рынку", "Markt-Verkostungstour", "Turu degusteerimistuur"),
        _title(
            "Craft beer tasting", "Дегустация крафтового пива", "Craft-Beer-Verkostung", "Käsitööõlle degusteerimine"
        ),
        _title(
            "Nordic cuisine dinner",
            "Ужин северной кухни",
            "Abendessen mit nordischer Küche",
            "Põhjamaise köögi õhtusöök",
        ),
        _title("Cooking class", "Кулинарный мастер-класс", "Kochkurs", "Kokakursus"),
    ),
    "nature": (
        _title("Bog walk", "Прогулка по болоту", "Moorwanderung", "Rabamatk"),
        _title("Forest hike", "Поход по лесу", "Waldwanderung", "Metsamatk"),
        _title(
            "Birdwatching morning", "Утро наблюдения за птицами", "Vogelbeobachtung am Morgen", "Hommikune linnuvaatlus"
        ),
        _title("Coastal cliffs trip", "Поездка к прибрежным скалам", "Ausflug zur Steilküste", "Pankranniku retk"),
        _title(
            "Sunset snowshoe walk",
            "Прогулка на снегоступах на закате",
            "Schneeschuhwanderung bei Sonnenuntergang",
            "Päikeseloojangu räätsamatk",
            WINTER,
            sunset=True,
            pitch=tr(
                "Snowshoes on, through the quiet winter bog as the low sun turns the snow pink.",
                "Надеваем снегоступы и идём по тихому зимнему болоту, пока низкое солнце окрашивает снег в розовый.",
                "Mit Schneeschuhen durch das stille Wintermoor, während die tiefe Sonne den Schnee rosa färbt.",
                "Räätsad jalga ja läbi vaikse talvise raba, kui madal päike värvib lume roosaks.",
            ),
        ),
    ),
    "history": (
        _title(
            "Medieval walls tour",
            "Экскурсия по средневековым стенам",
            "Führung entlang der Stadtmauer",
            "Keskaegse linnamüüri ekskursioon",
        ),
        _title(
            "Soviet heritage tour",
            "Экскурсия по советскому наследию",
            "Tour zum sowjetischen Erbe",
            "Nõukogude pärandi tuur",
        ),
        _title(
            "Castle and museum visit",
            "Посещение замка и музея",
            "Burg- und Museumsbesuch",
            "Lossi ja muuseumi külastus",
        ),
        _title(
            "Hanseatic merchants walk",
            "По следам ганзейских купцов",
            "Auf den Spuren der Hansekaufleute",
            "Hansakaupmeeste jälgedes",
        ),
    ),
    "kids": (
        _title("Pirate treasure hunt", "Пиратские поиски сокровищ", "Piraten-Schatzsuche", "Piraatide aardejaht"),
        _title(
            "Science centre for families",
            "Научный центр для всей семьи",
            "Wissenschaftszentrum für Familien",
            "Teaduskeskus kogu perele",
        ),
        _title("Puppet workshop", "Кукольная мастерская", "Puppenwerkstatt", "Nukutöötuba"),
        _title("Morning at the zoo", "Утро в зоопарке", "Vormittag im Zoo", "Hommik loomaaias"),
        _title(
            "Sledding and snow games",
            "Санки и снежные игры",
            "Rodeln und Schneespiele",
            "Kelgutamine ja lumemängud",
            WINTER,
            pitch=tr(
                "Sledges for everyone, a snow fort to build and hot cocoa at the end.",
                "Санки для всех, снежная крепость и горячее какао в конце.",
                "Schlitten für alle, eine Schneeburg zum Bauen und heißer Kakao zum Schluss.",
                "Kelgud kõigile, lumekindlus ehitamiseks ja lõpuks kuum kakao.",
            ),
        ),
    ),
    "night": (
        _title("Ghost walk", "Прогулка с привидениями", "Geisterführung", "Kummitustuur"),
        _title("Night kayaking", "Ночная прогулка на каяках", "Nachtkajakfahrt", "Öine süstasõit", SUMMER),
        _title("Evening bar tour", "Вечерний тур по барам", "Abendliche Bartour", "Õhtune baaridetuur"),
        _title(
            "Stargazing evening", "Вечер наблюдения за звёздами", "Sternbeobachtung am Abend", "Tähevaatlusõhtu", WINTER
        ),
    ),
    "adventure": (
        _title("Sea kayaking", "Морской каякинг", "Seekajak-Tour", "Meresüstasõit", SUMMER),
        _title("Fat-bike ride", "Прогулка на фэтбайках", "Fatbike-Tour", "Fatbike'i sõit"),
        _title("Rope park climbing", "Верёвочный парк", "Klettern im Hochseilgarten", "Ronimine seiklusparkis", SUMMER),
        _title("Stand-up paddle tour", "Прогулка на сап-бордах", "Stand-up-Paddling-Tour", "Aerulauatuur", SUMMER),
        _title(
            "Cross-country skiing",
            "Беговые лыжи",
            "Skilanglauf",
            "Murdmaasuusatamine",
            WINTER,
            pitch=tr(
                "Skis, boots and poles are provided; an instructor sets the pace for beginners.",
                "Лыжи, ботинки и палки выдаём; инструктор подберёт темп для новичков.",
                "Ski, Schuhe und Stöcke werden gestellt; ein Lehrer gibt Anfängern das Tempo vor.",
                "Suusad, saapad ja kepid anname; instruktor valib algajatele sobiva tempo.",
            ),
        ),
        _title(
            "Ice skating on the lake",
            "Коньки на озере",
            "Schlittschuhlaufen auf dem See",
            "Uisutamine järvel",
            WINTER,
            pitch=tr(
                "Skates in every size and a warm hut by the ice for breaks.",
                "Коньки любых размеров и тёплый домик у льда для перерывов.",
                "Schlittschuhe in jeder Größe und eine warme Hütte am Eis für Pausen.",
                "Uisud igas suuruses ja soe onn jää ääres puhkepausideks.",
            ),
        ),
    ),
}

PITCHES: dict[str, T] = {
    "sea": tr(
        "Fresh sea air, views of the coast and a skipper who knows every island.",
        "Свежий морской воздух, виды на побережье и шкипер, который знает каждый остров.",
        "Frische Seeluft, Blick auf die Küste und ein Skipper, der jede Insel kennt.",
        "Värske mereõhk, vaated rannikule ja kipper, kes tunneb iga saart.",
    ),
    "city": tr(
        "A local guide shows the streets, stories and corners most visitors miss.",
        "Местный гид покажет улицы, истории и уголки, которые большинство туристов пропускают.",
        "Ein einheimischer Guide zeigt Straßen, Geschichten und Ecken, die die meisten Besucher verpassen.",
        "Kohalik giid näitab tänavaid, lugusid ja nurgatagusi, mis enamikul külastajatel märkamata jäävad.",
    ),
    "food": tr(
        "Taste local specialities and hear where they come from.",
        "Попробуйте местные блюда и узнайте их историю.",
        "Probieren Sie regionale Spezialitäten und erfahren Sie, woher sie kommen.",
        "Maitske kohalikke hõrgutisi ja kuulge, kust need pärit on.",
    ),
    "nature": tr(
        "Quiet trails, clean air and a guide who knows the local plants and birds.",
        "Тихие тропы, чистый воздух и гид, который знает местные растения и птиц.",
        "Ruhige Pfade, saubere Luft und ein Guide, der die heimischen Pflanzen und Vögel kennt.",
        "Vaiksed rajad, puhas õhk ja giid, kes tunneb kohalikke taimi ja linde.",
    ),
    "history": tr(
        "Centuries of history told on the spot, from the Hanseatic era to today.",
        "Века истории прямо на месте событий — от ганзейских времён до наших дней.",
        "Jahrhunderte Geschichte vor Ort erzählt, von der Hansezeit bis heute.",
        "Sajandite pikkune ajalugu otse sündmuskohal, hansaajast tänapäevani.",
    ),
    "kids": tr(
        "Made for families: short walks, games and plenty of breaks.",
        "Для всей семьи: короткие переходы, игры и много перерывов.",
        "Für Familien gemacht: kurze Wege, Spiele und viele Pausen.",
        "Mõeldud peredele: lühikesed käigud, mängud ja palju puhkepause.",
    ),
    "night": tr(
        "The city after dark, with stories you will not hear by day.",
        "Город после заката и истории, которые днём не услышишь.",
        "Die Stadt bei Nacht, mit Geschichten, die man tagsüber nicht hört.",
        "Linn pärast pimeduse saabumist ja lood, mida päeval ei kuule.",
    ),
    "adventure": tr(
        "Active and outdoors; all equipment and a safety briefing are included.",
        "Активный отдых на свежем воздухе; всё снаряжение и инструктаж включены.",
        "Aktiv und draußen; Ausrüstung und Sicherheitseinweisung sind inklusive.",
        "Aktiivne ja värskes õhus; kogu varustus ja ohutusjuhendamine on hinna sees.",
    ),
}

LANGUAGE_NAMES: dict[str, T] = {
    "en": tr("English", "английский", "Englisch", "inglise"),
    "ru": tr("Russian", "русский", "Russisch", "vene"),
    "de": tr("German", "немецкий", "Deutsch", "saksa"),
    "et": tr("Estonian", "эстонский", "Estnisch", "eesti"),
    "fi": tr("Finnish", "финский", "Finnisch", "soome"),
    "sv": tr("Swedish", "шведский", "Schwedisch", "rootsi"),
    "lv": tr("Latvian", "латышский", "Lettisch", "läti"),
    "lt": tr("Lithuanian", "литовский", "Litauisch", "leedu"),
    "pl": tr("Polish", "польский", "Polnisch", "poola"),
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
WATER_TITLES = {"Night kayaking", "Sea kayaking", "Stand-up paddle tour", "Ice skating on the lake"}

QUESTIONS: tuple[dict[str, Any], ...] = (
    {
        "id": "pickup",
        "text": tr(
            "Where shall we pick you up?", "Откуда вас забрать?", "Wo holen wir Sie ab?", "Kust teid peale võtta?"
        ),
    },
    {
        "id": "diet",
        "required": False,
        "max_length": 300,
        "text": tr(
            "Any dietary requirements?",
            "Есть ли ограничения в питании?",
            "Haben Sie Ernährungswünsche?",
            "Kas teil on toitumispiiranguid?",
        ),
    },
    {
        "id": "guide-language",
        "kind": "choice",
        "text": tr(
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
        "text": tr("Have you done this before?", "У вас есть опыт?", "Haben Sie Erfahrung?", "Kas teil on kogemust?"),
        "choices": [
            {"id": "first", "text": tr("First time", "Впервые", "Zum ersten Mal", "Esimest korda")},
            {"id": "some", "text": tr("A little", "Немного", "Ein wenig", "Natuke")},
            {"id": "lots", "text": tr("Yes, often", "Да, часто", "Ja, oft", "Jah, tihti")},
        ],
    },
    {
        "id": "lunch",
        "kind": "choice",
        "text": tr(
            "Which lunch would you like?",
            "Какой обед вы хотите?",
            "Welches Mittagessen möchten Sie?",
            "Millist lõunasööki soovite?",
        ),
        "choices": [
            {"id": "fish", "text": tr("Fish", "Рыба", "Fisch", "Kala")},
            {"id": "meat", "text": tr("Meat", "Мясо", "Fleisch", "Liha")},
            {"id": "veg", "text": tr("Vegetarian", "Вегетарианский", "Vegetarisch", "Taimetoit")},
        ],
    },
    {
        "id": "shoe-size",
        "max_length": 10,
        "required": False,
        "text": tr(
            "Your shoe size (for boots)?",
            "Ваш размер обуви (для сапог)?",
            "Ihre Schuhgröße (für Stiefel)?",
            "Teie jalanõu suurus (saabaste jaoks)?",
        ),
    },
)

# The questions that fit an organiser's kinds of events (the guide's language is asked only when the organiser's
# guides speak more than one, and then offers exactly those languages).
QUESTION_FITS: dict[str, tuple[str, ...]] = {
    "pickup": ("sea", "nature", "adventure", "city", "history"),
    "diet": ("food", "sea", "nature"),
    "guide-language": CATEGORIES,
    "experience": ("adventure", "sea"),
    "lunch": ("sea", "nature", "adventure"),
    "shoe-size": ("nature", "adventure"),
}

CONFIRM_WITHIN = ("5m", "10m", "10m", "15m")
PAY_WITHIN = ("20m", "30m", "30m", "1h")
HOLDS = ("10m", "15m", "15m", "20m")
REMINDERS = (("24h", "2h"), ("24h", "2h"), ("24h",), ("48h", "3h"), ("12h", "1h"))
