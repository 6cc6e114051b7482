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
        Grants::ALL,
        &parse("mode=warn, email=internal:co.com, budget=custom:0.05:2, tools=allowlist:a:b")
            .unwrap(),
    );
    let (again, _) = apply(
        &Flags::default(),
        &Locks::default(),
        Grants::ALL,
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
fn without_a_grant_every_loosening_is_refused() {
    let req = parse("mode=observe, pii=off, secrets=flag, budget=unlimited, tools=log").unwrap();
    let base = Flags {
        pii: PiiAction::Mask,
        budget: BudgetFlag::Standard,
        tools: ToolsPolicy::Denylist(vec!["shell".into()]),
        ..Flags::default()
    };
    let (f, ignored) = apply(&base, &Locks::default(), Grants::NONE, &req);
    assert_eq!(f, base, "nothing loosened");
    assert_eq!(ignored, vec!["mode", "pii", "secrets", "budget", "tools"]);
}

#[test]
fn a_grant_lets_exactly_its_flags_loosen() {
    let req = parse("mode=observe, pii=off").unwrap();
    let base = Flags {
        pii: PiiAction::Mask,
        ..Flags::default()
    };
    let grants = Grants::parse_list("mode").unwrap();
    let (f, ignored) = apply(&base, &Locks::default(), grants, &req);
    assert_eq!((f.mode, f.pii), (Mode::Observe, PiiAction::Mask));
    assert_eq!(ignored, vec!["pii"]);
    let (f, ignored) = apply(&base, &Locks::default(), Grants::ALL, &req);
    assert_eq!((f.mode, f.pii), (Mode::Observe, PiiAction::Off));
    assert!(ignored.is_empty());
}

#[test]
fn grants_parse_and_name_unknown_flags() {
    let g = Grants::parse_list(" pii , mode,").unwrap();
    assert_eq!(g.names(), vec!["mode", "pii"]);
    assert_eq!(Grants::parse_list("").unwrap(), Grants::NONE);
    assert_eq!(Grants::ALL.names(), KEYS.to_vec());
    let e = Grants::parse_list("mode, colour").unwrap_err();
    assert!(e.contains("`colour`") && e.contains("mode, pii"), "{e}");
    for f in FlagName::ALL {
        assert_eq!(FlagName::parse(f.as_str()), Some(f));
        assert!(Grants::NONE.with(f).contains(f));
    }
}

#[test]
fn locked_flags_cannot_be_loosened_but_can_be_tightened() {
    let locks = Locks {
        set: parse("mode=enforce, pii=mask, budget=standard, tools=denylist:shell").unwrap(),
    };
    // Not even with a grant: the lock is the floor.
    let (f, ignored) = apply(
        &Flags::default(),
        &locks,
        Grants::ALL,
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
        Grants::NONE,
        &parse("budget=dev, mode=lockdown").unwrap(),
    );
    assert_eq!((f.budget, f.mode), (BudgetFlag::Dev, Mode::Lockdown));
    assert!(ignored.is_empty());
    // A locked value is the floor even when the request says nothing.
    let (f, _) = apply(&Flags::default(), &locks, Grants::NONE, &FlagSet::default());
    assert_eq!(f.pii, PiiAction::Mask);
}

/// The review's attack: a deny list on `shell`, a request allow-listing `shell`.
#[test]
fn an_allowlist_naming_a_denied_tool_is_a_loosening() {
    let locks = Locks {
        set: parse("tools=denylist:shell").unwrap(),
    };
    let (f, ignored) = apply(
        &Flags::default(),
        &locks,
        Grants::NONE,
        &parse("tools=allowlist:shell").unwrap(),
    );
    assert_eq!(f.tools, ToolsPolicy::Denylist(vec!["shell".into()]));
    assert_eq!(ignored, vec!["tools"]);
    // An allow list of tools the deny list permits is a tightening.
    let (f, ignored) = apply(
        &Flags::default(),
        &locks,
        Grants::NONE,
        &parse("tools=allowlist:search:calc").unwrap(),
    );
    assert_eq!(
        f.tools,
        ToolsPolicy::Allowlist(vec!["search".into(), "calc".into()])
    );
    assert!(ignored.is_empty());
}

fn tools(s: &str) -> ToolsPolicy {
    parse(&format!("tools={s}")).unwrap().tools.unwrap()
}

/// Strictness of tools is inclusion of the permitted sets, checked against brute force over a
/// small universe of names (a name outside every list stands for "any other tool").
#[test]
fn tools_strictness_is_set_inclusion() {
    let universe = ["a", "b", "c", "other"];
    let policies = [
        "log",
        "block",
        "allowlist:a",
        "allowlist:a:b",
        "allowlist:c",
        "allowlist:a:b:c",
        "denylist:a",
        "denylist:a:b",
        "denylist:c",
        "denylist:a:b:c",
    ];
    for req in policies {
        for cur in policies {
            let (r, c) = (tools(req), tools(cur));
            let subset = universe.iter().all(|t| !r.permits(t) || c.permits(t));
            assert_eq!(
                r.at_least_as_strict(&c),
                subset,
                "tools={req} over tools={cur}"
            );
        }
    }
}

#[test]
fn ordered_flags_follow_their_documented_order() {
    let modes = [Mode::Observe, Mode::Warn, Mode::Enforce, Mode::Lockdown];
    for (i, a) in modes.iter().enumerate() {
        for (j, b) in modes.iter().enumerate() {
            assert_eq!(b.at_least_as_strict(a), j >= i);
        }
    }
    let pii = [
        PiiAction::Off,
        PiiAction::Flag,
        PiiAction::Mask,
        PiiAction::Block,
    ];
    for (i, a) in pii.iter().enumerate() {
        for (j, b) in pii.iter().enumerate() {
            assert_eq!(b.at_least_as_strict(a), j >= i);
        }
    }
    assert!(SecretsAction::Block.at_least_as_strict(&SecretsAction::Redact));
    assert!(!SecretsAction::Flag.at_least_as_strict(&SecretsAction::Redact));
    assert!(FilesPolicy::ReadOnly.at_least_as_strict(&FilesPolicy::Project));
    assert!(!FilesPolicy::Allow.at_least_as_strict(&FilesPolicy::Project));
}

#[test]
fn email_and_budget_strictness() {
    let e = |s: &str| parse(&format!("email={s}")).unwrap().email.unwrap();
    assert!(e("internal:co.com").at_least_as_strict(&e("allow")));
    assert!(e("block").at_least_as_strict(&e("internal:co.com")));
    assert!(
        !e("internal:evil.com").at_least_as_strict(&e("internal:co.com")),
        "another domain is a loosening"
    );
    assert!(!e("mirror:me@evil.com").at_least_as_strict(&e("mirror:audit@co.com")));
    assert!(!e("allow").at_least_as_strict(&e("mirror:audit@co.com")));
    let b = |s: &str| parse(&format!("budget={s}")).unwrap().budget.unwrap();
    assert!(b("dev").at_least_as_strict(&b("standard")));
    assert!(!b("standard").at_least_as_strict(&b("dev")));
    assert!(!b("unlimited").at_least_as_strict(&b("custom:0.01:0.1")));
    assert!(b("custom:0.01:0.1").at_least_as_strict(&b("unlimited")));
    assert!(
        !b("custom:0.01:100").at_least_as_strict(&b("dev")),
        "a higher session limit loosens even with a lower call limit"
    );
}
