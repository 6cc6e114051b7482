//! The `X-TapPass-Flags` parser on arbitrary input: never panics; whatever parses applies and
//! prints back to something that parses to the same flags; without a grant, applying a request
//! never yields flags looser than the server's.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tappass::governance::flags::{apply, parse, Flags, Grants, Locks, Strictness};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(set) = parse(text) {
        let (flags, _) = apply(&Flags::default(), &Locks::default(), Grants::ALL, &set);
        let again = parse(&flags.to_string()).expect("printed flags parse");
        let (flags2, _) = apply(&Flags::default(), &Locks::default(), Grants::ALL, &again);
        assert_eq!(flags, flags2);
        // `flags` as the server's base: a request may only tighten it.
        let (tight, _) = apply(&flags, &Locks::default(), Grants::NONE, &parse("mode=observe, pii=off, secrets=flag, email=allow, budget=unlimited, tools=log, files=allow").unwrap());
        assert_eq!(tight, flags);
        let locks = Locks { set };
        let (locked, _) = apply(&Flags::default(), &locks, Grants::ALL, &again);
        assert!(locked.mode.at_least_as_strict(&flags.mode));
        assert!(locked.tools.at_least_as_strict(&flags.tools));
        assert!(locked.budget.at_least_as_strict(&flags.budget));
    }
});
