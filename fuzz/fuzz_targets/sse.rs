//! The upstream event stream, from arbitrary bytes cut into arbitrary chunks: parsing never
//! panics and does not depend on where the chunks are cut (a provider's TCP segments fall
//! anywhere, inside a UTF-8 character too); an event re-encoded the way the gateway forwards
//! it parses back to itself; the size bounds pass a prefix of the input and end with an error
//! exactly when a limit is crossed.
#![no_main]

use std::sync::OnceLock;

use bytes::Bytes;
use futures_util::StreamExt;
use libfuzzer_sys::fuzz_target;
use tappass::providers::sse::{self, Bounds, SseEvent};

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    })
}

/// `data` cut into chunks whose sizes come from `cuts` (1 … 16 bytes each, cycling).
fn chunked(data: &[u8], cuts: &[u8]) -> Vec<Result<Bytes, String>> {
    let mut out = Vec::new();
    let mut rest = data;
    let mut i = 0;
    while !rest.is_empty() {
        let n = cuts
            .get(i % cuts.len().max(1))
            .map_or(rest.len(), |c| usize::from(c % 16) + 1);
        let (a, b) = rest.split_at(n.min(rest.len()));
        out.push(Ok(Bytes::copy_from_slice(a)));
        rest = b;
        i += 1;
    }
    out
}

async fn events(chunks: Vec<Result<Bytes, String>>) -> Vec<Result<SseEvent, String>> {
    sse::parse(futures_util::stream::iter(chunks))
        .map(|r| r.map_err(|e| e.to_string()))
        .collect()
        .await
}

fuzz_target!(|input: (Vec<u8>, Vec<u8>)| {
    let (data, cuts) = input;
    runtime().block_on(async {
        let whole = events(vec![Ok(Bytes::copy_from_slice(&data))]).await;
        let pieces = events(chunked(&data, &cuts)).await;
        assert_eq!(
            whole, pieces,
            "the events depend on where the chunks are cut"
        );

        for ev in whole.iter().flatten() {
            let plain = |s: &str| !s.contains('\r');
            if plain(&ev.data)
                && ev
                    .event
                    .as_deref()
                    .is_none_or(|n| plain(n) && !n.contains('\n'))
            {
                let back = events(vec![Ok(ev.encode())]).await;
                assert_eq!(
                    back,
                    vec![Ok(ev.clone())],
                    "re-encoded event does not parse back"
                );
            }
        }

        let bounds = Bounds {
            idle: std::time::Duration::from_secs(60),
            max_event_bytes: 64,
            max_total_bytes: 512,
        };
        let passed: Vec<Result<Bytes, String>> =
            sse::bounded(futures_util::stream::iter(chunked(&data, &cuts)), bounds)
                .collect()
                .await;
        let ok: Vec<u8> = passed
            .iter()
            .flatten()
            .flat_map(|b| b.iter().copied())
            .collect();
        assert!(
            data.starts_with(&ok),
            "bounded passed bytes that were not sent"
        );
        if let Some(pos) = passed.iter().position(Result::is_err) {
            assert_eq!(pos, passed.len() - 1, "an error is the stream's last item");
        } else {
            assert_eq!(ok, data, "nothing was cut without an error");
            assert!(data.len() as u64 <= bounds.max_total_bytes);
        }
    });
});
