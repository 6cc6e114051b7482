//! The vendor formats: a table of anchors (a literal every token of the format contains,
//! usually its prefix) and how the rest of the token is checked at an anchor.

use super::*;

// ---------------------------------------------------------------------------------------------
// The vendor table

/// Characters a vendor token's body is made of.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Class {
    /// `[A-Za-z0-9]`
    Alnum,
    /// `[A-Z0-9]`
    Upper,
    /// `[a-z0-9]`
    Lower,
    /// `[0-9a-fA-F]`
    Hex,
    /// `[0-9a-fA-F-]`
    HexDash,
    /// `[A-Za-z0-9_]`
    Word,
    /// `[A-Za-z0-9-]`
    AlnumDash,
    /// `[A-Za-z0-9_-]` (base64url)
    WordDash,
    /// `[A-Za-z0-9_.=-]`
    WordDashDot,
    /// `[A-Za-z0-9+/=]` (base64)
    Base64,
    /// `[A-Za-z0-9+/=_-]` (either base64)
    Base64Any,
    /// `[a-z0-9$]` (Braintree)
    Dollar,
}

impl Class {
    fn has(self, b: u8) -> bool {
        match self {
            Class::Alnum => b.is_ascii_alphanumeric(),
            Class::Upper => b.is_ascii_uppercase() || b.is_ascii_digit(),
            Class::Lower => b.is_ascii_lowercase() || b.is_ascii_digit(),
            Class::Hex => b.is_ascii_hexdigit(),
            Class::HexDash => b.is_ascii_hexdigit() || b == b'-',
            Class::Word => b.is_ascii_alphanumeric() || b == b'_',
            Class::AlnumDash => b.is_ascii_alphanumeric() || b == b'-',
            Class::WordDash => b.is_ascii_alphanumeric() || b == b'_' || b == b'-',
            Class::WordDashDot => {
                b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'=')
            }
            Class::Base64 => b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='),
            Class::Base64Any => {
                b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'_' | b'-')
            }
            Class::Dollar => b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'$',
        }
    }
}

/// A token that starts with its anchor: `min..=max` body bytes of `class` follow, and the body
/// is not a placeholder (`digit`: it must also contain a digit).
#[derive(Clone, Copy, Debug)]
pub(super) struct Tok {
    pub(super) kind: EntityKind,
    pub(super) class: Class,
    pub(super) min: u16,
    pub(super) max: u16,
    pub(super) digit: bool,
}

/// Formats with more structure than "prefix + body", checked in code. The anchor may sit inside
/// the token (`…8Q~…`, `…-us14`, `123456:AA…`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Special {
    /// `sk-…`: OpenAI, Anthropic (`sk-ant-`), OpenRouter (`sk-or-`).
    SkDash,
    /// `sk_live_…` and friends: the body after the last `_`.
    Stripe,
    /// Base64 of `-----BEGIN … PRIVATE KEY-----`.
    Base64Pem,
    SlackWebhook,
    TeamsWebhook,
    DiscordWebhook,
    /// `<bot id>:AA<33>`
    Telegram,
    /// `<3 chars><digit>Q~<31–34>`
    AzureAdSecret,
    /// `<32 hex>-us<1–2 digits>`
    Mailchimp,
    /// `<14>.atlasv1.<60–70>`
    TerraformCloud,
    /// `<6>_<29>_mmk`
    MaxMind,
    /// `AAAA<7>:APA91b<…>` (Firebase Cloud Messaging server key)
    Fcm,
    /// `…sv=…&sig=<signature>` (Azure shared access signature)
    AzureSas,
    /// `A3-XXXXXX-…` (1Password account secret key)
    OnePassword,
    /// `SG.<22>.<43>`
    SendGrid,
    /// `PuTTY-User-Key-File-N: …` through `Private-MAC: …`
    Putty,
}

#[derive(Clone, Copy, Debug)]
pub(super) enum Rule {
    Tok(Tok),
    Special(Special),
}

pub(super) const fn tok(kind: EntityKind, class: Class, min: u16, max: u16) -> Rule {
    Rule::Tok(Tok {
        kind,
        class,
        min,
        max,
        digit: false,
    })
}

pub(super) const fn tok_digit(kind: EntityKind, class: Class, min: u16, max: u16) -> Rule {
    Rule::Tok(Tok {
        kind,
        class,
        min,
        max,
        digit: true,
    })
}

use Class::{
    Alnum, AlnumDash, Base64, Base64Any, Dollar, Hex, HexDash, Lower, Upper, Word, WordDash,
    WordDashDot,
};
use EntityKind::{
    AwsAccessKey as AWS, GenericSecret as GEN, GithubToken as GH, GitlabToken as GL,
    GoogleApiKey as GOOG, PrivateKey as PK, SlackToken as SLACK, StripeKey as STRIPE,
};

/// Every vendor format: its anchor (a literal every token of the format contains, usually its
/// prefix) and how the rest is checked. Lengths are the body's, after the anchor. Sources: the
/// vendors' documentation of their token formats (GitHub, GitLab, Slack, Stripe, AWS, Google,
/// …) and gitleaks' rule list as a checklist of providers; the patterns are our own. Formats
/// without a distinctive literal (Datadog's 32 hex, Heroku's UUID, Okta's `00…`) are left to
/// the name-based `KV` scan.
pub(super) const VENDORS: &[(&str, Rule)] = &[
    // AWS access key ids (long-term, temporary, and the two rarer ones)
    ("AKIA", tok(AWS, Upper, 16, 16)),
    ("ASIA", tok(AWS, Upper, 16, 16)),
    ("ABIA", tok(AWS, Upper, 16, 16)),
    ("ACCA", tok(AWS, Upper, 16, 16)),
    // GitHub: classic PAT, OAuth, user-to-server, server-to-server, refresh; fine-grained PAT
    ("ghp_", tok(GH, Alnum, 30, 255)),
    ("gho_", tok(GH, Alnum, 30, 255)),
    ("ghu_", tok(GH, Alnum, 30, 255)),
    ("ghs_", tok(GH, Alnum, 30, 255)),
    ("ghr_", tok(GH, Alnum, 30, 255)),
    ("github_pat_", tok(GH, Word, 30, 255)),
    // GitLab: personal/project/group, deploy, runner, pipeline trigger, SCIM, CI job, feature
    // flags, feed, incoming mail, agent, OAuth app secret; runner registration (`GR1348941`)
    ("glpat-", tok_digit(GL, WordDashDot, 20, 300)),
    ("gldt-", tok_digit(GL, WordDashDot, 20, 300)),
    ("glrt-", tok_digit(GL, WordDashDot, 20, 300)),
    ("glrtr-", tok_digit(GL, WordDashDot, 20, 300)),
    ("glptt-", tok_digit(GL, WordDashDot, 20, 300)),
    ("glsoat-", tok_digit(GL, WordDashDot, 20, 300)),
    ("glcbt-", tok_digit(GL, WordDashDot, 20, 300)),
    ("glffct-", tok_digit(GL, WordDashDot, 20, 300)),
    ("glft-", tok_digit(GL, WordDashDot, 20, 300)),
    ("glimt-", tok_digit(GL, WordDashDot, 20, 300)),
    ("glagent-", tok_digit(GL, WordDashDot, 20, 300)),
    ("gloas-", tok_digit(GL, WordDashDot, 20, 300)),
    ("GR1348941", tok(GL, WordDash, 20, 64)),
    // Slack: bot, user, app-level, workspace, refresh/config tokens; incoming webhooks
    ("xoxb-", tok_digit(SLACK, AlnumDash, 10, 300)),
    ("xoxp-", tok_digit(SLACK, AlnumDash, 10, 300)),
    ("xoxa-", tok_digit(SLACK, AlnumDash, 10, 300)),
    ("xoxr-", tok_digit(SLACK, AlnumDash, 10, 300)),
    ("xoxs-", tok_digit(SLACK, AlnumDash, 10, 300)),
    ("xoxo-", tok_digit(SLACK, AlnumDash, 10, 300)),
    ("xoxe-", tok_digit(SLACK, AlnumDash, 10, 300)),
    ("xoxe.xoxp-", tok_digit(SLACK, AlnumDash, 10, 300)),
    ("xoxe.xoxb-", tok_digit(SLACK, AlnumDash, 10, 300)),
    ("xapp-", tok_digit(SLACK, AlnumDash, 10, 300)),
    ("hooks.slack.com/", Rule::Special(Special::SlackWebhook)),
    // Stripe: secret, restricted and publishable keys; webhook signing secrets
    ("sk_live_", Rule::Special(Special::Stripe)),
    ("sk_test_", Rule::Special(Special::Stripe)),
    ("rk_live_", Rule::Special(Special::Stripe)),
    ("rk_test_", Rule::Special(Special::Stripe)),
    ("pk_live_", Rule::Special(Special::Stripe)),
    ("pk_test_", Rule::Special(Special::Stripe)),
    ("whsec_", tok(STRIPE, Base64, 20, 255)),
    // Google: API keys; OAuth client secrets, access and refresh tokens
    ("AIza", tok(GOOG, WordDash, 35, 35)),
    ("GOCSPX-", tok(GEN, WordDash, 24, 32)),
    ("ya29.", tok(GEN, WordDashDot, 30, 2048)),
    ("1//0", tok(GEN, WordDash, 30, 512)),
    (":APA91b", Rule::Special(Special::Fcm)),
    // OpenAI / Anthropic / OpenRouter
    ("sk-", Rule::Special(Special::SkDash)),
    // Private keys that are not PEM blocks
    ("LS0tLS1CRUdJTi", Rule::Special(Special::Base64Pem)),
    ("AGE-SECRET-KEY-1", tok(PK, Upper, 58, 58)),
    ("PuTTY-User-Key-File-", Rule::Special(Special::Putty)),
    // Microsoft: Entra ID (Azure AD) client secrets, SAS signatures, Teams webhooks
    ("Q~", Rule::Special(Special::AzureAdSecret)),
    ("sig=", Rule::Special(Special::AzureSas)),
    (
        ".webhook.office.com/webhookb2/",
        Rule::Special(Special::TeamsWebhook),
    ),
    // Chat and messaging
    (
        "discord.com/api/webhooks/",
        Rule::Special(Special::DiscordWebhook),
    ),
    (
        "discordapp.com/api/webhooks/",
        Rule::Special(Special::DiscordWebhook),
    ),
    (":AA", Rule::Special(Special::Telegram)),
    // Email and marketing
    ("SG.", Rule::Special(Special::SendGrid)),
    ("key-", tok(GEN, Hex, 32, 32)),
    ("-us", Rule::Special(Special::Mailchimp)),
    ("xkeysib-", tok(GEN, AlnumDash, 81, 81)),
    ("xsmtpsib-", tok(GEN, AlnumDash, 81, 81)),
    ("SK", tok(GEN, Hex, 32, 32)),
    // Package registries and CI
    ("npm_", tok(GEN, Alnum, 36, 36)),
    ("pypi-AgE", tok(GEN, WordDash, 50, 1000)),
    ("rubygems_", tok(GEN, Hex, 48, 48)),
    ("oy2", tok(GEN, Lower, 43, 43)),
    ("CLOJARS_", tok(GEN, Alnum, 60, 60)),
    ("dckr_pat_", tok(GEN, WordDash, 27, 36)),
    ("dckr_oat_", tok(GEN, WordDash, 27, 36)),
    ("AKCp", tok(GEN, Alnum, 60, 80)),
    ("cmVmd", tok(GEN, Alnum, 50, 70)),
    ("CCIPAT_", tok(GEN, Word, 40, 70)),
    ("bkua_", tok(GEN, Hex, 40, 40)),
    ("squ_", tok(GEN, Hex, 40, 40)),
    ("sqp_", tok(GEN, Hex, 40, 40)),
    ("sqa_", tok(GEN, Hex, 40, 40)),
    ("sgp_", tok(GEN, Word, 40, 70)),
    ("rdme_", tok(GEN, Alnum, 70, 70)),
    // Cloud and hosting
    ("dop_v1_", tok(GEN, Hex, 64, 64)),
    ("doo_v1_", tok(GEN, Hex, 64, 64)),
    ("dor_v1_", tok(GEN, Hex, 64, 64)),
    ("HRKU-", tok(GEN, Base64Any, 55, 70)),
    ("fo1_", tok(GEN, WordDash, 43, 43)),
    ("fm1a_", tok(GEN, Base64, 100, 2000)),
    ("fm1r_", tok(GEN, Base64, 100, 2000)),
    ("fm2_", tok(GEN, Base64, 100, 2000)),
    ("nfp_", tok(GEN, Alnum, 36, 36)),
    ("sbp_", tok(GEN, Hex, 40, 40)),
    ("sb_secret_", tok(GEN, WordDash, 20, 80)),
    ("pscale_tkn_", tok(GEN, WordDashDot, 32, 64)),
    ("pscale_oauth_", tok(GEN, WordDashDot, 32, 64)),
    ("pscale_pw_", tok(GEN, WordDashDot, 32, 64)),
    ("v1.0-", tok(GEN, HexDash, 160, 180)),
    ("LTAI", tok(GEN, Alnum, 12, 30)),
    ("AKID", tok(GEN, Alnum, 32, 32)),
    ("AQVN", tok(GEN, WordDash, 35, 38)),
    ("ABSK", tok(GEN, Base64, 100, 300)),
    ("tskey-", tok_digit(GEN, WordDash, 30, 100)),
    (".atlasv1.", Rule::Special(Special::TerraformCloud)),
    ("hvs.", tok(GEN, WordDash, 24, 300)),
    ("hvb.", tok(GEN, WordDash, 80, 300)),
    ("pul-", tok(GEN, Hex, 40, 40)),
    ("dp.pt.", tok(GEN, Alnum, 40, 44)),
    ("dp.st.", tok(GEN, Alnum, 40, 44)),
    ("dp.ct.", tok(GEN, Alnum, 40, 44)),
    ("dp.sa.", tok(GEN, Alnum, 40, 44)),
    ("dp.scim.", tok(GEN, Alnum, 40, 44)),
    ("dp.audit.", tok(GEN, Alnum, 40, 44)),
    ("ops_eyJ", tok(GEN, Base64, 250, 4000)),
    ("A3-", Rule::Special(Special::OnePassword)),
    ("dapi", tok(GEN, Hex, 32, 32)),
    ("4b1d", tok(GEN, Alnum, 38, 38)),
    // Observability
    ("NRAK-", tok(GEN, Alnum, 27, 27)),
    ("NRAA-", tok(GEN, Alnum, 27, 27)),
    ("NRII-", tok(GEN, AlnumDash, 32, 32)),
    ("sntrys_eyJ", tok(GEN, Base64Any, 60, 600)),
    ("sntryu_", tok(GEN, Hex, 64, 64)),
    ("glc_", tok(GEN, Base64, 32, 400)),
    ("glsa_", tok(GEN, Word, 41, 41)),
    ("eyJrIjoi", tok(GEN, Base64, 60, 400)),
    ("dt0c01.", tok(GEN, WordDashDot, 80, 100)),
    // Payments and commerce
    ("shpat_", tok(GEN, Hex, 32, 32)),
    ("shpca_", tok(GEN, Hex, 32, 32)),
    ("shppa_", tok(GEN, Hex, 32, 32)),
    ("shpss_", tok(GEN, Hex, 32, 32)),
    ("sq0atp-", tok(GEN, WordDash, 22, 60)),
    ("sq0csp-", tok(GEN, WordDash, 22, 60)),
    ("EAA", tok_digit(GEN, WordDash, 40, 400)),
    ("access_token$production$", tok(GEN, Dollar, 49, 49)),
    ("access_token$sandbox$", tok(GEN, Dollar, 49, 49)),
    ("access-sandbox-", tok(GEN, HexDash, 36, 36)),
    ("access-development-", tok(GEN, HexDash, 36, 36)),
    ("access-production-", tok(GEN, HexDash, 36, 36)),
    ("shippo_live_", tok(GEN, Hex, 40, 40)),
    ("shippo_test_", tok(GEN, Hex, 40, 40)),
    ("FLWSECK_TEST-", tok(GEN, AlnumDash, 32, 40)),
    ("FLWSECK-", tok(GEN, AlnumDash, 32, 40)),
    ("duffel_test_", tok(GEN, Base64Any, 40, 50)),
    ("duffel_live_", tok(GEN, Base64Any, 40, 50)),
    ("EZAK", tok(GEN, Alnum, 54, 54)),
    ("EZTK", tok(GEN, Alnum, 54, 54)),
    // Productivity and SaaS
    ("ATATT3", tok(GEN, Base64Any, 150, 300)),
    ("ATCTT3", tok(GEN, Base64Any, 150, 300)),
    ("ATBB", tok(GEN, Alnum, 28, 40)),
    ("lin_api_", tok(GEN, Alnum, 40, 40)),
    ("lin_oauth_", tok(GEN, Alnum, 64, 64)),
    ("ntn_", tok(GEN, Alnum, 46, 46)),
    ("secret_", tok(GEN, Alnum, 43, 43)),
    ("PMAK-", tok(GEN, HexDash, 59, 59)),
    ("pat-na1-", tok(GEN, HexDash, 36, 36)),
    ("pat-eu1-", tok(GEN, HexDash, 36, 36)),
    ("CFPAT-", tok(GEN, WordDash, 43, 43)),
    ("figd_", tok(GEN, WordDash, 40, 60)),
    ("tfp_", tok(GEN, WordDashDot, 59, 59)),
    ("fio-u-", tok(GEN, Base64Any, 60, 70)),
    ("p8e-", tok(GEN, Alnum, 32, 32)),
    ("ico-", tok(GEN, Alnum, 32, 32)),
    ("pnu_", tok(GEN, Alnum, 36, 36)),
    ("API-", tok_digit(GEN, Upper, 26, 32)),
    ("sha256~", tok(GEN, WordDash, 43, 43)),
    ("tk-us-", tok(GEN, WordDash, 48, 48)),
    ("sk.eyJ", tok(GEN, WordDashDot, 60, 300)),
    ("_mmk", Rule::Special(Special::MaxMind)),
    // AI providers (besides OpenAI and Anthropic)
    ("hf_", tok(GEN, Alnum, 30, 40)),
    ("api_org_", tok(GEN, Alnum, 30, 40)),
    ("gsk_", tok(GEN, Alnum, 52, 52)),
    ("r8_", tok(GEN, Alnum, 37, 37)),
    ("xai-", tok(GEN, Alnum, 80, 80)),
    ("pplx-", tok(GEN, Alnum, 48, 48)),
    ("lsv2_pt_", tok(GEN, Word, 40, 50)),
    ("lsv2_sk_", tok(GEN, Word, 40, 50)),
    ("pcsk_", tok(GEN, Word, 50, 90)),
    ("tvly-", tok(GEN, WordDash, 32, 48)),
];

/// The token (if any) at an anchor `start..end` of `rule`.
pub(super) fn vendor_at(text: &str, rule: Rule, start: usize, end: usize, out: &mut Vec<Cand>) {
    let bytes = text.as_bytes();
    match rule {
        Rule::Tok(t) => {
            // A prefix starts a word (`ASK…`, `task-` are not anchors).
            if start > 0 && is_word_byte(bytes[start - 1]) {
                return;
            }
            let max = usize::from(t.max);
            let mut body_end = run_end(bytes, end, max + 1, |b| t.class.has(b));
            // a sentence's full stop is not part of a dotted token
            if t.class == WordDashDot {
                while body_end > end && matches!(bytes[body_end - 1], b'.' | b'-') {
                    body_end -= 1;
                }
            }
            let body = &text[end..body_end];
            let next = bytes.get(body_end).copied();
            if (usize::from(t.min)..=max).contains(&body.len())
                && !next.is_some_and(is_word_byte)
                && (!t.digit || has_digit(body))
                && !is_placeholder(body)
            {
                out.push(Cand::vendor(t.kind, start, body_end));
            }
        }
        Rule::Special(s) => {
            if let Some((kind, a, b)) = special(s, text, start, end) {
                out.push(Cand::vendor(kind, a, b));
            }
        }
    }
}

/// The special formats: `start..end` is the anchor; returns the token's kind and span.
pub(super) fn special(
    s: Special,
    text: &str,
    start: usize,
    end: usize,
) -> Option<(EntityKind, usize, usize)> {
    let bytes = text.as_bytes();
    let prev_word = start > 0 && is_word_byte(bytes[start - 1]);
    let wd = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    match s {
        Special::SkDash => {
            if prev_word {
                return None;
            }
            let e = run_end(bytes, end, 512, wd);
            let rest = &text[end..e];
            let kind = if let Some(r) = rest.strip_prefix("ant-") {
                let body = strip_any_prefix(r, &["api03-", "admin01-", "oat01-", "sid01-"]);
                (body.len() >= 20 && token_body_ok(body)).then_some(EntityKind::AnthropicApiKey)
            } else if let Some(body) = rest.strip_prefix("or-v1-") {
                (body.len() >= 32 && token_body_ok(body)).then_some(EntityKind::GenericSecret)
            } else {
                let body = strip_any_prefix(rest, &["proj-", "svcacct-", "admin-", "None-"]);
                (body.len() >= 20 && token_body_ok(body)).then_some(EntityKind::OpenaiApiKey)
            }?;
            Some((kind, start, e))
        }
        Special::Stripe => {
            if prev_word {
                return None;
            }
            let e = run_end(bytes, end, 256, |b| b.is_ascii_alphanumeric());
            let body = &text[end..e];
            (body.len() >= 16
                && !bytes.get(e).is_some_and(|&b| is_word_byte(b))
                && !is_placeholder(body))
            .then_some((EntityKind::StripeKey, start, e))
        }
        Special::Base64Pem => {
            if prev_word {
                return None;
            }
            let e = run_end(bytes, end, 64 * 1024, |b| Class::Base64.has(b));
            (e - end >= 20 && base64_pem_is_private_key(&text[start..e])).then_some((
                EntityKind::PrivateKey,
                start,
                e,
            ))
        }
        Special::SlackWebhook | Special::TeamsWebhook | Special::DiscordWebhook => {
            webhook(s, text, start, end)
        }
        Special::Telegram => {
            // `123456789:AA…`, also inside `api.telegram.org/bot123456789:AA…`
            let d = run_start(bytes, start, 11, |b| b.is_ascii_digit());
            let digits = start - d;
            let lead_ok = d == 0
                || !is_word_byte(bytes[d - 1])
                || (d >= 4 && &bytes[d - 3..d] == b"bot" && bytes[d - 4] == b'/');
            let e = run_end(bytes, start + 1, 40, wd);
            let body = &text[start + 1..e];
            ((8..=10).contains(&digits)
                && lead_ok
                && (34..=36).contains(&body.len())
                && !is_placeholder(body))
            .then_some((EntityKind::GenericSecret, d, e))
        }
        Special::AzureAdSecret => {
            let az = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'~' | b'.' | b'-');
            if start < 4 || !bytes[start - 1].is_ascii_digit() {
                return None;
            }
            let s0 = start - 4;
            let lead_ok = bytes[s0..start - 1]
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'~' | b'.'));
            if !lead_ok || (s0 > 0 && az(bytes[s0 - 1])) {
                return None;
            }
            let e = run_end(bytes, end, 35, az);
            let body = &text[end..e];
            ((31..=34).contains(&body.len()) && !is_placeholder(body) && has_digit(body))
                .then_some((EntityKind::GenericSecret, s0, e))
        }
        Special::Mailchimp => {
            let lower_hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
            let h = run_start(bytes, start, 33, lower_hex);
            if start - h != 32 || (h > 0 && bytes[h - 1].is_ascii_alphanumeric()) {
                return None;
            }
            let e = run_end(bytes, end, 3, |b| b.is_ascii_digit());
            ((1..=2).contains(&(e - end))
                && !bytes.get(e).is_some_and(|&b| is_word_byte(b))
                && !is_placeholder(&text[h..start]))
            .then_some((EntityKind::GenericSecret, h, e))
        }
        Special::TerraformCloud => {
            let a = run_start(bytes, start, 15, |b| b.is_ascii_alphanumeric());
            let e = run_end(bytes, end, 71, |b| Class::WordDashDot.has(b) && b != b'.');
            ((start - a == 14) && (60..=70).contains(&(e - end)) && !is_placeholder(&text[end..e]))
                .then_some((EntityKind::GenericSecret, a, e))
        }
        Special::MaxMind => {
            // `<6>_<29>_mmk`
            if start < 36 || bytes.get(end).is_some_and(|&b| is_word_byte(b)) {
                return None;
            }
            let a = start - 36;
            let t = &bytes[a..start];
            let ok = t[6] == b'_'
                && t.iter()
                    .enumerate()
                    .all(|(i, &b)| i == 6 || b.is_ascii_alphanumeric())
                && (a == 0 || !is_word_byte(bytes[a - 1]));
            (ok && !is_placeholder(&text[a..start])).then_some((EntityKind::GenericSecret, a, end))
        }
        Special::Fcm => {
            // `AAAA<7>:APA91b<134>`
            if start < 11 || &bytes[start - 11..start - 7] != b"AAAA" {
                return None;
            }
            let a = start - 11;
            if !bytes[a + 4..start].iter().all(|&b| wd(b)) || (a > 0 && wd(bytes[a - 1])) {
                return None;
            }
            let e = run_end(bytes, end, 200, wd);
            ((100..=180).contains(&(e - end)) && !is_placeholder(&text[end..e])).then_some((
                EntityKind::GenericSecret,
                a,
                e,
            ))
        }
        Special::AzureSas => azure_sas(text, start, end),
        Special::OnePassword => {
            if prev_word {
                return None;
            }
            let e = run_end(bytes, end, 40, |b| {
                b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-'
            });
            if bytes.get(e).is_some_and(|&b| is_word_byte(b)) {
                return None;
            }
            let groups: Vec<usize> = text[end..e].split('-').map(str::len).collect();
            let ok = groups == [6, 11, 5, 5, 5] || groups == [6, 6, 5, 5, 5, 5];
            (ok && has_digit(&text[end..e]) && !is_placeholder(&text[end..e].replace('-', "")))
                .then_some((EntityKind::GenericSecret, start, e))
        }
        Special::SendGrid => {
            if prev_word {
                return None;
            }
            let e = run_end(bytes, end, 67, |b| wd(b) || b == b'.');
            let body = &bytes[end..e];
            let ok = body.len() == 66
                && body[22] == b'.'
                && body.iter().enumerate().all(|(i, &b)| i == 22 || wd(b))
                && !bytes.get(e).is_some_and(|&b| wd(b));
            (ok && !is_placeholder(&text[end..e])).then_some((EntityKind::GenericSecret, start, e))
        }
        Special::Putty => putty_key(text, start),
    }
}

/// Incoming-webhook URLs: the whole URL is the secret. Slack: `hooks.slack.com/services/T…/B…/
/// <secret>`; Teams: `<tenant>.webhook.office.com/webhookb2/<uuid>@<uuid>/IncomingWebhook/…`;
/// Discord: `discord.com/api/webhooks/<id>/<token>`.
pub(super) fn webhook(
    s: Special,
    text: &str,
    start: usize,
    end: usize,
) -> Option<(EntityKind, usize, usize)> {
    let bytes = text.as_bytes();
    let mut a = start;
    if s == Special::TeamsWebhook {
        a = run_start(bytes, a, 64, |b| b.is_ascii_alphanumeric() || b == b'-');
    } else if s == Special::DiscordWebhook {
        a = run_start(bytes, a, 16, |b| b.is_ascii_lowercase() || b == b'.');
    }
    for scheme in ["https://", "http://"] {
        if text[..a].ends_with(scheme) {
            a -= scheme.len();
            break;
        }
    }
    let url_byte = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'/' | b'@');
    let e = run_end(bytes, end, 600, url_byte);
    let e = a + text[a..e].trim_end_matches('/').len();
    let url = &text[a..e];
    let ok = match s {
        Special::SlackWebhook => slack_webhook_ok(url),
        Special::TeamsWebhook => {
            url.contains("/IncomingWebhook/") && e - end >= 100 && !is_placeholder(&text[end..e])
        }
        _ => {
            let path = &text[end..e];
            let mut parts = path.split('/');
            let (Some(id), Some(token), None) = (parts.next(), parts.next(), parts.next()) else {
                return None;
            };
            (17..=20).contains(&id.len())
                && id.bytes().all(|b| b.is_ascii_digit())
                && (60..=70).contains(&token.len())
                && !is_placeholder(token)
        }
    };
    let kind = if s == Special::SlackWebhook {
        EntityKind::SlackToken
    } else {
        EntityKind::GenericSecret
    };
    ok.then_some((kind, a, e))
}

/// `…?sv=2022-11-02&ss=b&…&sig=<signature>`: the signature of an Azure shared access signature
/// (URL, connection string `SharedAccessSignature=…`). Needs the `sv=` (service version) of the
/// same token before it, so other `sig=` parameters are left alone. Reports the signature.
pub(super) fn azure_sas(
    text: &str,
    start: usize,
    end: usize,
) -> Option<(EntityKind, usize, usize)> {
    let bytes = text.as_bytes();
    if start == 0 || !matches!(bytes[start - 1], b'?' | b'&' | b';') {
        return None;
    }
    let q = run_start(bytes, start, 1024, |b| {
        !b.is_ascii_whitespace() && !matches!(b, b'"' | b'\'')
    });
    let query = &text[q..start];
    let has_sv = ["?sv=", "&sv=", ";sv=", "=sv="]
        .iter()
        .any(|p| query.contains(p))
        || query.starts_with("sv=");
    if !has_sv {
        return None;
    }
    let e = run_end(bytes, end, 200, |b| {
        b.is_ascii_alphanumeric() || matches!(b, b'%' | b'+' | b'/' | b'=')
    });
    let sig = &text[end..e];
    ((30..=200).contains(&sig.len()) && !is_placeholder(sig) && has_digit(sig)).then_some((
        EntityKind::GenericSecret,
        end,
        e,
    ))
}

/// A PuTTY private key file (`.ppk`): from its first line through `Private-MAC: …`, or through
/// the private lines when the MAC is cut off. Needs `Private-Lines:` within 8 KiB.
pub(super) fn putty_key(text: &str, start: usize) -> Option<(EntityKind, usize, usize)> {
    let bytes = text.as_bytes();
    let mut stop = text.len().min(start + 8 * 1024);
    while !text.is_char_boundary(stop) {
        stop -= 1;
    }
    let window = &text[start..stop];
    let pl = window.find("Private-Lines:")?;
    let end = if let Some(mac) = window.find("Private-MAC:") {
        let from = start + mac + "Private-MAC:".len();
        let from = run_end(bytes, from, 4, |b| b == b' ');
        run_end(bytes, from, 128, |b| b.is_ascii_hexdigit())
    } else {
        // the base64 lines after `Private-Lines: N`
        let mut i = run_end(bytes, start + pl + "Private-Lines:".len(), 16, |b| {
            b == b' ' || b.is_ascii_digit()
        });
        let mut last = i;
        loop {
            let j = run_end(bytes, i, 4, |b| b == b'\r' || b == b'\n');
            if j == i {
                break;
            }
            let k = run_end(bytes, j, 128, is_b64_byte);
            if k == j {
                break;
            }
            last = k;
            i = k;
        }
        last
    };
    let material = &bytes[start + pl..end.max(start + pl)];
    (longest_b64_run(material) >= 40).then_some((EntityKind::PrivateKey, start, end))
}

/// `LS0tLS1CRUdJTi…` decodes to `-----BEGIN …`; only private keys count (not certificates).
pub(super) fn base64_pem_is_private_key(s: &str) -> bool {
    let head = &s[..s.len().min(96) / 4 * 4];
    base64url_decode(head).is_some_and(|d| {
        let line = d.split(|&b| b == b'\n').next().unwrap_or(&[]);
        line.windows(11).any(|w| w == b"PRIVATE KEY")
    })
}

pub(super) fn strip_any_prefix<'a>(s: &'a str, prefixes: &[&str]) -> &'a str {
    prefixes.iter().find_map(|p| s.strip_prefix(p)).unwrap_or(s)
}

/// `T…/B…/secret` with a non-placeholder secret.
pub(super) fn slack_webhook_ok(url: &str) -> bool {
    let Some(i) = url.find("hooks.slack.com/") else {
        return false;
    };
    let path = &url[i + "hooks.slack.com/".len()..];
    let mut parts = path.split('/').filter(|p| !p.is_empty());
    let Some(kind) = parts.next() else {
        return false;
    };
    if !matches!(kind, "services" | "workflows" | "triggers") {
        return false;
    }
    let (Some(team), Some(chan), Some(secret)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    team.len() >= 8
        && chan.len() >= 8
        && secret.len() >= 16
        && !is_placeholder(team.get(1..).unwrap_or(""))
        && !is_placeholder(secret)
}

/// Body of an `sk-` style key: not a placeholder, not kebab/snake-case words, at least two of
/// lower/upper/digit.
pub(super) fn token_body_ok(body: &str) -> bool {
    let classes = [
        body.bytes().any(|b| b.is_ascii_lowercase()),
        body.bytes().any(|b| b.is_ascii_uppercase()),
        body.bytes().any(|b| b.is_ascii_digit()),
    ];
    classes.iter().filter(|c| **c).count() >= 2 && !is_placeholder(body) && !is_word_like(body)
}
