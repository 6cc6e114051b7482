//! What a call may cost before it is made: the budget reserves it, and a stream whose provider
//! reports no usage is settled at it (an upper bound).

use serde_json::Value;

use crate::pipeline::Ctx;

/// Tokens the reservation assumes: ~4 bytes per prompt token, and the request's `max_tokens`
/// (or `max_completion_tokens`, or the configured default) for the answer.
pub(crate) fn estimate_tokens(ctx: &mut Ctx, default_max: u64) -> (u64, u64) {
    let mut bytes = 0usize;
    let mut messages = 0u64;
    let texts = ctx.texts.clone();
    if let Some(body) = ctx.body.as_mut() {
        messages = body
            .get("messages")
            .and_then(Value::as_array)
            .map_or(0, |m| m.len() as u64);
        texts.for_each_mut(body, &mut |t| bytes += t.len());
    }
    let prompt = (bytes as u64).div_ceil(4) + 4 * messages + 8;
    let completion = ctx
        .body
        .as_ref()
        .and_then(|b| {
            b.get("max_tokens")
                .or_else(|| b.get("max_completion_tokens"))
        })
        .and_then(Value::as_u64)
        .unwrap_or(default_max);
    (prompt, completion)
}
