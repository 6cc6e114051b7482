//! Certificate expiry (`[health] certificates`): every certificate in a PEM file, and how close
//! the first of them is to its `notAfter`. Pure.

use chrono::{DateTime, Utc};

use super::Status;

/// One certificate of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cert {
    pub subject: String,
    pub not_after: DateTime<Utc>,
}

/// Every certificate in PEM `bytes` (a chain has several; keys and other blocks are skipped).
/// No certificate at all, or one that does not parse, is an error.
pub fn parse_pem(bytes: &[u8]) -> Result<Vec<Cert>, String> {
    let mut out = Vec::new();
    for (i, pem) in x509_parser::pem::Pem::iter_from_buffer(bytes).enumerate() {
        let pem = pem.map_err(|e| format!("PEM block {}: {e}", i + 1))?;
        if pem.label != "CERTIFICATE" {
            continue;
        }
        let cert = pem
            .parse_x509()
            .map_err(|e| format!("certificate {}: {e}", out.len() + 1))?;
        let ts = cert.validity().not_after.timestamp();
        let not_after = DateTime::<Utc>::from_timestamp(ts, 0)
            .ok_or_else(|| format!("certificate {}: notAfter out of range", out.len() + 1))?;
        out.push(Cert {
            subject: cert.subject().to_string(),
            not_after,
        });
    }
    if out.is_empty() {
        return Err("no PEM certificate in the file".to_owned());
    }
    Ok(out)
}

/// The status of the certificate that expires first: `fail` when expired, `warn` when it
/// expires within `days`, else `ok`; with a line that says which and when.
pub fn status(certs: &[Cert], now: DateTime<Utc>, days: u32) -> (Status, String) {
    let Some(first) = certs.iter().min_by_key(|c| c.not_after) else {
        return (Status::Warn, "no certificate".to_owned());
    };
    let left = first.not_after - now;
    // Whole days, rounded up: a certificate made "-days 10" a minute ago expires in 10 days.
    let days_left = (left.num_seconds() + 86_399).div_euclid(86_400);
    let when = first.not_after.format("%Y-%m-%d %H:%M UTC");
    let who = if certs.len() > 1 {
        format!("{} (first to expire of {})", first.subject, certs.len())
    } else {
        first.subject.clone()
    };
    if left <= chrono::Duration::zero() {
        (Status::Fail, format!("{who} EXPIRED on {when}"))
    } else if left < chrono::Duration::days(i64::from(days)) {
        (
            Status::Warn,
            format!("{who} expires in {days_left} days ({when}), under the {days}-day threshold"),
        )
    } else {
        (
            Status::Ok,
            format!("{who} valid for {days_left} more days ({when})"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(days: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap() + chrono::Duration::days(days)
    }

    fn cert(subject: &str, days: i64) -> Cert {
        Cert {
            subject: subject.into(),
            not_after: at(days),
        }
    }

    #[test]
    fn thresholds() {
        let now = at(0);
        assert_eq!(status(&[cert("CN=a", 31)], now, 30).0, Status::Ok);
        let (s, line) = status(&[cert("CN=a", 10)], now, 30);
        assert_eq!(s, Status::Warn);
        assert!(line.contains("CN=a expires in 10 days"), "{line}");
        let mut almost = cert("CN=a", 10);
        almost.not_after -= chrono::Duration::minutes(1);
        let (_, line) = status(&[almost], now, 30);
        assert!(line.contains("expires in 10 days"), "rounded up: {line}");
        assert_eq!(status(&[cert("CN=a", 0)], now, 30).0, Status::Fail);
        let (s, line) = status(&[cert("CN=a", -3)], now, 30);
        assert_eq!(s, Status::Fail);
        assert!(line.contains("EXPIRED"), "{line}");
        assert_eq!(status(&[], now, 30).0, Status::Warn);
    }

    #[test]
    fn a_chain_is_as_good_as_its_first_expiry() {
        let (s, line) = status(&[cert("CN=leaf", 400), cert("CN=ca", 5)], at(0), 30);
        assert_eq!(s, Status::Warn);
        assert!(line.starts_with("CN=ca (first to expire of 2)"), "{line}");
    }

    /// A real certificate (made once with `openssl req -x509 -days 36500 -subj /CN=tappass-test`;
    /// notAfter 2126-11-10) parses, with the public-key block beside it skipped.
    #[test]
    fn parses_a_real_pem_file() {
        let pem = include_bytes!("testdata/cert.pem");
        let certs = parse_pem(pem).unwrap();
        assert_eq!(certs.len(), 1);
        assert_eq!(certs[0].subject, "CN=tappass-test");
        assert_eq!(
            certs[0].not_after.format("%Y-%m-%d").to_string(),
            "2126-11-10"
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(parse_pem(b"").is_err());
        assert!(parse_pem(b"hello").is_err());
        assert!(
            parse_pem(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").is_err()
        );
        let pem = include_bytes!("testdata/cert.pem");
        for cut in [10, pem.len() / 2, pem.len() - 30] {
            assert!(parse_pem(&pem[..cut]).is_err(), "cut at {cut}");
        }
    }
}
