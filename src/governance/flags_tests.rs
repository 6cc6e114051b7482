//! Unit tests of `flags.rs`.

use super::*;

#[test]
fn parses_the_documented_example() {
    let s = parse("mode=observe, pii=mask, email=internal:co.com").unwrap();
    assert_eq!(s.mode, Some(Mode::Observe));
    assert_eq!(s.pii, Some(PiiAction::Mask));
    assert_eq!(s.email, Some(EmailPolicy::Internal("co.com".into())));
    assert_eq!(s.secrets, None);
}

#[test]
fn every_value_of_every_flag_parses() {
    for v in ["observe", "warn", "enforce", "lockdown"] {
        assert!(parse(&format!("mode={v}")).is_ok());
    }
    for v in ["mask", "block", "flag", "off"] {
        assert!(parse(&format!("pii={v}")).is_ok());
    }
    for v in ["redact", "block", "flag"] {
        assert!(parse(&format!("secrets={v}")).is_ok());
    }
    for v in ["allow", "block", "mirror:audit@co.com", "internal:co.com"] {
        assert!(parse(&format!("email={v}")).is_ok(), "{v}");
    }
    for v in [
        "dev",
        "standard",
        "unlimited",
        "custom:0.05:2",
        "custom:1:10.5",
    ] {
        assert!(parse(&format!("budget={v}")).is_ok(), "{v}");
    }
    for v in ["log", "block", "allowlist:search:calc", "denylist:shell"] {
        assert!(parse(&format!("tools={v}")).is_ok(), "{v}");
    }
    for v in ["read_only", "project", "block", "allow"] {
        assert!(parse(&format!("files={v}")).is_ok());
    }
    assert_eq!(
        parse("budget=custom:0.05:2").unwrap().budget,
        Some(BudgetFlag::Custom {
            per_call_micros: 50_000,
            per_session_micros: 2_000_000
        })
    );
    assert_eq!(parse("").unwrap(), FlagSet::default());
    assert_eq!(parse(" , ").unwrap(), FlagSet::default());
}

#[test]
fn errors_name_the_bad_token() {
    for (h, tok) in [
        ("mode=loud", "mode=loud"),
        ("pii", "pii"),
        ("mode=observe, colour=red", "colour=red"),
        ("mode=observe,mode=warn", "mode=warn"),
        ("email=internal:", "email=internal:"),
        ("email=mirror:nobody", "email=mirror:nobody"),
        ("budget=custom:x:1", "budget=custom:x:1"),
        ("budget=custom:-1:1", "budget=custom:-1:1"),
        ("tools=allowlist:", "tools=allowlist:"),
        ("tools=allowlist:rm -rf", "tools=allowlist:rm -rf"),
    ] {
        let e = parse(h).unwrap_err();
        assert_eq!(e.token, tok, "{h}");
        assert!(e.to_string().contains(tok));
    }
    assert!(parse(&"mode=warn,".repeat(1000)).is_err());
}

#[test]
fn display_round_trips_through_parse() {
    let (f, _) = apply(
        &Flags::default(),
        &Locks::default(),
        &parse("mode=warn, email=internal:co.com, budget=custom:0.05:2, tools=allowlist:a:b")
            .unwrap(),
    );
    let (again, _) = apply(
        &Flags::default(),
        &Locks::default(),
        &parse(&f.to_string()).unwrap(),
    );
    assert_eq!(f, again);
}

#[test]
fn usd_amounts() {
    assert_eq!(usd_micros("0.05"), Some(50_000));
    assert_eq!(usd_micros("2"), Some(2_000_000));
    assert_eq!(usd_micros(".5"), Some(500_000));
    assert_eq!(usd_micros("1.0000001"), None);
    assert_eq!(usd_micros(""), None);
    assert_eq!(usd_micros("."), None);
    assert_eq!(usd_micros("1e3"), None);
    assert_eq!(usd_micros("99999999"), None);
}

#[test]
fn unlocked_flags_apply_as_requested() {
    let req = parse("mode=observe, pii=off, tools=log").unwrap();
    let (f, ignored) = apply(&Flags::default(), &Locks::default(), &req);
    assert_eq!(f.mode, Mode::Observe);
    assert!(ignored.is_empty());
}

#[test]
fn locked_flags_cannot_be_loosened_but_can_be_tightened() {
    let locks = Locks {
        set: parse("mode=enforce, pii=mask, budget=standard, tools=denylist:shell").unwrap(),
    };
    let (f, ignored) = apply(
        &Flags::default(),
        &locks,
        &parse("mode=observe, pii=block, budget=unlimited, tools=log").unwrap(),
    );
    assert_eq!(f.mode, Mode::Enforce);
    assert_eq!(f.pii, PiiAction::Block, "tightening is allowed");
    assert_eq!(f.budget, BudgetFlag::Standard);
    assert_eq!(f.tools, ToolsPolicy::Denylist(vec!["shell".into()]));
    assert_eq!(ignored, vec!["mode", "budget", "tools"]);

    let (f, ignored) = apply(
        &Flags::default(),
        &locks,
        &parse("budget=dev, mode=lockdown").unwrap(),
    );
    assert_eq!((f.budget, f.mode), (BudgetFlag::Dev, Mode::Lockdown));
    assert!(ignored.is_empty());
    // A locked value is the floor even when the request says nothing.
    let (f, _) = apply(&Flags::default(), &locks, &FlagSet::default());
    assert_eq!(f.pii, PiiAction::Mask);
}
