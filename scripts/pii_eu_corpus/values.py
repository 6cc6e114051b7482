"""Value generators for the EU PII corpus: every function takes a random.Random."""
import ids

FIRST = {
    "de": ["Anna", "Lukas", "Sabine", "Jürgen", "Mehmet", "Katharina", "Tobias", "Uwe", "Leonie", "Felix", "Birgit", "Stefan"],
    "fr": ["Camille", "Julien", "Élodie", "Mathieu", "Sophie", "Karim", "Océane", "Thierry", "Chloé", "Nicolas", "Aurélie", "Yannick"],
    "es": ["Lucía", "Javier", "María José", "Sergio", "Carmen", "Álvaro", "Nuria", "Pablo", "Inés", "Raúl", "Marta", "Jorge"],
    "it": ["Giulia", "Marco", "Francesca", "Alessandro", "Chiara", "Davide", "Federica", "Luca", "Martina", "Giorgio", "Elena", "Paolo"],
    "nl": ["Sanne", "Daan", "Femke", "Jeroen", "Lotte", "Bram", "Eva", "Sem", "Marloes", "Thijs", "Noor", "Ruud"],
    "en": ["Emily", "James", "Priya", "Oliver", "Hannah", "Tom", "Grace", "Liam", "Zoe", "Daniel", "Aisha", "Ben"],
}
LAST = {
    "de": ["Müller", "Schneider", "Fischer", "Weber", "Becker", "Hoffmann", "Schäfer", "Koch", "Yılmaz", "Richter", "Wolf", "Neumann"],
    "fr": ["Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Girard", "Benali", "Fontaine", "Roux", "Chevalier", "Lambert", "Faure"],
    "es": ["García", "Fernández", "López", "Martínez", "Sánchez", "Romero", "Navarro", "Torres", "Domínguez", "Gil", "Ortega", "Castro"],
    "it": ["Rossi", "Bianchi", "Esposito", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca"],
    "nl": ["de Jong", "Jansen", "de Vries", "van den Berg", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "Bos", "Vos"],
    "en": ["Smith", "Patel", "Johnson", "O'Brien", "Walker", "Nguyen", "Clarke", "Hughes", "Evans", "Murphy", "Khan", "Turner"],
}
TLD = {"de": "de", "fr": "fr", "es": "es", "it": "it", "nl": "nl", "en": "com"}

ASCII = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "è": "e", "ê": "e", "ë": "e",
                       "à": "a", "á": "a", "â": "a", "í": "i", "ó": "o", "ú": "u", "ñ": "n", "ç": "c",
                       "ı": "i", "'": "", " ": ""})


def name(rng, lang):
    return f"{rng.choice(FIRST[lang])} {rng.choice(LAST[lang])}"


def email(rng, lang, who=None):
    who = who or name(rng, lang)
    first, last = who.split(" ", 1)
    f = first.lower().translate(ASCII)
    l = last.lower().translate(ASCII)
    style = rng.randrange(6)
    local = [f"{f}.{l}", f"{f[0]}.{l}", f"{f}{l[:1]}", f"{l}.{f}", f"{f}_{l}{rng.randint(1, 99)}", f"{f}-{l}"][style]
    dom = rng.choice([f"example.{TLD[lang]}", "example.com", "example.org", f"mail.example.{TLD[lang]}", "example.net"])
    return f"{local}@{dom}"


def digits(rng, n):
    return "".join(str(rng.randint(0, 9)) for _ in range(n))


def nz_digits(rng, n):
    return str(rng.randint(1, 9)) + digits(rng, n - 1)


# --- phones -----------------------------------------------------------------------------
def phone_de(rng, form=None):
    mobile = rng.choice(["151", "152", "157", "160", "162", "170", "171", "172", "173", "174", "175", "176", "177", "178", "179"])
    area, alen = rng.choice([("30", 8), ("40", 7), ("89", 7), ("221", 7), ("69", 8), ("711", 6), ("211", 7), ("351", 6), ("341", 7), ("511", 6), ("911", 6)])
    sub = nz_digits(rng, alen)
    msub = nz_digits(rng, 7 if mobile[1] != "5" else 8)
    forms = [
        f"0{mobile} {msub}", f"0{mobile}-{msub}", f"0{mobile} {msub[:3]} {msub[3:]}", f"+49 {mobile} {msub}",
        f"+49 (0){mobile} {msub}", f"0{area} {sub}", f"0{area}/{sub}", f"(0{area}) {sub}", f"+49 {area} {sub}",
        f"+49 (0){area} {sub}", f"0049 {area} {sub}", f"0{area} {sub[:3]} {sub[3:]}",
    ]
    return forms[form if form is not None else rng.randrange(len(forms))]


def phone_fr(rng, form=None):
    d = rng.choice("1234567")
    rest = [digits(rng, 2) for _ in range(4)]
    if rest == ["00"] * 4:
        rest[0] = "12"
    forms = [
        f"0{d} {' '.join(rest)}", f"0{d}.{'.'.join(rest)}", f"0{d}-{'-'.join(rest)}", f"+33 {d} {' '.join(rest)}",
        f"+33 (0){d} {' '.join(rest)}", f"0033 {d} {' '.join(rest)}", f"+33 {d}{''.join(rest)}",
    ]
    return forms[form if form is not None else rng.randrange(len(forms))]


def phone_es(rng, form=None):
    m = rng.choice("67") + digits(rng, 2)
    land = "9" + rng.choice("1345") + digits(rng, 1)
    a, b = digits(rng, 3), digits(rng, 3)
    forms = [
        f"{m} {a[:2]} {a[2]}{b[0]} {b[1:]}",  # 3-2-2-2
        f"{land[:2]} {land[2]}{a[:2]} {a[2]}{b[0]} {b[1:]}",  # 2-3-2-2
        f"+34 {m} {a} {b}", f"+34 {m} {a[:2]} {a[2]}{b[0]} {b[1:]}", f"+34 {land} {a} {b}",
        f"{m} {a} {b}",  # needs a phone word
        f"{m}{a}{b}",  # needs a phone word
    ]
    return forms[form if form is not None else rng.randrange(len(forms))]


def phone_it(rng, form=None):
    m = "3" + rng.choice("2345789") + digits(rng, 1)
    a, b = nz_digits(rng, 3), digits(rng, 4)
    land = rng.choice(["02", "06", "011", "055", "081", "051", "010"])
    sub = nz_digits(rng, 10 - len(land))
    forms = [
        f"{m} {a} {b}", f"{m} {a}{b}", f"+39 {m} {a} {b}", f"+39 {m}{a}{b}", f"{land} {sub[:4]} {sub[4:]}",
        f"{land} {sub}", f"+39 {land} {sub[:4]} {sub[4:]}", f"0039 {land} {sub}",
    ]
    return forms[form if form is not None else rng.randrange(len(forms))]


def phone_nl(rng, form=None):
    m = nz_digits(rng, 8)
    area = rng.choice(["20", "10", "30", "70", "40", "50", "24", "13"])
    sub = nz_digits(rng, 7)
    forms = [
        f"06-{m}", f"06 {m}", f"06 {m[:2]} {m[2:4]} {m[4:6]} {m[6:]}", f"+31 6 {m}", f"+31 (0)6 {m}",
        f"0{area}-{sub[:3]} {sub[3:]}", f"0{area} {sub[:3]} {sub[3:]}", f"+31 {area} {sub[:3]} {sub[3:]}",
        f"+31 (0){area} {sub[:3]} {sub[3:]}", f"0031 {area} {sub}",
    ]
    return forms[form if form is not None else rng.randrange(len(forms))]


def phone_en(rng, form=None):
    forms = [
        f"+44 20 7946 0{digits(rng, 3)}", f"020 7946 0{digits(rng, 3)}", f"+44 7700 900{digits(rng, 3)}",
        f"(415) 555-0{rng.randint(100, 199)}", f"+1 212 555 0{rng.randint(100, 199)}", f"07700 900{digits(rng, 3)}",
    ]
    return forms[form if form is not None else rng.randrange(len(forms))]


PHONE = {"de": phone_de, "fr": phone_fr, "es": phone_es, "it": phone_it, "nl": phone_nl, "en": phone_en}

# --- national ids ----------------------------------------------------------------------------
def steuer(rng):
    return ids.fmt_steuer(ids.steuer_id(rng), rng.randrange(2))


def steuer_bad(rng):
    return ids.fmt_steuer(ids.steuer_id(rng, False), rng.randrange(2))


def perso(rng):
    return ids.perso(rng, with_check=rng.random() < 0.3)


def nir(rng):
    return ids.fmt_nir(ids.nir(rng, corsica=rng.random() < 0.15), rng.choice([0, 1, 1, 2]))


def nir_bad(rng):
    return ids.fmt_nir(ids.nir(rng, False), rng.choice([0, 1]))


def dni(rng):
    d = ids.dni(rng)
    style = rng.randrange(4)
    if style == 1:
        return d[:8] + "-" + d[8]
    if style == 2:
        return f"{d[:2]}.{d[2:5]}.{d[5:8]}-{d[8]}"
    return d


def dni_bad(rng):
    d = ids.dni(rng, False)
    return d if rng.random() < .6 else d[:8] + "-" + d[8]


def nie(rng):
    n = ids.nie(rng)
    return n if rng.random() < .7 else f"{n[0]}-{n[1:8]}-{n[8]}"


def nie_bad(rng):
    return ids.nie(rng, False)


def cf(rng):
    c = ids.cf(rng)
    return c if rng.random() < .85 else c.lower()


def cf_bad(rng):
    return ids.cf(rng, False)


def bsn(rng):
    return ids.fmt_bsn(ids.bsn(rng), rng.choice([0, 0, 1, 2]))


def bsn_bad(rng):
    return ids.fmt_bsn(ids.bsn(rng, False), rng.choice([0, 1]))


def passport(rng, lang):
    L = "ABCDEFGHJKLMNPRSTUVWXYZ"
    if lang == "de":
        return rng.choice("CFGHJK") + "".join(rng.choice("CFGHJKLMNPRTVWXYZ0123456789") for _ in range(7)) + str(rng.randint(0, 9))
    if lang == "fr":
        return digits(rng, 2) + rng.choice(L) + rng.choice(L) + digits(rng, 5)
    if lang == "es":
        return rng.choice(["PA", "AA", "PB", "XD"]) + rng.choice(L) + digits(rng, 6)
    if lang == "it":
        return rng.choice(L) + rng.choice(L) + digits(rng, 7)
    if lang == "nl":
        return rng.choice(L) + rng.choice(L) + "".join(rng.choice(L + "0123456789") for _ in range(6)) + str(rng.randint(0, 9))
    return digits(rng, 9)


# --- VAT -----------------------------------------------------------------------------------
def vat(rng, cc, spaced=False):
    v = {"DE": ids.vat_de, "FR": ids.vat_fr, "IT": ids.vat_it, "ES": ids.vat_es}.get(cc)
    x = v(rng) if v else ids.vat_nl(rng, kind=rng.choice(["bsn", "new"]))
    if spaced:
        if cc == "DE":
            return f"DE {x[2:5]} {x[5:8]} {x[8:]}"
        if cc == "FR":
            return f"FR {x[2:4]} {x[4:7]} {x[7:10]} {x[10:]}"
        return x[:2] + " " + x[2:]
    return x


def vat_bad(rng, cc):
    v = {"DE": ids.vat_de, "FR": ids.vat_fr, "IT": ids.vat_it, "ES": ids.vat_es}.get(cc)
    return v(rng, False) if v else ids.vat_nl(rng, False, kind="new")


def piva(rng):
    return ids.vat_it(rng)[2:]


# --- IBAN ----------------------------------------------------------------------------------
def iban(rng, cc, spaced=None):
    x = ids.iban(rng, cc)
    if spaced is None:
        spaced = rng.random() < .6
    return ids.spaced(x) if spaced else x


def iban_bad(rng, cc):
    x = ids.iban(rng, cc, False)
    return ids.spaced(x) if rng.random() < .6 else x


# --- addresses ------------------------------------------------------------------------------
def address(rng, lang):
    n = str(rng.randint(1, 180))
    if lang == "de":
        street = rng.choice(["Musterstraße", "Hauptstraße", "Lindenweg", "Goethestraße", "Am Stadtpark", "Schillerplatz",
                             "Berliner Allee", "Kastanienallee", "Rosengasse", "Hafenstraße", "Unter den Linden", "Ahornring",
                             "Friedrichstr.", "Bahnhofstraße"])
        town = rng.choice([("10115", "Berlin"), ("80331", "München"), ("50667", "Köln"), ("20095", "Hamburg"),
                           ("60311", "Frankfurt am Main"), ("70173", "Stuttgart"), ("04109", "Leipzig"), ("01067", "Dresden"),
                           ("28195", "Bremen"), ("90402", "Nürnberg")])
        sep = rng.choice([", ", ", ", "\n"])
        suffix = rng.choice(["", "", "a", "b"])
        return f"{street} {n}{suffix}{sep}{town[0]} {town[1]}"
    if lang == "fr":
        street = rng.choice(["rue de la Paix", "avenue Victor Hugo", "boulevard Voltaire", "rue des Lilas", "place Bellecour",
                             "allée des Tilleuls", "impasse du Moulin", "chemin des Vignes", "quai de la Loire", "rue Nationale",
                             "avenue Jean Jaurès", "rue du Faubourg Saint-Antoine"])
        town = rng.choice([("75002", "Paris"), ("69002", "Lyon"), ("13001", "Marseille"), ("31000", "Toulouse"),
                           ("33000", "Bordeaux"), ("44000", "Nantes"), ("59000", "Lille"), ("67000", "Strasbourg"),
                           ("34000", "Montpellier"), ("35000", "Rennes")])
        bis = rng.choice(["", "", "", " bis", " ter"])
        sep = rng.choice([", ", ", ", "\n"])
        return f"{n}{bis}{rng.choice([' ', ', '])}{street}{sep}{town[0]} {town[1]}"
    if lang == "es":
        street = rng.choice(["Calle Mayor", "Calle de Alcalá", "Avenida de la Constitución", "Plaza de España", "Paseo de Gracia",
                             "C/ San Vicente", "Calle del Carmen", "Avda. de América", "Calle Real", "Ronda de Segovia"])
        town = rng.choice([("28013", "Madrid"), ("08007", "Barcelona"), ("41001", "Sevilla"), ("46002", "Valencia"),
                           ("48001", "Bilbao"), ("29015", "Málaga"), ("50001", "Zaragoza"), ("15001", "A Coruña")])
        floor = rng.choice(["", "", f", {rng.randint(1, 8)}º {rng.choice('ABCD')}", f", {rng.randint(1, 6)}º"])
        return f"{street}{rng.choice([' ', ', '])}{n}{floor}, {town[0]} {town[1]}"
    if lang == "it":
        street = rng.choice(["Via Roma", "Via Garibaldi", "Corso Vittorio Emanuele II", "Piazza del Duomo", "Via Dante",
                             "Viale Europa", "Via Nazionale", "Largo Augusto", "Via dei Mille", "Corso Buenos Aires"])
        town = rng.choice([("00184", "Roma"), ("20121", "Milano"), ("10121", "Torino"), ("50122", "Firenze"),
                           ("80133", "Napoli"), ("40121", "Bologna"), ("16121", "Genova"), ("90133", "Palermo")])
        prov = rng.choice(["", "", " (MI)", " RM"]) if town[1] in ("Milano", "Roma") else ""
        sep = rng.choice([", ", ", ", " - "])
        return f"{street}{rng.choice([' ', ', '])}{n}{sep}{town[0]} {town[1]}{prov}"
    if lang == "nl":
        street = rng.choice(["Damrak", "Keizersgracht", "Coolsingel", "Oudegracht", "Lange Voorhout", "Prinsengracht",
                             "Stationsplein", "Markt", "Dorpsstraat", "Laan van Meerdervoort", "Kerkstraat"])
        town = rng.choice([("1012 LG", "Amsterdam"), ("1015 CJ", "Amsterdam"), ("3011 AD", "Rotterdam"), ("3511 AJ", "Utrecht"),
                           ("2514 JA", "Den Haag"), ("5611 EM", "Eindhoven"), ("9711 LM", "Groningen"), ("6811 DB", "Arnhem")])
        suffix = rng.choice(["", "", "-2", "A", " hs"])
        sep = rng.choice([", ", ", ", "\n"])
        return f"{street} {n}{suffix}{sep}{town[0]} {town[1]}"
    raise ValueError(lang)


# --- dates -------------------------------------------------------------------------------------
MONTHS = {
    "de": ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"],
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"],
    "es": ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"],
    "it": ["gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"],
    "nl": ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"],
}


def birth(rng, lang, style=None):
    y, m, d = rng.randint(1950, 2004), rng.randint(1, 12), rng.randint(1, 28)
    styles = {
        "de": [f"{d:02d}.{m:02d}.{y}", f"{d}.{m}.{y}", f"{d}. {MONTHS['de'][m - 1]} {y}"],
        "fr": [f"{d:02d}/{m:02d}/{y}", f"{d} {MONTHS['fr'][m - 1]} {y}"],
        "es": [f"{d:02d}/{m:02d}/{y}", f"{d} de {MONTHS['es'][m - 1]} de {y}"],
        "it": [f"{d:02d}/{m:02d}/{y}", f"{d} {MONTHS['it'][m - 1]} {y}"],
        "nl": [f"{d:02d}-{m:02d}-{y}", f"{d} {MONTHS['nl'][m - 1]} {y}"],
        "en": [f"{y}-{m:02d}-{d:02d}", f"{MONTHS['en'][m - 1]} {d}, {y}", f"{d} {MONTHS['en'][m - 1]} {y}"],
    }[lang]
    return styles[style if style is not None else rng.randrange(len(styles))]


def date_plain(rng, lang):
    y, m, d = rng.randint(2019, 2026), rng.randint(1, 12), rng.randint(1, 28)
    return {"de": f"{d:02d}.{m:02d}.{y}", "fr": f"{d:02d}/{m:02d}/{y}", "es": f"{d:02d}/{m:02d}/{y}",
            "it": f"{d:02d}/{m:02d}/{y}", "nl": f"{d:02d}-{m:02d}-{y}", "en": f"{y}-{m:02d}-{d:02d}"}[lang]


# --- negatives ------------------------------------------------------------------------------
def order_amazon(rng):
    return f"{digits(rng, 3)}-{digits(rng, 7)}-{digits(rng, 7)}"


def tracking(rng):
    return rng.choice([
        "00340434" + digits(rng, 12),  # DHL 20-digit
        "JJD" + digits(rng, 15),
        "1Z" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(16)),
        "3S" + "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(4)) + digits(rng, 9),
        "6A" + digits(rng, 11),
        "PQ4F6P" + digits(rng, 16) + "X",
        digits(rng, 12),  # GLS
        "RR" + digits(rng, 9) + rng.choice(["DE", "FR", "IT", "ES", "NL"]),
    ])


def price(rng, lang):
    a = rng.randint(1, 999)
    b = rng.randint(0, 999)
    c = rng.randint(0, 99)
    if lang in ("de", "es", "it", "nl"):
        return rng.choice([f"{a}.{b:03d},{c:02d} €", f"€ {a}.{b:03d},{c:02d}", f"{a},{c:02d} EUR", f"EUR {a}.{b:03d}"])
    if lang == "fr":
        return rng.choice([f"{a} {b:03d},{c:02d} €", f"{a},{c:02d} €", f"{a} {b:03d} {rng.randint(0, 999):03d} €"])
    return rng.choice([f"€{a},{b:03d}.{c:02d}", f"${a}.{c:02d}", f"£{a},{b:03d}"])


def version(rng):
    return rng.choice([f"v{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}",
                       f"10.0.{rng.randint(17000, 22999)}.{rng.randint(100, 4000)}",
                       f"{rng.randint(1, 5)}.{rng.randint(0, 9)}.{rng.randint(0, 30)}-rc{rng.randint(1, 4)}",
                       f"build {rng.randint(2019, 2026)}.{rng.randint(1, 12)}.{rng.randint(1, 28)}"])


def ean(rng):
    body = "40" + digits(rng, 10)
    s = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(body))
    return body + str((10 - s % 10) % 10)


def isbn(rng):
    body = "978" + rng.choice(["3", "2", "84", "88", "90"])
    body += digits(rng, 12 - len(body))
    s = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(body))
    full = body + str((10 - s % 10) % 10)
    return f"{full[:3]}-{full[3]}-{full[4:7]}-{full[7:12]}-{full[12]}"


def invoice_no(rng):
    return rng.choice([f"RE-{rng.randint(2019, 2026)}-{digits(rng, 5)}", f"FA{rng.randint(2019, 2026)}/{digits(rng, 4)}",
                       f"INV-{digits(rng, 6)}", f"{rng.randint(2019, 2026)}{digits(rng, 6)}", f"F-{digits(rng, 8)}"])


def customer_no(rng):
    return digits(rng, rng.choice([7, 8, 10]))
