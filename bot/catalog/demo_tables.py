"""The word and number tables the demo catalog is drawn from: hotel and organiser names, the eight categories with
their titles, pitches and price profiles, the organisers' questions and their deadlines."""

from __future__ import annotations

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

TITLES: dict[str, tuple[T, ...]] = {
    "sea": (
        tr("Islands cruise", "Круиз по островам", "Inselkreuzfahrt", "Saarte kruiis"),
        tr(
            "Sunset sailing",
            "Парусная прогулка на закате",
            "Segeltörn bei Sonnenuntergang",
            "Päikeseloojangu purjetamine",
        ),
        tr("Harbour boat tour", "Экскурсия на катере по гавани", "Hafenrundfahrt", "Sadama paadiretk"),
        tr("Seal watching trip", "Поездка к тюленям", "Robbenbeobachtung per Boot", "Hüljeste vaatlusretk"),
    ),
    "city": (
        tr("Old Town walk", "Прогулка по Старому городу", "Altstadtrundgang", "Vanalinna jalutuskäik"),
        tr("Architecture tour", "Архитектурная экскурсия", "Architekturführung", "Arhitektuuriekskursioon"),
        tr(
            "Hidden courtyards walk",
            "Прогулка по тайным дворикам",
            "Rundgang durch versteckte Innenhöfe",
            "Varjatud hoovide jalutuskäik",
        ),
        tr("City bike tour", "Велоэкскурсия по городу", "Stadtrundfahrt mit dem Fahrrad", "Linna rattaekskursioon"),
    ),
    "food": (
        tr("Market tasting tour", "Дегустационный тур по рынку", "Markt-Verkostungstour", "Turu degusteerimistuur"),
        tr("Craft beer tasting", "Дегустация крафтового пива", "Craft-Beer-Verkostung", "Käsitööõlle degusteerimine"),
        tr(
            "Nordic cuisine dinner",
            "Ужин северной кухни",
            "Abendessen mit nordischer Küche",
            "Põhjamaise köögi õhtusöök",
        ),
        tr("Cooking class", "Кулинарный мастер-класс", "Kochkurs", "Kokakursus"),
    ),
    "nature": (
        tr("Bog walk", "Прогулка по болоту", "Moorwanderung", "Rabamatk"),
        tr("Forest hike", "Поход по лесу", "Waldwanderung", "Metsamatk"),
        tr(
            "Birdwatching morning", "Утро наблюдения за птицами", "Vogelbeobachtung am Morgen", "Hommikune linnuvaatlus"
        ),
        tr("Coastal cliffs trip", "Поездка к прибрежным скалам", "Ausflug zur Steilküste", "Pankranniku retk"),
    ),
    "history": (
        tr(
            "Medieval walls tour",
            "Экскурсия по средневековым стенам",
            "Führung entlang der Stadtmauer",
            "Keskaegse linnamüüri ekskursioon",
        ),
        tr(
            "Soviet heritage tour",
            "Экскурсия по советскому наследию",
            "Tour zum sowjetischen Erbe",
            "Nõukogude pärandi tuur",
        ),
        tr(
            "Castle and museum visit",
            "Посещение замка и музея",
            "Burg- und Museumsbesuch",
            "Lossi ja muuseumi külastus",
        ),
        tr(
            "Hanseatic merchants walk",
            "По следам ганзейских купцов",
            "Auf den Spuren der Hansekaufleute",
            "Hansakaupmeeste jälgedes",
        ),
    ),
    "kids": (
        tr("Pirate treasure hunt", "Пиратские поиски сокровищ", "Piraten-Schatzsuche", "Piraatide aardejaht"),
        tr(
            "Science centre for families",
            "Научный центр для всей семьи",
            "Wissenschaftszentrum für Familien",
            "Teaduskeskus kogu perele",
        ),
        tr("Puppet workshop", "Кукольная мастерская", "Puppenwerkstatt", "Nukutöötuba"),
        tr("Morning at the zoo", "Утро в зоопарке", "Vormittag im Zoo", "Hommik loomaaias"),
    ),
    "night": (
        tr("Ghost walk", "Прогулка с привидениями", "Geisterführung", "Kummitustuur"),
        tr("Night kayaking", "Ночная прогулка на каяках", "Nachtkajakfahrt", "Öine süstasõit"),
        tr("Evening bar tour", "Вечерний тур по барам", "Abendliche Bartour", "Õhtune baaridetuur"),
        tr("Stargazing evening", "Вечер наблюдения за звёздами", "Sternbeobachtung am Abend", "Tähevaatlusõhtu"),
    ),
    "adventure": (
        tr("Sea kayaking", "Морской каякинг", "Seekajak-Tour", "Meresüstasõit"),
        tr("Fat-bike ride", "Прогулка на фэтбайках", "Fatbike-Tour", "Fatbike'i sõit"),
        tr("Rope park climbing", "Верёвочный парк", "Klettern im Hochseilgarten", "Ronimine seiklusparkis"),
        tr("Stand-up paddle tour", "Прогулка на сап-бордах", "Stand-up-Paddling-Tour", "Aerulauatuur"),
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
WATER_TITLES = {"Night kayaking", "Sea kayaking", "Stand-up paddle tour"}

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

CONFIRM_WITHIN = ("5m", "10m", "10m", "15m")
PAY_WITHIN = ("20m", "30m", "30m", "1h")
HOLDS = ("10m", "15m", "15m", "20m")
REMINDERS = (("24h", "2h"), ("24h", "2h"), ("24h",), ("48h", "3h"), ("12h", "1h"))
