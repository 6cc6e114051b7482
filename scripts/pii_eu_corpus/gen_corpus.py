"""Writes tests/corpus/pii_eu.jsonl, the European PII corpus (issue 11).

Hand-written sentence templates (tpl_*.py: German, French, Spanish, Italian, Dutch, English
forms, e-mails, CRM notes, HR letters, invoices, chats, tickets, records, and hard negatives:
invalid check digits, order and tracking numbers, dates, prices, versions, product codes,
ISBNs, postcodes alone) filled with identifiers generated with their official check-digit
algorithms (ids.py, values.py). The seed is fixed: the output is reproducible.

    python3 scripts/pii_eu_corpus/gen_corpus.py [OUT]   # default tests/corpus/pii_eu.jsonl
    python3 scripts/pii_eu_corpus/ids.py                # cross-check with python-stdnum
"""
import json
import os
import random
import re
import sys

import ids
import values as V
import tpl_de, tpl_fr, tpl_es, tpl_it, tpl_nl, tpl_en

SEED = 20261211
PH = re.compile(r"\{([A-Z_]+):([a-zA-Z0-9_]+)(?::(\d+))?\}")


def make(rng, lang, gen, arg, ctx):
    a = int(arg) if arg is not None else None
    if gen == "name":
        ctx["name"] = V.name(rng, lang)
        return ctx["name"]
    if gen == "first":
        ctx["name"] = V.name(rng, lang)
        return ctx["name"].split(" ")[0]
    if gen == "last":
        ctx["name"] = V.name(rng, lang)
        return ctx["name"].split(" ", 1)[1]
    if gen == "email":
        return V.email(rng, lang, ctx.get("name"))
    if gen.startswith("phone_"):
        return V.PHONE[gen[6:]](rng, a)
    if gen.startswith("iban_bad_"):
        return V.iban_bad(rng, gen[9:])
    if gen.startswith("iban_"):
        parts = gen.split("_")
        spaced = {"s": True, "u": False}.get(parts[2]) if len(parts) > 2 else None
        return V.iban(rng, parts[1], spaced)
    if gen.startswith("vat_bad_"):
        return V.vat_bad(rng, gen[8:])
    if gen.startswith("vat_"):
        parts = gen.split("_")
        return V.vat(rng, parts[1], spaced=len(parts) > 2)
    if gen == "piva":
        return V.piva(rng)
    if gen == "piva_bad":
        return ids.vat_it(rng, False)[2:]
    if gen.startswith("passport_"):
        return V.passport(rng, gen[9:])
    if gen.startswith("addr_"):
        return V.address(rng, gen[5:])
    if gen.startswith("dob_"):
        return V.birth(rng, gen[4:], a)
    if gen.startswith("digits"):
        return V.digits(rng, int(gen[6:]))
    simple = {
        "steuer": V.steuer, "steuer_bad": V.steuer_bad, "perso": V.perso, "nir": V.nir, "nir_bad": V.nir_bad,
        "dni": V.dni, "dni_bad": V.dni_bad, "nie": V.nie, "nie_bad": V.nie_bad, "cf": V.cf, "cf_bad": V.cf_bad,
        "bsn": V.bsn, "bsn_bad": V.bsn_bad, "order": V.order_amazon, "tracking": V.tracking, "cust": V.customer_no,
        "invoice": V.invoice_no, "ean": V.ean, "isbn": V.isbn, "version": V.version,
    }
    if gen in simple:
        return simple[gen](rng)
    if gen == "date":
        return V.date_plain(rng, lang)
    if gen == "price":
        return V.price(rng, lang)
    raise KeyError(gen)


def render(rng, lang, template):
    for _ in range(50):
        ctx = {}
        out, labels, pos = [], [], 0
        length = 0
        for m in PH.finditer(template):
            lit = template[pos:m.start()].replace("{{", "{").replace("}}", "}")
            out.append(lit)
            length += len(lit)
            kind, gen, arg = m.groups()
            v = make(rng, lang, gen, arg, ctx)
            if kind != "_":
                labels.append((kind, v, length))
            out.append(v)
            length += len(v)
            pos = m.end()
        out.append(template[pos:].replace("{{", "{").replace("}}", "}"))
        text = "".join(out)
        # Every labelled value must be found where it was put (the harness takes the first
        # occurrence).
        if all(text.find(v) == at for _, v, at in labels):
            return text, [{"kind": k, "value": v} for k, v, _ in labels]
    raise RuntimeError(template)




def main():
    rng = random.Random(SEED)
    lines = []
    for lang, mod in [("de", tpl_de), ("fr", tpl_fr), ("es", tpl_es), ("it", tpl_it), ("nl", tpl_nl), ("en", tpl_en)]:
        for category, template in mod.T:
            text, ents = render(rng, lang, template)
            lines.append({"text": text, "entities": ents, "lang": lang, "category": category})
    seen = set()
    for l in lines:
        assert l["text"] not in seen, l["text"]
        seen.add(l["text"])
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "tests/corpus/pii_eu.jsonl")
    with open(out, "w", encoding="utf-8") as f:
        for l in lines:
            f.write(json.dumps(l, ensure_ascii=False) + "\n")
    print(f"{len(lines)} lines -> {out}")


if __name__ == "__main__":
    main()
