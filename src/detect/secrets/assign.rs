//! Secrets named as such: `name <sep> value` (`password = "…"`, `api_key: …`, `Authorization:
//! Bearer …`, `<password>…</password>`, `the password is …`) and passwords on command lines.
//! The name says what the value is; the value must still look like one (not a placeholder, a
//! type, a code expression or a word), and a generic secret must look random (entropy).

use std::sync::LazyLock;

use regex::Regex;

use super::*;

/// `name <sep> value`, anchored at the start of a name (the driver knows where names start:
/// around the secret-name words it found). The name must contain a secret-ish word; the code
/// decides what it means.
pub(super) static KV: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^",
        // A two-word name (`auth token: …`) is tried before a one-word one (`auth`).
        r"(?i)(?P<name>",
        r"(?:api|access|secret|auth|refresh|session|private|client|bearer|bot)[ ](?:key|token|secret)",
        r"|mot[ _]de[ _]passe|contrase(?:ñ|n)a|has(?:ł|l)o|l(?:ö|o)senord|passwort|wachtwoord|senha",
        r"|[A-Za-z0-9_.\-]*(?:token|secret|key|auth|bearer|credential|creds|pass|pwd)[A-Za-z0-9_.\-]*",
        r")",
        r"(?P<sep>",
        // `password: str = "…"` (annotated assignment)
        r"(?:\\?[\x22']\]|\\?[\x22'])?[ \t]*:[ \t]*[A-Za-z_][A-Za-z0-9_<>&\[\]]*[ \t]*=[ \t]*",
        r"|(?:\\?[\x22']\]|\\?[\x22'])?[ \t]*(?:=>|:=|=|:)[ \t]*",
        // `setHeader("X-Api-Key", "…")`, `<add key="ApiKey" value="…"/>`, `<password>…<`
        r"|\\?[\x22'][ \t]*,[ \t]*",
        r"|[\x22'][ \t]+value[ \t]*=[ \t]*",
        r"|>",
        r"|[ \t]+(?:is|was|est|ist|lautet|es|è)[ \t]+(?::[ \t]*)?",
        r"|\([ \t]*",
        r"|[ \t]+",
        r")",
        r"(?:(?P<scheme>bearer|basic|token|bot|jwt|ssws|apikey|api-key|sso-key)[ \t]+)?",
        r"(?:\\\x22(?P<eq>[^\x22\\\r\n]*)\\\x22",
        r"|\x22(?P<dq>[^\x22\r\n]*)\x22|'(?P<sq>[^'\r\n]*)'",
        r"|(?P<uq>[^\s\x22'`,;&)\]}<>]+))",
    ))
    .expect("KV regex")
});

// ---------------------------------------------------------------------------------------------
// name = value

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum NameClass {
    Password,
    AwsSecret,
    Generic,
    Other,
}

/// The last `n` bytes of `s` or a little more (never splits a character).
pub(super) fn tail(s: &str, n: usize) -> &str {
    let mut from = s.len().saturating_sub(n);
    while !s.is_char_boundary(from) {
        from -= 1;
    }
    &s[from..]
}

/// `apiKey` / `API-KEY` / `x.api_key` -> `api_key`; only the last 64 bytes matter.
pub(super) fn normalize_name(name: &str) -> String {
    let tail = tail(name, 64);
    let mut out = String::with_capacity(tail.len() + 8);
    let mut prev_lower = false;
    for c in tail.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            prev_lower = true;
        } else {
            out.push('_');
            prev_lower = false;
        }
    }
    out.trim_matches('_').to_string()
}

/// `<x>_pass` is a password only for these `<x>` (a bare `pass` is a compiler/filter pass or a
/// test result: `in_filter_pass`, `PASS: test_x`).
pub(super) const PASS_QUALIFIERS: &[&str] = &[
    "db",
    "user",
    "smtp",
    "mail",
    "ldap",
    "admin",
    "root",
    "ftp",
    "sftp",
    "proxy",
    "redis",
    "mysql",
    "pg",
    "postgres",
    "become",
    "sudo",
    "auth",
    "login",
    "app",
    "api",
    "svc",
    "service",
    "wifi",
    "vpn",
    "imap",
    "default",
    "rabbitmq",
    "rabbit",
    "mongo",
    "mongodb",
    "database",
    "key",
    "keystore",
    "truststore",
    "store",
    "ssh",
    "sasl",
    "kafka",
    "bind",
    "basic",
    "http",
    "jks",
];

/// Password in other languages (lowercase; matched at the end of the name).
pub(super) const FOREIGN_PASSWORD: [&str; 11] = [
    "mot de passe",
    "mot_de_passe",
    "contraseña",
    "contrasena",
    "hasło",
    "haslo",
    "lösenord",
    "losenord",
    "passwort",
    "wachtwoord",
    "senha",
];

/// Trailing name parts that qualify rather than name the thing (`DB_PASSWORD_PROD`).
pub(super) const QUALIFIER_SEGMENTS: [&str; 15] = [
    "prod",
    "production",
    "dev",
    "staging",
    "stage",
    "test",
    "live",
    "value",
    "b64",
    "base64",
    "old",
    "new",
    "current",
    "primary",
    "secondary",
];

pub(super) fn classify_name(name: &str) -> NameClass {
    let name = tail(name, 64);
    let lower = name.to_lowercase();
    if FOREIGN_PASSWORD.iter().any(|w| lower.ends_with(w)) {
        return NameClass::Password;
    }
    let norm = normalize_name(name);
    if norm.ends_with("secret_key_base") {
        return NameClass::Generic; // Rails
    }
    let mut segs: Vec<&str> = norm
        .split('_')
        .filter(|s| !s.is_empty() && !s.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    while segs.len() >= 2 && QUALIFIER_SEGMENTS.contains(&segs[segs.len() - 1]) {
        segs.pop();
    }
    let Some(&last) = segs.last() else {
        return NameClass::Other;
    };
    let prev = if segs.len() >= 2 {
        segs[segs.len() - 2]
    } else {
        ""
    };
    let joined: String = segs.concat();

    if joined.ends_with("secretaccesskey")
        || joined.ends_with("awssecretkey")
        || joined.ends_with("awssecret")
        || joined == "secretkey"
    {
        return NameClass::AwsSecret;
    }
    if last.ends_with("password")
        || last.ends_with("passwd")
        || last.ends_with("passphrase")
        || last.ends_with("pwd")
        || (last == "pass" && PASS_QUALIFIERS.contains(&prev))
    {
        return NameClass::Password;
    }
    const NOT_SECRET_PREFIX: [&str; 6] = ["page", "next", "continuation", "sync", "cursor", "csrf"];
    if (last.ends_with("token") && !NOT_SECRET_PREFIX.contains(&prev) && last != "nexttoken")
        || last.ends_with("secret")
        || last.ends_with("apikey")
        || last.ends_with("secretkey")
        || last.ends_with("accesskey")
        || last.ends_with("privatekey")
        || matches!(
            last,
            "secrets"
                | "auth"
                | "authorization"
                | "bearer"
                | "credential"
                | "credentials"
                | "creds"
        )
    {
        return NameClass::Generic;
    }
    const KEY_QUALIFIERS: &[&str] = &[
        "api",
        "access",
        "secret",
        "private",
        "signing",
        "encryption",
        "master",
        "session",
        "auth",
        "account",
        "app",
        "client",
        "subscription",
        "service",
        "admin",
        "webhook",
        "hmac",
        "license",
        "sdk",
        "server",
        "consumer",
        "write",
        "ingest",
        "deploy",
        "shared",
        "storage",
        "mobile",
        "partner",
        "merchant",
        "developer",
        "integration",
        "upload",
        "jwt",
        "cookie",
        "aes",
        "cipher",
        "crypto",
        "functions",
        "application",
        "personal",
        "project",
        "bot",
        "user",
    ];
    if last == "key" && KEY_QUALIFIERS.contains(&prev) {
        return NameClass::Generic;
    }
    NameClass::Other
}

/// Words that stand for "no real value here" (lowercase).
pub(super) const PLACEHOLDER_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pass",
    "pwd",
    "secret",
    "token",
    "changeme",
    "change_me",
    "change-me",
    "example",
    "placeholder",
    "redacted",
    "hidden",
    "masked",
    "null",
    "none",
    "nil",
    "true",
    "false",
    "undefined",
    "empty",
    "required",
    "optional",
    "str",
    "string",
    "&str",
    "bytes",
    "text",
    "secretstr",
    "secretstring",
    "any",
    "unknown",
    "todo",
    "tbd",
    "n/a",
    "na",
    "!vault",
    "your_password",
    "yourpassword",
    "your-password",
    "mypassword",
    "option<string>",
    "int",
    "xxx",
    "dummy",
    "test",
    "testing",
    "sample",
    "demo",
    "default",
    "foo",
    "bar",
    "baz",
    "foobar",
    "hunter2hunter2",
    "value",
    "secret_value",
    "my_secret",
    "mysecret",
    "my-secret",
    "supersecret",
    "notasecret",
    "env",
    "auto",
    "generated",
    "prompt",
];

/// Syntactic placeholders: template variables, masks, angle brackets.
pub(super) fn is_value_placeholder(v: &str) -> bool {
    let t = v.trim();
    if t.is_empty() {
        return true;
    }
    let first = t.as_bytes()[0];
    // `$VAR`, `<password>`, `{{ x }}`, `%s`, `[REDACTED]`, `(hidden)`, `:password` (SQL bind)
    if matches!(first, b'$' | b'<' | b'{' | b'[' | b'(' | b':') {
        return true;
    }
    // `%s`, `%(password)s`, `%{pw}`, `%DB_PASSWORD%` — not `%?bY…`
    if first == b'%'
        && (t.len() <= 2
            || matches!(t.as_bytes()[1], b's' | b'd' | b'(' | b'{')
            || (t.len() > 2 && t.ends_with('%')))
    {
        return true;
    }
    // `#{ENV['X']}`, YAML tags (`!Ref DbPassword`, `!vault |`, `!ENV ${X}`)
    if t.starts_with("#{")
        || (first == b'!' && t.as_bytes().get(1).is_some_and(u8::is_ascii_alphabetic))
    {
        return true;
    }
    // references to a secret store rather than the secret
    let lower = t.to_ascii_lowercase();
    if [
        "vault:",
        "arn:aws:",
        "ref+",
        "secretref:",
        "keyvault:",
        "projects/",
        "env:",
        "op://",
    ]
    .iter()
    .any(|p| lower.starts_with(p))
    {
        return true;
    }
    // `YOUR_API_KEY`, `your-token-here`, `<insert token>`, `REPLACE_WITH_KEY`
    if lower.starts_with("your") || lower.starts_with("insert") || lower.starts_with("replace") {
        return true;
    }
    if t.bytes()
        .all(|b| matches!(b, b'*' | b'x' | b'X' | b'.' | b'#' | b'-' | b'_' | b'?'))
    {
        return true;
    }
    is_placeholder(t)
}

pub(super) fn is_path_or_url(v: &str) -> bool {
    if v.contains("://") {
        return true;
    }
    let pathy = v.starts_with('/')
        || v.starts_with("./")
        || v.starts_with("../")
        || v.starts_with("~/")
        || v.starts_with("C:\\");
    if pathy && v.matches(['/', '\\']).count() >= 2 {
        return true;
    }
    let lower = v.to_ascii_lowercase();
    [
        ".pem", ".key", ".json", ".txt", ".yaml", ".yml", ".env", ".crt", ".p12", ".pfx", ".der",
        ".cfg", ".conf", ".ini", ".toml", ".enc", ".gpg",
    ]
    .iter()
    .any(|ext| lower.ends_with(ext))
}

/// Minimum Shannon entropy (bits/char) of a generic secret value.
pub(super) const GENERIC_MIN_ENTROPY: f64 = 3.0;
pub(super) const GENERIC_MIN_LEN: usize = 16;
/// Minimum length of a value in an authentication header (`Authorization: Bearer …`,
/// `X-Api-Key: …`), where the name leaves no doubt that the value is a credential.
pub(super) const AUTH_MIN_LEN: usize = 10;
/// Longer values are data blobs, not credentials (AWS session tokens, the longest common
/// ones, are about 1 KiB).
pub(super) const GENERIC_MAX_LEN: usize = 4096;

/// Characters of an unquoted token (base64, base64url, hex, `SG.…`, `tp_live_…`).
pub(super) fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'+' | b'/' | b'=' | b'.' | b'~')
}

/// `x25519_generate_private_key`, `child1_token.child_token`: at least three `_`/`-`/`.`
/// separated parts, all short, at least half of them single-case words — an identifier, not a
/// random token (random parts are mixed-case or contain digits).
pub(super) fn is_identifier_like(v: &str) -> bool {
    let parts: Vec<&str> = v.split(['_', '-', '.']).filter(|p| !p.is_empty()).collect();
    if parts.len() < 3 || parts.iter().any(|p| p.len() > 10) {
        return false;
    }
    let wordy = parts
        .iter()
        .filter(|p| {
            p.len() >= 2
                && (p.bytes().all(|b| b.is_ascii_lowercase())
                    || p.bytes().all(|b| b.is_ascii_uppercase()))
        })
        .count();
    wordy * 2 >= parts.len()
}

pub(super) fn generic_ok(v: &str, ctx: &ValueCtx) -> bool {
    (GENERIC_MIN_LEN..=GENERIC_MAX_LEN).contains(&v.len())
        && v.bytes().all(|b| b.is_ascii_graphic())
        && (ctx.quoted || v.bytes().all(is_token_byte))
        && !is_code_context(v, ctx)
        && !is_identifier_like(v)
        && !is_value_placeholder(v)
        && !is_path_or_url(v)
        && !(v.starts_with("eyJ") && v.contains('.'))
        && !is_word_like(v)
        && entropy(v) >= GENERIC_MIN_ENTROPY
}

/// Mixed-case letters in proportions no identifier has (`getAccessToken` has 2 capitals in 14),
/// as in base64 without digits.
pub(super) fn is_mixed_case_random(v: &str) -> bool {
    let upper = v.bytes().filter(u8::is_ascii_uppercase).count();
    let lower = v.bytes().filter(u8::is_ascii_lowercase).count();
    let letters = upper + lower;
    v.len() >= 16 && letters > 0 && upper * 4 >= letters && lower * 4 >= letters
}

/// A value in an authentication header: a single token of ≥ 10 characters that is not a
/// placeholder, a variable, a URL or a word (`Bearer token`, `Bearer {access_token}`,
/// `X-Api-Key: your-key-here`), and that looks random: a run mixing letters and digits, or
/// letters of both cases in random-like proportions.
pub(super) fn auth_value_ok(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    (AUTH_MIN_LEN..=GENERIC_MAX_LEN).contains(&v.len())
        && v.bytes().all(is_token_byte)
        && !is_identifier_like(v)
        && !is_value_placeholder(v)
        && !PLACEHOLDER_WORDS.contains(&lower.as_str())
        && !is_path_or_url(v)
        && !(v.starts_with("eyJ") && v.contains('.'))
        && !lower.contains("token")
        && (!is_word_like(v) || is_mixed_case_random(v))
        && entropy(v) >= 2.5
}

/// `Authorization: Basic <base64 of user:password>`. A value that decodes to `user:password`
/// is a credential whatever it says; one that does not decode is judged like a bearer token.
pub(super) fn basic_auth_ok(v: &str) -> bool {
    if v.len() < 8 || !v.bytes().all(is_b64_byte) || is_value_placeholder(v) {
        return false;
    }
    let padded = v.trim_end_matches('=');
    match base64url_decode(padded) {
        Some(d) if d.iter().all(|&b| (0x20..0x7f).contains(&b)) => {
            let d = String::from_utf8_lossy(&d).into_owned();
            d.split_once(':').is_some_and(|(_, pw)| {
                !pw.is_empty() && !is_value_placeholder(pw) && !pw.bytes().all(|b| b == b'*')
            })
        }
        _ => auth_value_ok(v),
    }
}

/// Code rather than a literal: `get_pw()`, `cfg["pw"]`, `self.password`, `db_password`.
pub(super) fn is_code_expression(v: &str) -> bool {
    if v.contains('(') || v.contains('[') {
        return true;
    }
    let ident = |s: &str| {
        let mut b = s.bytes();
        b.next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
            && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
    };
    let parts: Vec<&str> = v.split('.').collect();
    if parts.len() >= 2
        && parts.iter().all(|p| ident(p))
        && parts[0].bytes().all(|c| !c.is_ascii_digit())
    {
        // `self.password`, `settings.DB_PASSWORD`, `args.pwd`
        return parts.iter().all(|p| !p.is_empty())
            && !parts.iter().any(|p| p.bytes().any(|c| c.is_ascii_digit()));
    }
    let lower = v.to_ascii_lowercase();
    ident(v) && (lower.contains("pass") || lower.contains("pwd") || lower.contains("secret"))
}

pub(super) fn is_plain_word(v: &str) -> bool {
    v.bytes().all(|b| b.is_ascii_alphabetic())
}

/// How a value was written.
#[derive(Clone, Copy, Default)]
pub(super) struct ValueCtx {
    /// Inside quotes.
    quoted: bool,
    /// After `is`/`was` or plain whitespace rather than `=`/`:`.
    weak: bool,
    /// `name: word more words` — reads like prose.
    prose_follows: bool,
    /// Whitespace around the `=`/`:` (`x = y`, `x: y`), as in code and YAML, unlike `.env`.
    spaced: bool,
    /// The byte right after the value.
    next: Option<u8>,
}

/// An unquoted value that reads as code: a path (`mem::MaybeUninit`), a comparison
/// (`==X`), a pointer/reference type (`*mut u8`, `&str`), a generic (`Option<String>`), or —
/// after a spaced separator — a bare identifier, constant or number (`password = value;`,
/// `SAE_PASSWORD = 277`, `password: String`).
pub(super) fn is_code_context(v: &str, ctx: &ValueCtx) -> bool {
    if ctx.quoted {
        return false;
    }
    if v.contains("::")
        || v.starts_with([':', '=', '*', '&'])
        || v.starts_with("__")
        || ctx.next == Some(b'<')
    {
        return true;
    }
    let identifier = v.bytes().all(|b| b.is_ascii_alphabetic() || b == b'_');
    let number = v.bytes().all(|b| b.is_ascii_digit())
        || (v.starts_with("0x") && v.len() > 2 && v[2..].bytes().all(|b| b.is_ascii_hexdigit()));
    ctx.spaced && (identifier || number)
}

pub(super) fn password_ok(v: &str, ctx: &ValueCtx) -> bool {
    if v.chars().count() < 3 || v.len() > 256 {
        return false;
    }
    let lower = v.to_ascii_lowercase();
    if PLACEHOLDER_WORDS.contains(&lower.as_str())
        || is_value_placeholder(v)
        || is_path_or_url(v)
        || lower.starts_with("process.env")
        || lower.starts_with("os.environ")
        || lower.starts_with("env.")
    {
        return false;
    }
    if !ctx.quoted && (is_code_expression(v) || is_code_context(v, ctx)) {
        return false;
    }
    if (ctx.weak || ctx.prose_follows) && is_plain_word(v.trim_end_matches(['!', '?', '.', ','])) {
        return false;
    }
    true
}

/// Passwords on command lines: `curl -u user:pass`, `mysql … -pSecret`, `sshpass -p pw`,
/// `redis-cli -a pw`, `docker login -p pw`. Each needs the command on the same line
/// (`docker run -u 1000:1000`, `socat -u TCP:…` are something else).
pub(super) static CLI_PW: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?-u:\b)(?:curl|wget|http|https|xh)(?:[ \t][^\r\n]*?)?[ \t](?:-u|--user)(?:[ \t]+|=)?[\x22']?",
        r"[^\s:\x22'`@]+:(?P<up>[^\s\x22'`@]+)",
        r"|(?-u:\b)mysql(?:dump|admin|import|sh|slap)?(?:[ \t][^\r\n]*?)?[ \t]-p(?P<mp>[^\s\x22'`\-][^\s\x22'`]*)",
        r"|(?-u:\b)(?:sshpass|docker[ \t]+login(?:[ \t][^\r\n]*?)?)[ \t]+-p[ \t]*[\x22']?(?P<sp>[^\s\x22'`\-][^\s\x22'`]*)",
        r"|(?-u:\b)redis-cli(?:[ \t][^\r\n]*?)?[ \t]-a[ \t]+[\x22']?(?P<rp>[^\s\x22'`\-][^\s\x22'`]*)",
        r"|(?-u:\b)lftp(?:[ \t][^\r\n]*?)?[ \t]-u[ \t]+[\x22']?[^\s,\x22']+,(?P<lp>[^\s\x22'`]+)",
    ))
    .expect("CLI_PW regex")
});

/// How the non-English password names in `KV` start (as far as ASCII goes).
pub(super) const FOREIGN_LEAD: [&str; 6] =
    ["mot", "contrase", "hasło", "lösenord", "losenord", "senha"];

/// First words of the two-word names in `KV`.
pub(super) const PHRASE_FIRST: [&str; 10] = [
    "api", "access", "secret", "auth", "refresh", "session", "private", "client", "bearer", "bot",
];

pub(super) fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

/// Cheap pre-check on a `KV` match before extracting its groups: the name (the leading run of
/// name characters, or a two-word phrase) must be secret-ish and the rest long enough to hold a
/// value of that class. Most `key = …` lines in code stop here.
pub(super) fn kv_worth_parsing(m: &str) -> bool {
    let run = m.bytes().take_while(|&b| is_name_byte(b)).count();
    let rest = m.len() - run;
    let lead = &m[..run];
    if PHRASE_FIRST.iter().any(|w| lead.eq_ignore_ascii_case(w))
        || FOREIGN_LEAD.iter().any(|w| {
            m.len() >= w.len()
                && m.is_char_boundary(w.len())
                && m[..w.len()].eq_ignore_ascii_case(w)
        })
    {
        return true;
    }
    if lead.len() >= 13 && lead[lead.len() - 13..].eq_ignore_ascii_case("authorization") {
        return true; // `Authorization: Splunk <token>`: the scheme comes first
    }
    match classify_name(lead) {
        NameClass::Other => false,
        NameClass::Password => rest >= 4,
        NameClass::AwsSecret | NameClass::Generic => rest > AUTH_MIN_LEN,
    }
}

/// Group indexes of `KV`.
pub(super) struct KvGroups {
    name: usize,
    sep: usize,
    scheme: usize,
    eq: usize,
    dq: usize,
    sq: usize,
    uq: usize,
}

pub(super) static KV_GROUPS: LazyLock<KvGroups> = LazyLock::new(|| {
    let idx = |n: &str| {
        KV.capture_names()
            .position(|c| c == Some(n))
            .expect("KV group")
    };
    KvGroups {
        name: idx("name"),
        sep: idx("sep"),
        scheme: idx("scheme"),
        eq: idx("eq"),
        dq: idx("dq"),
        sq: idx("sq"),
        uq: idx("uq"),
    }
});

pub(super) fn scan_cli_passwords(text: &str, from: usize, out: &mut Vec<Cand>) {
    let mut at = from;
    while let Some(caps) = CLI_PW.captures_at(text, at) {
        at = caps.get(0).expect("group 0").end();
        let Some(m) = ["up", "mp", "sp", "rp", "lp"]
            .iter()
            .find_map(|g| caps.name(g))
        else {
            continue;
        };
        let v = m.as_str();
        // `docker run -u 1000:1000` is a uid:gid pair
        if !v.bytes().all(|b| b.is_ascii_digit()) && password_ok(v, &ValueCtx::default()) {
            out.push(Cand::new(EntityKind::Password, m.start(), m.end()));
        }
    }
}

/// `.netrc` / `_netrc` entries: `machine host login user password secret` (whitespace-separated),
/// recognised by a `login` word at most 80 bytes before the `password` name.
pub(super) fn after_netrc_login(text: &str, name_start: usize) -> bool {
    let from = name_start.saturating_sub(80);
    let window = &text.as_bytes()[from..name_start];
    window
        .windows(6)
        .any(|w| w.eq_ignore_ascii_case(b"login ") || w.eq_ignore_ascii_case(b"login\t"))
}

/// A name is looked for at most this far around a secret-name word.
pub(super) const NAME_MAX: usize = 64;
/// `KV` runs on at most this much text after a name: the longest value it accepts
/// (`GENERIC_MAX_LEN`) and its separator. A value that reaches the end of the window is too
/// long to be a credential.
pub(super) const KV_WINDOW: usize = GENERIC_MAX_LEN + 128;
/// A rejected unquoted value longer than this is data (base64, a minified blob): names inside
/// it are not tried, which keeps the scan linear on runs of `key=key=key=…`.
pub(super) const LONG_VALUE: usize = 256;

/// The `name <sep> value` scan, fed the secret-name words the driver finds, in text order.
pub(super) struct NameScan {
    /// Names starting before this offset are not tried: they are inside the last accepted
    /// pair, or are the name just tried.
    done: usize,
    locs: regex::CaptureLocations,
}

impl NameScan {
    pub(super) fn new() -> NameScan {
        NameScan {
            done: 0,
            locs: KV.capture_locations(),
        }
    }

    /// A secret-name word at `word..word_end`: the name around it (or the two-word name that
    /// ends with it, `api key`, `mot de passe`) is tried once. A rejected pair lets the next
    /// name start right after this one, not after its value: the value may itself start a name
    /// (`<add key="ApiKey" value="…">`, `credentials token=…`).
    pub(super) fn at(&mut self, text: &str, word: usize, word_end: usize, out: &mut Vec<Cand>) {
        if word < self.done {
            return;
        }
        let bytes = text.as_bytes();
        let run = run_start(bytes, word, NAME_MAX, is_name_byte);
        let name_end = run_end(bytes, word_end, NAME_MAX, is_name_byte);
        let mut skip_to = name_end;
        for start in [phrase_start(text, run), Some(run)].into_iter().flatten() {
            if start < self.done {
                continue;
            }
            match self.pair_at(text, start, out) {
                Tried::Accepted(end) => {
                    self.done = end;
                    return;
                }
                Tried::Rejected(Some(end)) => skip_to = skip_to.max(end),
                Tried::Rejected(None) => {}
            }
        }
        self.done = skip_to;
    }

    fn pair_at(&mut self, text: &str, start: usize, out: &mut Vec<Cand>) -> Tried {
        let mut window = text.len().min(start + NAME_MAX + KV_WINDOW);
        while !text.is_char_boundary(window) {
            window -= 1;
        }
        let hay = &text[start..window];
        let Some(m) = KV.find(hay) else {
            return Tried::Rejected(None);
        };
        // the value ran into the window's end: too long, and so is everything inside it
        if m.end() == hay.len() && window < text.len() {
            return Tried::Rejected(Some(start + m.end()));
        }
        if !kv_worth_parsing(m.as_str()) || KV.captures_read(&mut self.locs, hay).is_none() {
            return Tried::Rejected(None);
        }
        let g = &*KV_GROUPS;
        let span = |i: usize| self.locs.get(i).map(|(a, b)| (start + a, start + b));
        let quoted = span(g.eq).or(span(g.dq)).or(span(g.sq));
        let (Some(name), Some(sep), Some(value)) =
            (span(g.name), span(g.sep), quoted.or(span(g.uq)))
        else {
            return Tried::Rejected(None);
        };
        match key_value_candidate(text, name, sep, span(g.scheme), value, quoted.is_some()) {
            Some(c) => {
                out.push(c);
                Tried::Accepted(start + m.end())
            }
            None if quoted.is_none() && value.1 - value.0 > LONG_VALUE => {
                Tried::Rejected(Some(value.1))
            }
            None => Tried::Rejected(None),
        }
    }
}

/// What trying a pair at a name gave: accepted up to an offset, or rejected (with an offset
/// before which no other name needs trying).
pub(super) enum Tried {
    Accepted(usize),
    Rejected(Option<usize>),
}

/// Where the two-word name ending with the word at `run` starts (`api key`, `auth token`,
/// `mot de passe`), if one does.
pub(super) fn phrase_start(text: &str, run: usize) -> Option<usize> {
    let before = &text.as_bytes()[..run];
    if before.len() >= 7 && before[before.len() - 7..].eq_ignore_ascii_case(b"mot de ") {
        return Some(run - 7);
    }
    if before.last() != Some(&b' ') {
        return None;
    }
    let w = run_start(before, run - 1, 8, |b| b.is_ascii_alphabetic());
    let word = &text[w..run - 1];
    (PHRASE_FIRST.iter().any(|p| word.eq_ignore_ascii_case(p))
        && (w == 0 || !is_name_byte(before[w - 1])))
    .then_some(w)
}

/// `the password is …` in the languages of `FOREIGN_PASSWORD`.
pub(super) const WEAK_CONNECTORS: [&str; 7] = ["is", "was", "est", "ist", "lautet", "es", "è"];

/// Authentication schemes that may precede a credential (`Authorization: Bearer …`).
pub(super) const AUTH_SCHEMES: [&str; 9] = [
    "bearer", "basic", "token", "bot", "jwt", "ssws", "apikey", "api-key", "sso-key",
];

/// A name that makes the value a credential by itself: the `Authorization` header, any HTTP
/// header (`X-Api-Key: …`, `Private-Token: …`, `X-Vault-Token: …`), and the few names
/// nothing but a credential is ever called (`api_key`, `access_token`).
pub(super) fn is_auth_name(name: &str, norm: &str, sep_t: &str) -> bool {
    let last = norm.rsplit('_').next().unwrap_or("");
    last == "authorization"
        || last == "bearer"
        || (name.contains('-') && !name.starts_with('-') && sep_t == ":")
        || norm.starts_with("x_")
        || matches!(
            norm,
            "api_key" | "apikey" | "api_token" | "access_token" | "auth_token" | "bearer_token"
        )
}

pub(super) fn key_value_candidate(
    text: &str,
    name: (usize, usize),
    sep: (usize, usize),
    scheme: Option<(usize, usize)>,
    value: (usize, usize),
    quoted: bool,
) -> Option<Cand> {
    let bytes = text.as_bytes();
    let name_start = name.0;
    let name = &text[name.0..name.1];
    let sep = &text[sep.0..sep.1];
    // `$PWD:/app` reads a shell variable; `$pwd = "…"` (PHP, Perl) assigns one.
    if name_start > 0 && bytes[name_start - 1] == b'$' && !sep.contains('=') {
        return None;
    }
    let norm = normalize_name(name);
    let class = classify_name(name);
    if class == NameClass::Other {
        return None;
    }
    let sep_t = sep.trim_matches([' ', '\t', '"', '\'', '\\']);
    // The structural separators need their structure around them.
    let before_name = name_start.checked_sub(1).map(|i| bytes[i]);
    if sep_t == "," && !(quoted && matches!(before_name, Some(b'"' | b'\''))) {
        return None; // `("X-Api-Key", "…")`
    }
    if sep_t == ">" && !(before_name == Some(b'<') && text[value.1..].starts_with("</")) {
        return None; // `<password>…</password>`
    }
    if (sep_t.starts_with("value") || sep_t == "(") && !quoted {
        return None; // `<add key="ApiKey" value="…"/>`, `.bearer_auth("…")`
    }
    let weak_connector = WEAK_CONNECTORS
        .iter()
        .any(|w| sep_t.trim_end_matches([':', ' ']).eq_ignore_ascii_case(w));
    let whitespace_only = sep_t.is_empty();
    let flag_name = name.starts_with('-');
    let last = norm.rsplit('_').next().unwrap_or("");
    // Whitespace alone separates a name from its value only in a few forms: `--flag value`,
    // `Bearer …`, `.netrc`, AWS secrets, and compound credential names in prose (`the api key
    // 5f4d…`, `auth token Zr4N…`), where the value must pass the strict generic check.
    let prose_name = whitespace_only
        && !flag_name
        && !matches!(last, "bearer" | "authorization")
        && class != NameClass::AwsSecret
        && !(class == NameClass::Password && after_netrc_login(text, name_start));
    if prose_name && !(class == NameClass::Generic && norm.contains('_')) {
        return None;
    }

    let mut v = &text[value.0..value.1];
    let mut start = value.0;
    // `<password>…</password>` is delimited like a quoted value
    let mut quoted = quoted || sep_t == ">";
    if !quoted {
        // `password=[S3cr3t!]` in logs: the brackets delimit the value
        if v.starts_with('[') {
            let close = run_end(bytes, start + 1, 256, |b| {
                b != b']' && !b.is_ascii_whitespace()
            });
            if bytes.get(close) == Some(&b']') && close > start + 1 {
                v = &text[start + 1..close];
                start += 1;
                quoted = true;
            }
        }
    }
    if !quoted {
        // a value inside an escaped string ends at the escape (`Bearer abc\r\n`)
        if let Some(i) = v
            .as_bytes()
            .windows(2)
            .position(|w| w[0] == b'\\' && matches!(w[1], b'r' | b'n' | b't' | b'"' | b'\''))
        {
            v = &v[..i];
        }
        v = v.trim_end_matches(['.', ':']);
    }
    // A quoted value may carry the scheme: `"Authorization": "Bearer …"`; `Authorization`
    // takes any scheme (`Splunk …`, `SSWS …`, `AWS4-HMAC-SHA256 Credential=…`).
    let mut scheme = scheme.map(|(a, b)| text[a..b].to_ascii_lowercase());
    let is_scheme = |w: &str| {
        AUTH_SCHEMES.contains(&w.to_ascii_lowercase().as_str())
            || (last == "authorization"
                && (2..=24).contains(&w.len())
                && w.as_bytes()[0].is_ascii_alphabetic()
                && w.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    };
    if quoted && scheme.is_none() && class == NameClass::Generic {
        if let Some((w, rest)) = v.split_once(' ') {
            if is_scheme(w) {
                let rest_t = rest.trim_start();
                start += v.len() - rest_t.len();
                v = rest_t;
                scheme = Some(w.to_ascii_lowercase());
            }
        }
    }
    if !quoted && scheme.is_none() && last == "authorization" && is_scheme(v) {
        let s2 = run_end(bytes, start + v.len(), 4, |b| b == b' ');
        let e2 = run_end(bytes, s2, 4096, |b| {
            !b.is_ascii_whitespace() && !matches!(b, b'"' | b'\'' | b'`' | b',' | b';')
        });
        if s2 > start + v.len() && e2 > s2 {
            scheme = Some(v.to_ascii_lowercase());
            start = s2;
            v = &text[s2..e2];
        }
    }
    if v.is_empty() {
        return None;
    }
    let end = start + v.len();
    // `Password: must be 8 characters` — a word followed by more words is prose.
    let rest = &bytes[end.min(bytes.len())..];
    let prose_follows = !quoted
        && sep_t == ":"
        && rest.len() >= 2
        && rest[0] == b' '
        && rest[1].is_ascii_alphabetic();
    let ctx = ValueCtx {
        quoted,
        weak: weak_connector || whitespace_only,
        prose_follows,
        spaced: !whitespace_only && !weak_connector && sep.contains([' ', '\t']),
        next: rest.first().copied(),
    };

    match class {
        NameClass::AwsSecret if aws_secret_ok(v) => {
            return Some(Cand::new(EntityKind::AwsSecretKey, start, end));
        }
        NameClass::Password => {
            return password_ok(v, &ctx).then(|| Cand::new(EntityKind::Password, start, end));
        }
        _ => {}
    }
    let auth = !prose_name && (scheme.is_some() || is_auth_name(name, &norm, sep_t));
    let ok = match scheme.as_deref() {
        Some("basic") => basic_auth_ok(v),
        _ if auth => auth_value_ok(v) || generic_ok(v, &ctx),
        _ => generic_ok(v, &ctx),
    };
    if !ok {
        return None;
    }
    // `PRIVATE_KEY=0x4c08…`, `PrivateKey = yAnz…=` (WireGuard): a key, named so; a PEM block
    // or a vendor format found at the same place wins.
    let kind = if ["private_key", "privatekey", "priv_key"]
        .iter()
        .any(|k| norm.ends_with(k))
    {
        EntityKind::PrivateKey
    } else {
        EntityKind::GenericSecret
    };
    Some(Cand {
        kind,
        start,
        end,
        prio: PRIO_GENERIC,
    })
}
