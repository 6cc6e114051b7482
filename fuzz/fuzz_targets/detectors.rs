//! Every detector on arbitrary text: never panics, findings are in bounds, on char boundaries,
//! and masking them yields valid text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tappass::detect::{classify, injection, mask, pii, secrets, unicode, Finding};

fn check(text: &str, findings: &[Finding]) {
    for f in findings {
        assert!(f.start < f.end && f.end <= text.len(), "{f:?} out of bounds");
        assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end), "{f:?} splits a char");
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut all = pii::detect_pii(&text);
    check(&text, &all);
    let s = secrets::detect_secrets(&text);
    check(&text, &s);
    all.extend(s);
    let u = unicode::detect_unicode(&text);
    check(&text, &u);
    all.extend(u);
    let inj = injection::detect_injection(&text);
    assert!((0.0..=1.0).contains(&inj.score));
    check(&text, &inj.signals);
    let _ = classify::classify(all.iter().map(|f| f.kind));
    let masked = mask::replace(&text, all, |f, _| mask::mask_label(f.kind));
    assert!(masked.len() <= text.len() + 64 * text.len().max(1));
});
