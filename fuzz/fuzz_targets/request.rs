//! Request and answer bodies of both wire formats, as JSON from arbitrary bytes: the schema
//! check and the answer reader never panic; every text place a valid request names is a string
//! in it (a place that points nowhere would be text the detectors never see); rewriting every
//! text — what masking and redaction do — leaves a request that is still valid, with the same
//! unscanned parts, opaque parts and tools.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tappass::pipeline::content::TextAt;
use tappass::pipeline::wire::{self, answer};
use tappass::providers::WireFormat;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    for format in [WireFormat::OpenAi, WireFormat::Anthropic] {
        let _ = answer::read(&body, format);
        let Ok(checked) = wire::check(&body, format) else {
            continue;
        };
        for at in &checked.texts.0 {
            match at {
                TextAt::Text(p) => assert!(
                    matches!(body.pointer(p), Some(Value::String(_))),
                    "{format:?}: text place {p} is not a string"
                ),
                TextAt::Strings(p) => {
                    assert!(
                        body.pointer(p).is_some(),
                        "{format:?}: place {p} points nowhere"
                    )
                }
            }
        }
        let mut masked = body.clone();
        checked
            .texts
            .for_each_mut(&mut masked, &mut |s| *s = "[MASKED]".to_owned());
        let again = wire::check(&masked, format).unwrap_or_else(|e| {
            panic!(
                "{format:?}: masked request invalid at {}: {}",
                e.field, e.message
            )
        });
        assert_eq!(again.unscanned, checked.unscanned);
        assert_eq!(again.opaque, checked.opaque);
        assert_eq!(again.texts, checked.texts);
    }
});
