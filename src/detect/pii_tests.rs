//! Unit tests of `pii.rs`.

use super::*;
use crate::detect::EntityKind;

fn kinds(text: &str) -> Vec<(EntityKind, &str)> {
    detect_pii(text)
        .into_iter()
        .map(|f| (f.kind, &text[f.start..f.end]))
        .collect()
}

fn assert_finds(text: &str, kind: EntityKind, value: &str) {
    let got = kinds(text);
    assert!(
        got.contains(&(kind, value)),
        "{text:?}: expected {kind} {value:?}, got {got:?}"
    );
}

fn assert_none(text: &str) {
    let got = kinds(text);
    assert!(got.is_empty(), "{text:?}: expected nothing, got {got:?}");
}

fn assert_no_kind(text: &str, kind: EntityKind) {
    let got = kinds(text);
    assert!(
        got.iter().all(|(k, _)| *k != kind),
        "{text:?}: expected no {kind}, got {got:?}"
    );
}

#[test]
fn emails() {
    assert_finds(
        "mail jane.doe+tag@example.com please",
        EntityKind::Email,
        "jane.doe+tag@example.com",
    );
    assert_finds(
        "<bob@mail.example.co.uk>.",
        EntityKind::Email,
        "bob@mail.example.co.uk",
    );
    assert_finds(
        "mailto:support@example.org",
        EntityKind::Email,
        "support@example.org",
    );
    assert_finds(
        "Email:alice_w@example.net",
        EntityKind::Email,
        "alice_w@example.net",
    );
    assert_finds(
        "Contact ...john@example.com",
        EntityKind::Email,
        "john@example.com",
    );
    assert_none("ssh to user@localhost");
    assert_none("npm i lodash@4.17.21");
    assert_none("see icon@2x.png");
    assert_none("postgres://app:s3cret@db.example.com:5432/prod");
    assert_none("git clone git@github.com:acme/repo.git");
    assert_none("decorator @app.route('/')");
    assert_none("a..b@example.com is malformed? no: local a..b");
}

#[test]
fn phones() {
    assert_finds(
        "call +14155552671 now",
        EntityKind::PhoneNumber,
        "+14155552671",
    );
    assert_finds(
        "UK office +44 20 7946 0958.",
        EntityKind::PhoneNumber,
        "+44 20 7946 0958",
    );
    assert_finds(
        "ring (415) 555-2671",
        EntityKind::PhoneNumber,
        "(415) 555-2671",
    );
    assert_finds("ring 415-555-2671", EntityKind::PhoneNumber, "415-555-2671");
    assert_finds("ring 415.555.2671", EntityKind::PhoneNumber, "415.555.2671");
    assert_finds(
        "ring 1-800-555-0199",
        EntityKind::PhoneNumber,
        "1-800-555-0199",
    );
    assert_finds(
        "London 020 7946 0958",
        EntityKind::PhoneNumber,
        "020 7946 0958",
    );
    assert_finds(
        "Paris 01 23 45 67 89",
        EntityKind::PhoneNumber,
        "01 23 45 67 89",
    );
    assert_finds(
        "Berlin 030 12345678",
        EntityKind::PhoneNumber,
        "030 12345678",
    );
    assert_finds(
        "+33 1 23 45 67 89",
        EntityKind::PhoneNumber,
        "+33 1 23 45 67 89",
    );
    assert_finds(
        "+44 (0)20 7946 0958",
        EntityKind::PhoneNumber,
        "+44 (0)20 7946 0958",
    );
    assert_finds(
        "0044 20 7946 0958",
        EntityKind::PhoneNumber,
        "0044 20 7946 0958",
    );
    assert_finds("phone: 4155552671", EntityKind::PhoneNumber, "4155552671");
    assert_finds(
        "+1 415 555 2671 and 12 more",
        EntityKind::PhoneNumber,
        "+1 415 555 2671",
    );
    assert_none("2 + 3 = 5 and 415 - 555 = -140");
    assert_none("order 4155552671 shipped");
    assert_none("Ticket 4155552671");
    assert_none("123-456-7890 is not NANP");
    assert_none("on 01.02.2024 at 10:30");
    assert_none("uuid 123e4567-e89b-12d3-a456-426614174000");
    assert_none("ISBN 978-0-306-40615-7");
    assert_none("epoch 1700000000000 ms");
}

#[test]
fn cards() {
    assert_finds(
        "card 4111 1111 1111 1111 exp 12/26",
        EntityKind::CreditCard,
        "4111 1111 1111 1111",
    );
    assert_finds(
        "5555-5555-5555-4444",
        EntityKind::CreditCard,
        "5555-5555-5555-4444",
    );
    assert_finds(
        "amex 3782 822463 10005",
        EntityKind::CreditCard,
        "3782 822463 10005",
    );
    assert_finds(
        "pan=4012888888881881;",
        EntityKind::CreditCard,
        "4012888888881881",
    );
    assert_finds(
        "card 4111 1111 1111 1111 12/26",
        EntityKind::CreditCard,
        "4111 1111 1111 1111",
    );
    assert_none("card 4111 1111 1111 1112");
    assert_none("abc4111111111111111");
    assert_none("id_4111111111111111");
    assert_none("order #4111111111111111 shipped");
    assert_none("ISBN 9780306406157");
}

#[test]
fn ibans() {
    assert_finds(
        "IBAN GB82 WEST 1234 5698 7654 32 thanks",
        EntityKind::Iban,
        "GB82 WEST 1234 5698 7654 32",
    );
    assert_finds(
        "DE89370400440532013000 BIC COBADEFFXXX",
        EntityKind::Iban,
        "DE89370400440532013000",
    );
    assert_finds(
        "FR14 2004 1010 0505 0001 3M02 606",
        EntityKind::Iban,
        "FR14 2004 1010 0505 0001 3M02 606",
    );
    assert_none("GB83 WEST 1234 5698 7654 32");
    assert_none("DE89 3704 0044 0532 0130 01");
    assert_none("ZZ82 WEST 1234 5698 7654 32");
}

#[test]
fn ssns() {
    assert_finds("SSN 123-45-6789", EntityKind::UsSsn, "123-45-6789");
    assert_finds(
        "my social security number is 219 09 9998",
        EntityKind::UsSsn,
        "219 09 9998",
    );
    assert_finds("ssn=219099998", EntityKind::UsSsn, "219099998");
    assert_none("000-12-3456");
    assert_none("666-12-3456");
    assert_none("912-12-3456");
    assert_none("123-00-4567 and 123-45-0000");
    assert_none("id 219099998");
    assert_none("part 123-45-6789");
}

#[test]
fn ips() {
    assert_finds(
        "from 192.168.1.10 port",
        EntityKind::IpAddress,
        "192.168.1.10",
    );
    assert_finds("connect 10.0.0.1:8080", EntityKind::IpAddress, "10.0.0.1");
    assert_finds("net 10.1.0.0/16", EntityKind::IpAddress, "10.1.0.0");
    assert_finds(
        "v6 2001:db8::8a2e:370:7334 ok",
        EntityKind::IpAddress,
        "2001:db8::8a2e:370:7334",
    );
    assert_finds("[fe80::1]:443", EntityKind::IpAddress, "fe80::1");
    assert_finds(
        "::ffff:192.0.2.1",
        EntityKind::IpAddress,
        "::ffff:192.0.2.1",
    );
    assert_finds(
        "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
        EntityKind::IpAddress,
        "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
    );
    assert_none("v10.0.0.1");
    assert_none("version 10.0.0.1");
    assert_none("1.2.3.4.5");
    assert_none("OID 1.3.6.1.4.1.311");
    assert_none("OID 2.5.4.3");
    assert_none("semver 1.2.3 and 2.0.0-beta.1");
    assert_none("999.1.1.1");
    assert_none("use std::net::Ipv6Addr; a::b");
    assert_none("at 10:30:45");
}

#[test]
fn macs() {
    assert_finds(
        "mac 00:1A:2B:3C:4D:5E up",
        EntityKind::MacAddress,
        "00:1A:2B:3C:4D:5E",
    );
    assert_finds(
        "mac 00-1a-2b-3c-4d-5e",
        EntityKind::MacAddress,
        "00-1a-2b-3c-4d-5e",
    );
    assert_finds(
        "cisco 001a.2b3c.4d5e",
        EntityKind::MacAddress,
        "001a.2b3c.4d5e",
    );
    assert_none("00:1A:2B:3C:4D:5E:6F");
    assert_none("sha 001a2b3c4d5e6f70");
    assert_none("1234.5678.9012");
}

#[test]
fn dates_of_birth() {
    assert_finds("DOB: 1985-03-14", EntityKind::DateOfBirth, "1985-03-14");
    assert_finds(
        "born on 14/03/1985 in Lyon",
        EntityKind::DateOfBirth,
        "14/03/1985",
    );
    assert_finds(
        "date of birth 03/14/1985",
        EntityKind::DateOfBirth,
        "03/14/1985",
    );
    assert_finds(
        "Geburtsdatum: 14.03.1985",
        EntityKind::DateOfBirth,
        "14.03.1985",
    );
    assert_finds(
        "I was born March 14, 1985.",
        EntityKind::DateOfBirth,
        "March 14, 1985",
    );
    assert_finds(
        "birthday is 14 March 1985",
        EntityKind::DateOfBirth,
        "14 March 1985",
    );
    assert_finds(
        "Née le 3 février 1990 à Lyon",
        EntityKind::DateOfBirth,
        "3 février 1990",
    );
    assert_finds(
        r#"{"date_of_birth": "1985-03-14"}"#,
        EntityKind::DateOfBirth,
        "1985-03-14",
    );
    assert_finds(
        r#"{"birthDate":"1990-12-01"}"#,
        EntityKind::DateOfBirth,
        "1990-12-01",
    );
    assert_none("meeting on 1985-03-14");
    assert_none("invoice dated 14/03/1985");
    assert_none("DOB: 1985-02-30");
    assert_none("born in Ohio. The meeting is on 2024-05-01");
    assert_none("the stubborn build failed 2024-05-01");
    let t = "DOB 1985-03-14, appointment 2024-05-01";
    assert_eq!(kinds(t), vec![(EntityKind::DateOfBirth, "1985-03-14")]);
}

#[test]
fn non_ascii_offsets() {
    let t = "Привет! Пишите на иван@пример.рф или звоните +7 912 345-67-89, \
             карта 4111 1111 1111 1111 — né le 14 mars 1985 à Zürich";
    let got = kinds(t);
    assert!(
        got.contains(&(EntityKind::Email, "иван@пример.рф")),
        "{got:?}"
    );
    assert!(
        got.contains(&(EntityKind::PhoneNumber, "+7 912 345-67-89")),
        "{got:?}"
    );
    assert!(
        got.contains(&(EntityKind::CreditCard, "4111 1111 1111 1111")),
        "{got:?}"
    );
    assert!(
        got.contains(&(EntityKind::DateOfBirth, "14 mars 1985")),
        "{got:?}"
    );
    assert_no_kind("café4111111111111111", EntityKind::CreditCard);
    // Scripts without spaces between words do not glue to an entity.
    let t = "メールはyamada@example.jpです。電話番号は090-1234-5678です。";
    assert_eq!(
        kinds(t),
        vec![
            (EntityKind::Email, "yamada@example.jp"),
            (EntityKind::PhoneNumber, "090-1234-5678")
        ]
    );
    assert_finds(
        "이메일은 kim@example.com입니다",
        EntityKind::Email,
        "kim@example.com",
    );
    for f in detect_pii(t) {
        assert!(t.is_char_boundary(f.start) && t.is_char_boundary(f.end));
    }
}

#[test]
fn findings_do_not_overlap_and_are_sorted() {
    let t = "IBAN DE89 3704 0044 0532 0130 00, card 4111-1111-1111-1111, ip 10.0.0.1";
    let got = detect_pii(t);
    assert_eq!(
        got.iter().map(|f| f.kind).collect::<Vec<_>>(),
        vec![
            EntityKind::Iban,
            EntityKind::CreditCard,
            EntityKind::IpAddress
        ]
    );
    assert!(got.windows(2).all(|w| w[0].end <= w[1].start));
}

#[test]
fn huge_inputs_finish() {
    let chunk = "Contact jane@example.com or +44 20 7946 0958; card 4111 1111 1111 1111; \
                 ip 10.0.0.1 v1.2.3.4.5 DOB 1985-03-14 ::: 1111111111111111111111 aaaa@@ ";
    let mut big = String::with_capacity(5 << 20);
    while big.len() < 5 << 20 {
        big.push_str(chunk);
    }
    let n = detect_pii(&big).len();
    assert!(n > 0);
    // Adversarial shapes: long runs that almost match.
    for unit in ["1", "1.", "a@", "1-", "1 ", "0:", "+1 ", "DOB 1.1."] {
        let s = unit.repeat((256 << 10) / unit.len());
        let _ = detect_pii(&s);
    }
}
