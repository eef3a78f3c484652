"""Places and media of the demo catalog (issue 15): the real coordinates and street addresses of the demo's meeting
points, photos for most events, a page for most partner hotels (an address and a map point near the centre, what is
free and what is paid, timetable notes, the sights within a walk) and a short area guide per region, in the demo's
four languages.

:func:`add_places` draws from a random generator of its own, so the rest of the demo catalog is what it was.
"""

from __future__ import annotations

import random
from typing import Any

from bot.catalog.demo_regions import REGIONS, DemoRegion, T, tr

# (region, meeting point in English) -> (latitude, longitude, street address)
MEETING_PLACES: dict[tuple[str, str], tuple[float, float, str]] = {
    ("tallinn", "Viru Gate"): (59.43630, 24.75000, "Viru 33, 10140 Tallinn"),
    ("tallinn", "Town Hall Square"): (59.43720, 24.74530, "Raekoja plats, 10146 Tallinn"),
    ("tallinn", "Freedom Square"): (59.43340, 24.74430, "Vabaduse väljak, 10146 Tallinn"),
    ("tallinn", "Old City Harbour, Pier 3"): (59.44450, 24.76700, "Sadama 25, 10111 Tallinn"),
    ("tallinn", "Pirita marina"): (59.46800, 24.82300, "Regati pst 1, 11911 Tallinn"),
    ("riga", "Freedom Monument"): (56.95140, 24.11330, "Brīvības laukums, Rīga, LV-1050"),
    ("riga", "Riga Central Market"): (56.94340, 24.11460, "Nēģu iela 7, Rīga, LV-1050"),
    ("riga", "Town Hall Square"): (56.94720, 24.10640, "Rātslaukums 1, Rīga, LV-1050"),
    ("riga", "Riga Passenger Port"): (56.96050, 24.09760, "Eksporta iela 3a, Rīga, LV-1010"),
    ("vilnius", "Cathedral Square"): (54.68580, 25.28770, "Katedros a., 01143 Vilnius"),
    ("vilnius", "Gate of Dawn"): (54.67430, 25.28940, "Aušros Vartų g. 12, 01303 Vilnius"),
    ("vilnius", "Town Hall Square"): (54.67730, 25.28730, "Didžioji g. 31, 01128 Vilnius"),
    ("vilnius", "Neris embankment at the White Bridge"): (54.69210, 25.27600, "Baltasis tiltas, 09310 Vilnius"),
    ("helsinki", "Senate Square"): (60.16950, 24.95250, "Senaatintori, 00170 Helsinki"),
    ("helsinki", "Helsinki Central Station"): (60.17110, 24.94140, "Kaivokatu 1, 00100 Helsinki"),
    ("helsinki", "Market Square"): (60.16750, 24.95250, "Kauppatori, 00170 Helsinki"),
    ("helsinki", "Market Square pier"): (60.16700, 24.95400, "Eteläranta, 00130 Helsinki"),
    ("stockholm", "Stortorget, Gamla stan"): (59.32510, 18.07070, "Stortorget, 111 29 Stockholm"),
    ("stockholm", "Sergels torg"): (59.33260, 18.06490, "Sergels torg, 111 57 Stockholm"),
    ("stockholm", "Skansen main entrance"): (59.32700, 18.10370, "Djurgårdsslätten 49, 115 21 Stockholm"),
    ("stockholm", "Strömkajen pier"): (59.32950, 18.07650, "Strömkajen, 111 48 Stockholm"),
    ("parnu", "Pärnu Beach promenade"): (58.37450, 24.50100, "Ranna pst 2, 80012 Pärnu"),
    ("parnu", "Tallinn Gate"): (58.38350, 24.49770, "Vana-Tallinna 1, 80011 Pärnu"),
    ("parnu", "Pärnu bus station"): (58.38600, 24.50200, "Ringi 3, 80010 Pärnu"),
    ("parnu", "Pärnu Yacht Club"): (58.38000, 24.48900, "Lootsi 6, 80012 Pärnu"),
    ("jurmala", "Majori railway station"): (56.97200, 23.79900, "Majori, Jūrmala, LV-2015"),
    ("jurmala", "Jomas Street"): (56.97050, 23.79300, "Jomas iela 40, Jūrmala, LV-2015"),
    ("jurmala", "Dzintari Concert Hall"): (56.97700, 23.81300, "Turaidas iela 1, Jūrmala, LV-2015"),
    ("jurmala", "Lielupe marina"): (56.97800, 23.83700, "Bulduru prospekts 2, Jūrmala, LV-2010"),
    ("klaipeda", "Theatre Square"): (55.71280, 21.13250, "Teatro a. 2, 91247 Klaipėda"),
    ("klaipeda", "Klaipėda Castle Museum"): (55.70800, 21.13000, "Pilies g. 4, 91240 Klaipėda"),
    ("klaipeda", "Old Ferry Terminal"): (55.70650, 21.12600, "Žvejų g. 8, 91247 Klaipėda"),
    ("klaipeda", "Smiltynė ferry pier"): (55.70800, 21.11850, "Smiltynės g. 1, 93100 Klaipėda"),
}

GUIDES: dict[str, T] = {
    "tallinn": tr(
        "A medieval Old Town on a hill above the harbour: walk the walls, climb Toompea for the view, and leave "
        "an afternoon for Kadriorg park and the Telliskivi creative city. Trams and buses are free with a "
        "Tallinn Card; the ferry terminals are a 15-minute walk from the centre.",
        "Средневековый Старый город на холме над гаванью: пройдитесь вдоль стен, поднимитесь на Тоомпеа ради "
        "вида и оставьте полдня для парка Кадриорг и творческого городка Теллискиви. С Tallinn Card трамваи и "
        "автобусы бесплатны; до паромных терминалов 15 минут пешком от центра.",
        "Eine mittelalterliche Altstadt auf einem Hügel über dem Hafen: Laufen Sie die Stadtmauer entlang, "
        "steigen Sie für die Aussicht auf den Domberg und nehmen Sie sich einen Nachmittag für den Kadriorg-Park "
        "und die Kreativstadt Telliskivi. Mit der Tallinn Card fahren Sie kostenlos Tram und Bus; zu den "
        "Fährterminals sind es 15 Minuten zu Fuß.",
        "Keskaegne vanalinn mäel sadama kohal: jalutage linnamüüri ääres, ronige vaate pärast Toompeale ning "
        "jätke pärastlõuna Kadrioru pargile ja Telliskivi loomelinnakule. Tallinna kaardiga on trammid ja bussid "
        "tasuta; sadamaterminalidesse on kesklinnast 15 minutit jalgsi.",
    ),
    "riga": tr(
        "Art Nouveau streets, the Old Town's churches and the huge Central Market in old Zeppelin hangars. Cross "
        "the Daugava on foot for the best view of the spires; trams run until midnight.",
        "Улицы в стиле модерн, церкви Старого города и огромный Центральный рынок в бывших ангарах цеппелинов. "
        "Перейдите Даугаву пешком ради лучшего вида на шпили; трамваи ходят до полуночи.",
        "Jugendstil-Straßen, die Kirchen der Altstadt und der riesige Zentralmarkt in alten Zeppelinhallen. Gehen "
        "Sie zu Fuß über die Daugava, von dort sehen Sie die Türme am schönsten; die Trams fahren bis Mitternacht.",
        "Juugendstiilis tänavad, vanalinna kirikud ja hiiglaslik keskturg endistes tsepeliinihallides. Minge "
        "jalgsi üle Daugava, sealt paistavad tornid kõige paremini; trammid sõidavad südaööni.",
    ),
    "vilnius": tr(
        "A baroque Old Town of courtyards and church towers, the artists' republic of Užupis across the river and "
        "Gediminas' Tower above it all. Most sights are within a 20-minute walk of Cathedral Square.",
        "Барочный Старый город с двориками и колокольнями, республика художников Ужупис за речкой и башня "
        "Гедиминаса над всем этим. Большинство достопримечательностей в 20 минутах пешком от Кафедральной площади.",
        "Eine barocke Altstadt voller Innenhöfe und Kirchtürme, die Künstlerrepublik Užupis jenseits des Flusses "
        "und darüber der Gediminas-Turm. Die meisten Sehenswürdigkeiten liegen höchstens 20 Gehminuten vom "
        "Kathedralenplatz entfernt.",
        "Barokne vanalinn siseõuede ja kirikutornidega, kunstnike vabariik Užupis üle jõe ja kõige kohal "
        "Gediminase torn. Enamik vaatamisväärsusi on Toomkiriku väljakult kuni 20 minuti jalutuskäigu kaugusel.",
    ),
    "helsinki": tr(
        "The white Cathedral on Senate Square, the Market Square by the water and the sea fortress of Suomenlinna "
        "a 15-minute ferry ride away (the HSL ticket covers it). Saunas with a sea view are open all year.",
        "Белый собор на Сенатской площади, Рыночная площадь у воды и морская крепость Суоменлинна в 15 минутах "
        "на пароме (билет HSL действует). Сауны с видом на море открыты круглый год.",
        "Der weiße Dom am Senatsplatz, der Marktplatz am Wasser und die Seefestung Suomenlinna, 15 Minuten mit "
        "der Fähre (das HSL-Ticket gilt). Saunen mit Meerblick haben das ganze Jahr geöffnet.",
        "Valge toomkirik Senati väljakul, turuplats vee ääres ja merekindlus Suomenlinna 15-minutilise "
        "praamisõidu kaugusel (HSL-i pilet kehtib). Merevaatega saunad on avatud aasta ringi.",
    ),
    "stockholm": tr(
        "Fourteen islands joined by bridges: the lanes of Gamla stan, the museums of Djurgården and the "
        "archipelago boats from Strömkajen. Tap your card on the metro; many museums are free on weekday evenings.",
        "Четырнадцать островов, соединённых мостами: улочки Гамла Стан, музеи Юргордена и катера по шхерам от "
        "Стрёмкаен. В метро оплата картой; во многие музеи вечером в будни вход свободный.",
        "Vierzehn Inseln, durch Brücken verbunden: die Gassen von Gamla stan, die Museen auf Djurgården und die "
        "Schärenboote ab Strömkajen. In der U-Bahn zahlen Sie mit Karte; viele Museen sind werktags abends frei.",
        "Neliteist saart, mida ühendavad sillad: Gamla stani tänavad, Djurgårdeni muuseumid ja saarestikulaevad "
        "Strömkajenilt. Metroos makske kaardiga; paljud muuseumid on tööpäevade õhtuti tasuta.",
    ),
    "parnu": tr(
        "Estonia's summer capital: a wide sandy beach, a promenade lined with villas and a small Old Town around "
        "the Tallinn Gate. The town is flat and compact, best seen by bike.",
        "Летняя столица Эстонии: широкий песчаный пляж, променад с виллами и небольшой Старый город вокруг "
        "Таллинских ворот. Город ровный и компактный, его лучше всего смотреть с велосипеда.",
        "Estlands Sommerhauptstadt: ein breiter Sandstrand, eine Promenade mit Villen und eine kleine Altstadt rund "
        "um das Tallinner Tor. Die Stadt ist flach und kompakt, am schönsten mit dem Fahrrad.",
        "Eesti suvepealinn: lai liivarand, villadega ääristatud promenaad ja väike vanalinn Tallinna värava "
        "ümber. Linn on tasane ja kompaktne, seda on kõige parem avastada rattaga.",
    ),
    "jurmala": tr(
        "Thirty kilometres of white-sand beach between the sea and the Lielupe river, wooden villas among the "
        "pines and the pedestrian Jomas Street in Majori. Trains from Riga take 30 minutes.",
        "Тридцать километров белого песчаного пляжа между морем и рекой Лиелупе, деревянные виллы среди сосен и "
        "пешеходная улица Йомас в Майори. Поезд из Риги идёт 30 минут.",
        "Dreißig Kilometer weißer Sandstrand zwischen dem Meer und der Lielupe, Holzvillen zwischen den Kiefern und "
        "die Fußgängerzone Jomas iela in Majori. Der Zug aus Riga braucht 30 Minuten.",
        "Kolmkümmend kilomeetrit valget liivaranda mere ja Lielupe jõe vahel, puitvillad mändide all ja "
        "jalakäijate Jomas tänav Majoris. Rong Riiast sõidab 30 minutit.",
    ),
    "klaipeda": tr(
        "Lithuania's port town: a half-timbered Old Town, the castle museum and a five-minute ferry to Smiltynė, "
        "the gate to the dunes of the Curonian Spit.",
        "Портовый город Литвы: фахверковый Старый город, музей замка и пятиминутный паром в Смилтине — ворота к "
        "дюнам Куршской косы.",
        "Litauens Hafenstadt: eine Fachwerk-Altstadt, das Burgmuseum und eine fünfminütige Fähre nach Smiltynė, "
        "dem Tor zu den Dünen der Kurischen Nehrung.",
        "Leedu sadamalinn: sõrestikmajadega vanalinn, lossimuuseum ja viieminutiline praamisõit Smiltynėsse, "
        "Kura säärte luidete väravasse.",
    ),
}

FREE: tuple[T, ...] = (
    tr(
        "Wi-Fi, breakfast buffet, the sauna in the evening, coffee and tea in the lobby.",
        "Wi-Fi, завтрак «шведский стол», сауна по вечерам, кофе и чай в лобби.",
        "WLAN, Frühstücksbuffet, abends die Sauna, Kaffee und Tee in der Lobby.",
        "WiFi, hommikusöögilaud, õhtuti saun, kohv ja tee fuajees.",
    ),
    tr(
        "Wi-Fi, bicycles for the day, the gym, luggage storage after check-out.",
        "Wi-Fi, велосипеды на день, тренажёрный зал, хранение багажа после выезда.",
        "WLAN, Fahrräder für den Tag, der Fitnessraum, Gepäckaufbewahrung nach dem Auschecken.",
        "WiFi, jalgrattad päevaks, jõusaal, pagasihoid pärast väljaregistreerimist.",
    ),
    tr(
        "Wi-Fi, the pool and the sauna area, bathrobes, a city map and advice at the reception.",
        "Wi-Fi, бассейн и сауны, халаты, карта города и советы на ресепшене.",
        "WLAN, Pool und Saunabereich, Bademäntel, ein Stadtplan und Tipps an der Rezeption.",
        "WiFi, bassein ja saunad, hommikumantlid, linnakaart ja nõuanded vastuvõtus.",
    ),
)
PAID: tuple[T, ...] = (
    tr(
        "Parking in the courtyard, spa treatments, late check-out until 15:00.",
        "Парковка во дворе, спа-процедуры, поздний выезд до 15:00.",
        "Parken im Innenhof, Spa-Anwendungen, später Check-out bis 15:00.",
        "Parkimine siseõues, spaahooldused, hiline väljaregistreerimine kuni 15:00.",
    ),
    tr(
        "Airport transfer, laundry, dinner in the restaurant, the private sauna by the hour.",
        "Трансфер из аэропорта, прачечная, ужин в ресторане, отдельная сауна с почасовой оплатой.",
        "Flughafentransfer, Wäscheservice, Abendessen im Restaurant, die private Sauna stundenweise.",
        "Lennujaamatransfeer, pesupesemine, õhtusöök restoranis, privaatsaun tunnitasuga.",
    ),
)
TIMETABLE: tuple[T, ...] = (
    tr(
        "Reception 24/7. Breakfast 7:00-10:30 (weekends until 11:00). Check-in from 15:00, check-out by 12:00.",
        "Ресепшен круглосуточно. Завтрак 7:00-10:30 (в выходные до 11:00). Заезд с 15:00, выезд до 12:00.",
        "Rezeption rund um die Uhr. Frühstück 7:00-10:30 (am Wochenende bis 11:00). Check-in ab 15:00, "
        "Check-out bis 12:00.",
        "Vastuvõtt ööpäev läbi. Hommikusöök 7:00-10:30 (nädalavahetusel kuni 11:00). Sisseregistreerimine alates "
        "15:00, väljaregistreerimine kella 12:00-ks.",
    ),
    tr(
        "Reception 7:00-23:00. Breakfast 7:30-10:00. Sauna 17:00-22:00. Check-in from 14:00, check-out by 11:00.",
        "Ресепшен 7:00-23:00. Завтрак 7:30-10:00. Сауна 17:00-22:00. Заезд с 14:00, выезд до 11:00.",
        "Rezeption 7:00-23:00. Frühstück 7:30-10:00. Sauna 17:00-22:00. Check-in ab 14:00, Check-out bis 11:00.",
        "Vastuvõtt 7:00-23:00. Hommikusöök 7:30-10:00. Saun 17:00-22:00. Sisseregistreerimine alates 14:00, "
        "väljaregistreerimine kella 11:00-ks.",
    ),
)
WITHIN_A_WALK = tr(
    "Within a walk: {sights}.",
    "Рядом, пешком: {sights}.",
    "Zu Fuß erreichbar: {sights}.",
    "Jalutuskäigu kaugusel: {sights}.",
)
PHOTOS_PER_EVENT = (0, 1, 2, 3, 4)


def _sights(region: DemoRegion) -> T:
    """The region's meeting points on land, named in each language."""
    land = [point for point, water in region.meeting_points if not water] or [p for p, _ in region.meeting_points]
    return {lang: text.format(sights=", ".join(p[lang] for p in land)) for lang, text in WITHIN_A_WALK.items()}


def _near(rng: random.Random, region: DemoRegion) -> dict[str, float]:
    """A point within a couple of kilometres of the region's meeting points."""
    points = [MEETING_PLACES[(region.code, p["en"])] for p, _ in region.meeting_points]
    latitude = sum(p[0] for p in points) / len(points) + rng.uniform(-0.015, 0.015)
    longitude = sum(p[1] for p in points) / len(points) + rng.uniform(-0.025, 0.025)
    return {"latitude": round(latitude, 5), "longitude": round(longitude, 5)}


def add_places(catalog: dict[str, Any], seed: int) -> None:
    """Give the demo catalog's regions their guides, most hotels their pages and the events their meeting points on
    the map and photos (in place)."""
    rng = random.Random(f"places-{seed}")
    regions = {region.code: region for region in REGIONS}
    for entry in catalog["regions"]:
        entry["guide"] = dict(GUIDES[entry["id"]])
    for hotel in catalog["hotels"]:
        region = regions[hotel["region"]]
        if rng.random() < 0.2:  # a few hotels have not sent their page yet
            continue
        street = rng.choice(region.places)
        hotel["address"] = f"{street} {rng.randint(1, 60)}, {region.name['en']}"
        if rng.random() < 0.9:
            hotel["location"] = _near(rng, region)
        hotel["free"] = dict(rng.choice(FREE))
        hotel["paid"] = dict(rng.choice(PAID))
        hotel["timetable"] = dict(rng.choice(TIMETABLE))
        hotel["sights"] = _sights(region)
    for event in catalog["events"]:
        place = MEETING_PLACES.get((event["region"], event["meeting_point"]["en"]))
        if place is not None:
            latitude, longitude, address = place
            event["meeting_location"] = {"latitude": latitude, "longitude": longitude}
            event["meeting_address"] = address
        if count := rng.choice(PHOTOS_PER_EVENT):
            event["photos"] = [f"https://picsum.photos/seed/{event['id'][:60]}-{n}/1280/853" for n in range(count)]
