//! The `X-TapPass-Flags` parser on arbitrary input: never panics; whatever parses applies and
//! prints back to something that parses to the same flags.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tappass::governance::flags::{apply, parse, Flags, Locks};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(set) = parse(text) {
        let (flags, _) = apply(&Flags::default(), &Locks::default(), &set);
        let again = parse(&flags.to_string()).expect("printed flags parse");
        let (flags2, _) = apply(&Flags::default(), &Locks::default(), &again);
        assert_eq!(flags, flags2);
        let locks = Locks { set };
        let _ = apply(&Flags::default(), &locks, &again);
    }
});
