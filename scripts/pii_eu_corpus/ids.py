"""Valid and invalid EU identifiers for the PII corpus: own implementations of the check-digit
algorithms; `python3 ids.py` cross-checks them against python-stdnum (pip install
python-stdnum)."""
import random

DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"

def luhn_ok(s):
    t = 0
    for i, ch in enumerate(reversed(s)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9: d -= 9
        t += d
    return t % 10 == 0

def luhn_digit(s):
    for c in "0123456789":
        if luhn_ok(s + c): return c

def mod11_10_digit(s):
    p = 10
    for ch in s:
        x = (int(ch) + p) % 10
        if x == 0: x = 10
        p = (x * 2) % 11
    return str((11 - p) % 10)

# --- DE Steuer-ID -----------------------------------------------------------
def steuer_id(rng, valid=True):
    while True:
        digs = list(range(10))
        rng.shuffle(digs)
        # 9 distinct digits + one repeated (first digit non-zero)
        body = digs[:9]
        body.append(rng.choice(body))
        rng.shuffle(body)
        if body[0] == 0: continue
        s = "".join(map(str, body))
        c = mod11_10_digit(s)
        if valid: return s + c
        bad = str((int(c) + rng.randint(1, 9)) % 10)
        return s + bad

def fmt_steuer(s, style):
    return {0: s, 1: f"{s[:2]} {s[2:5]} {s[5:8]} {s[8:]}"}[style]

# --- DE Personalausweis (ICAO 9303) -----------------------------------------
PA_ALPHA = "CFGHJKLMNPRTVWXYZ"
def icao_digit(s):
    w = [7, 3, 1]
    t = 0
    for i, ch in enumerate(s):
        v = int(ch) if ch.isdigit() else ord(ch) - 55
        t += v * w[i % 3]
    return str(t % 10)

def perso(rng, with_check=False):
    first = rng.choice("LMNPRTVWXYCFGHJK")
    rest = "".join(rng.choice(PA_ALPHA + "0123456789" * 2) for _ in range(8))
    s = first + rest
    if sum(ch.isdigit() for ch in s) < 2:
        return perso(rng, with_check)
    return s + icao_digit(s) if with_check else s

# --- FR NIR ------------------------------------------------------------------
def nir(rng, valid=True, corsica=False):
    sex = rng.choice("12")
    yy = f"{rng.randint(40, 99):02d}" if rng.random() < .7 else f"{rng.randint(0, 5):02d}"
    mm = f"{rng.randint(1, 12):02d}"
    if corsica:
        dep = rng.choice(["2A", "2B"])
    else:
        dep = f"{rng.choice([1,6,13,31,33,34,35,38,44,45,49,59,62,67,69,75,76,77,78,91,92,93,94,95]):02d}"
    com = f"{rng.randint(1, 400):03d}"
    order = f"{rng.randint(1, 999):03d}"
    body = sex + yy + mm + dep + com + order
    n = int(body.replace("2A", "19").replace("2B", "18"))
    key = 97 - n % 97
    if not valid:
        key = (key + rng.randint(1, 95)) % 97 or 1
        if key == 97 - n % 97: key = key % 96 + 1
    return body + f"{key:02d}"

def fmt_nir(s, style):
    if style == 0: return s
    if style == 1: return f"{s[0]} {s[1:3]} {s[3:5]} {s[5:7]} {s[7:10]} {s[10:13]} {s[13:]}"
    return f"{s[:13]} {s[13:]}"

# --- ES DNI / NIE / CIF -------------------------------------------------------
def dni(rng, valid=True):
    n = rng.randint(1000000, 99999999)
    letter = DNI_LETTERS[n % 23]
    if not valid:
        letter = DNI_LETTERS[(n + rng.randint(1, 22)) % 23]
    return f"{n:08d}{letter}"

def nie(rng, valid=True):
    p = rng.choice("XYZ")
    n = rng.randint(0, 9999999)
    full = int(str("XYZ".index(p)) + f"{n:07d}")
    letter = DNI_LETTERS[full % 23]
    if not valid:
        letter = DNI_LETTERS[(full + rng.randint(1, 22)) % 23]
    return f"{p}{n:07d}{letter}"

def cif(rng, valid=True):
    first = rng.choice("ABBBBBEHGJNPQRSUVW")
    digits = "".join(str(rng.randint(0, 9)) for _ in range(7))
    c = luhn_digit(digits)
    if first in "PQRSWN":
        ctrl = "JABCDEFGHI"[int(c)]
    elif first in "ABEH":
        ctrl = c
    else:
        ctrl = rng.choice([c, "JABCDEFGHI"[int(c)]])
    if not valid:
        ctrl = str((int(c) + rng.randint(1, 9)) % 10) if ctrl.isdigit() else "JABCDEFGHI"[(int(c) + rng.randint(1, 9)) % 10]
    return first + digits + ctrl

# --- IT codice fiscale -------------------------------------------------------
ODD = {**{str(i): v for i, v in enumerate([1, 0, 5, 7, 9, 13, 15, 17, 19, 21])},
       **dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23]))}
def even(ch):
    return int(ch) if ch.isdigit() else ord(ch) - 65
def cf_check(s15):
    t = sum(ODD[ch] if i % 2 == 0 else even(ch) for i, ch in enumerate(s15))
    return chr(65 + t % 26)

SURN = ["RSS", "BNC", "VRD", "FRR", "CLN", "RCC", "MRN", "GLL", "CST", "BRB", "LMB", "SPS", "DLC", "MNT", "PLL", "GRC", "FNT", "CRS"]
NAME = ["MRA", "GPP", "LRA", "FNC", "NDR", "CHR", "MTT", "SFN", "LCU", "PLA", "GLI", "VLR", "DVD", "SRA", "RCR", "BRN"]
MONTHS = "ABCDEHLMPRST"
TOWNS = ["H501", "F205", "L219", "A662", "G273", "D612", "F839", "L736", "C351", "B157", "E506", "A944"]
def cf(rng, valid=True):
    yy = f"{rng.randint(40, 99):02d}" if rng.random() < .8 else f"{rng.randint(0, 5):02d}"
    day = rng.randint(1, 28) + (40 if rng.random() < .5 else 0)
    s15 = rng.choice(SURN) + rng.choice(NAME) + yy + rng.choice(MONTHS) + f"{day:02d}" + rng.choice(TOWNS)
    c = cf_check(s15)
    if not valid:
        c = chr(65 + (ord(c) - 65 + rng.randint(1, 25)) % 26)
    return s15 + c

# --- NL BSN --------------------------------------------------------------------
def bsn_ok(s):
    return (sum((9 - i) * int(c) for i, c in enumerate(s[:8])) - int(s[8])) % 11 == 0
def bsn(rng, valid=True):
    while True:
        s = str(rng.randint(10000000, 699999999)).zfill(9)
        if bsn_ok(s) == valid: return s

def fmt_bsn(s, style):
    return {0: s, 1: f"{s[:4]}.{s[4:6]}.{s[6:]}", 2: f"{s[:3]} {s[3:6]} {s[6:]}"}[style]

# --- VAT -------------------------------------------------------------------------
def vat_de(rng, valid=True):
    body = str(rng.randint(10000000, 99999999))
    c = mod11_10_digit(body)
    if not valid: c = str((int(c) + rng.randint(1, 9)) % 10)
    return "DE" + body + c

def siren(rng):
    body = str(rng.randint(10000000, 99999999))
    return body + luhn_digit(body)

def vat_fr(rng, valid=True):
    s = siren(rng)
    key = (int(s) * 100 + 12) % 97
    if not valid: key = (key + rng.randint(1, 96)) % 97
    return f"FR{key:02d}{s}"

IT_OFFICES = list(range(1, 101)) + [120, 121]
def vat_it(rng, valid=True):
    body = f"{rng.randint(1, 9999999):07d}{rng.choice(IT_OFFICES):03d}"
    c = luhn_digit(body)
    if not valid: c = str((int(c) + rng.randint(1, 9)) % 10)
    return "IT" + body + c

def mod97_num(s):
    return int("".join(str(int(ch, 36)) for ch in s)) % 97

def vat_nl(rng, valid=True, kind="bsn"):
    if kind == "bsn":
        while True:
            s = bsn(rng, True) if valid else bsn(rng, False)
            suf = f"B{rng.randint(1, 3):02d}"
            full = "NL" + s + suf
            if mod97_num(full) != 1 or valid:
                if valid or mod97_num(full) != 1: return full
    # new-style (mod 97 over the whole "NL...B.." string)
    while True:
        s = f"{rng.randint(0, 999999999):09d}"
        for k in range(1, 100):
            full = f"NL{s}B{k:02d}"
            if (mod97_num(full) == 1) == valid and (valid or not bsn_ok(s)):
                return full

def vat_es(rng, valid=True):
    r = rng.random()
    if r < 0.6: return "ES" + cif(rng, valid)
    if r < 0.85: return "ES" + dni(rng, valid)
    return "ES" + nie(rng, valid)

# --- IBAN --------------------------------------------------------------------------
IBAN_FMT = {"DE": "8n10n", "FR": "5n5n11c2n", "ES": "4n4n1n1n10n", "IT": "1a5n5n12c", "NL": "4a10n",
            "BE": "3n7n2n", "AT": "5n11n", "PT": "4n4n11n2n", "IE": "4a6n8n", "LU": "3n13c", "FI": "3n11n",
            "PL": "8n16n", "SE": "3n16n1n", "DK": "4n9n1n", "GR": "3n4n16c", "CZ": "4n6n10n", "SK": "4n6n10n",
            "SI": "5n8n2n", "HR": "7n10n", "HU": "3n4n1n15n1n", "RO": "4a16c", "BG": "4a4n2n8c", "EE": "2n2n11n1n",
            "LV": "4a13c", "LT": "5n11n", "MT": "4a5n18c", "CY": "3n5n16c", "CH": "5n12c"}

def _bban(rng, fmt):
    import re
    out = ""
    for n, t in re.findall(r"(\d+)([nac])", fmt):
        for _ in range(int(n)):
            out += rng.choice({"n": "0123456789", "a": "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "c": "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"}[t] if t != "c" else "0123456789" * 3 + "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    return out

def iban(rng, cc, valid=True):
    bban = _bban(rng, IBAN_FMT[cc])
    check = 98 - int("".join(str(int(ch, 36)) for ch in bban + cc + "00")) % 97
    if not valid:
        check = (check - 2 + rng.randint(1, 95)) % 97 + 2
        if 98 - int("".join(str(int(ch, 36)) for ch in bban + cc + "00")) % 97 == check:
            check = check % 97 + 2
    return f"{cc}{check:02d}{bban}"

def spaced(s):
    return " ".join(s[i:i + 4] for i in range(0, len(s), 4))

def selftest():
    from stdnum.de import idnr, vat as devat
    from stdnum.fr import nir as frnir, tva
    from stdnum.es import dni as esdni, nie as esnie, cif as escif, vat as esvat
    from stdnum.it import codicefiscale, iva
    from stdnum.nl import bsn as nlbsn, vat as nlvat
    from stdnum import iban as stdiban
    rng = random.Random(1)
    for _ in range(300):
        for f, v, val in [(steuer_id, idnr, True), (dni, esdni, True), (nie, esnie, True), (cif, escif, True),
                          (cf, codicefiscale, True), (bsn, nlbsn, True), (vat_de, devat, True), (vat_fr, tva, True),
                          (vat_it, iva, True), (vat_es, esvat, True)]:
            for valid in (True, False):
                x = f(rng, valid)
                assert v.is_valid(x) == valid, (f.__name__, x, valid)
        for valid in (True, False):
            x = nir(rng, valid, corsica=rng.random() < .3)
            assert frnir.is_valid(x) == valid, (x, valid)
            for kind in ("bsn", "new"):
                x = vat_nl(rng, valid, kind)
                assert nlvat.is_valid(x) == valid, (x, valid, kind)
            cc = rng.choice(list(IBAN_FMT))
            x = iban(rng, cc, valid)
            assert stdiban.is_valid(x, check_country=False) == valid, (x, valid)
    p = "T22000129"
    assert icao_digit(p) == "3"
    print("ids selftest ok")

if __name__ == "__main__":
    selftest()
