//! The runner and the stream relay, with probe steps that log what they see.

use std::sync::{Arc, Mutex};

use futures_util::StreamExt;

use super::*;
use crate::providers::{EventStream, ProviderError, WireFormat};

type Log = Arc<Mutex<Vec<String>>>;

/// A step that logs every hook call and does what it is told.
#[derive(Default)]
struct Probe {
    name: &'static str,
    reject: bool,
    always: bool,
    /// Stops the stream at an event whose data contains this.
    stop_on: Option<&'static str>,
    /// Holds every event back until the flush.
    hold: bool,
    /// Fails the end of the stream (as a failed completion audit would).
    fail_end: bool,
    /// What a `hold` probe holds (one stream per probe in these tests).
    held: Mutex<Vec<SseEvent>>,
    log: Log,
}

impl Probe {
    fn new(log: &Log, name: &'static str) -> Probe {
        Probe {
            name,
            log: log.clone(),
            ..Default::default()
        }
    }
    fn arc(self) -> Arc<dyn Step> {
        Arc::new(self)
    }
    fn note(&self, what: String) {
        self.log
            .lock()
            .unwrap()
            .push(format!("{}:{what}", self.name));
    }
}

#[async_trait]
impl Step for Probe {
    fn name(&self) -> &'static str {
        self.name
    }
    fn always_runs(&self) -> bool {
        self.always
    }
    async fn run(&self, ctx: &mut Ctx) {
        self.note("run".into());
        if self.reject {
            ctx.reject(Refusal::PolicyBlock {
                step: self.name,
                reason: "probe".into(),
            });
        }
    }
    fn on_stream_event(&self, _ctx: &mut Ctx, events: Vec<SseEvent>) -> Flow {
        for e in &events {
            self.note(format!("event {}", e.data));
            if self.stop_on.is_some_and(|s| e.data.contains(s)) {
                return Flow::Stop(format!("saw {}", e.data));
            }
        }
        if self.hold {
            self.held.lock().unwrap().extend(events);
            return Flow::Forward(Vec::new());
        }
        Flow::Forward(events)
    }
    fn on_stream_flush(&self, _ctx: &mut Ctx) -> Flow {
        self.note("flush".into());
        if self.hold {
            return Flow::Forward(std::mem::take(&mut *self.held.lock().unwrap()));
        }
        Flow::Forward(Vec::new())
    }
    async fn on_stream_end(&self, ctx: &mut Ctx) {
        let outcome = ctx.streaming.outcome.map_or("none", |o| o.as_str());
        self.note(format!("end {outcome}"));
        if self.fail_end {
            ctx.streaming.audit_failed = true;
        }
    }
}

fn ctx() -> Ctx {
    Ctx::new("req".into(), WireFormat::OpenAi, Default::default())
}

fn log_of(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

#[tokio::test]
async fn steps_run_in_the_order_listed() {
    let log = Log::default();
    let p = Pipeline::new(vec![
        Probe::new(&log, "b").arc(),
        Probe::new(&log, "a").arc(),
        Probe::new(&log, "audit").arc(),
    ]);
    let mut c = ctx();
    p.run(&mut c).await;
    assert_eq!(log_of(&log), vec!["b:run", "a:run", "audit:run"]);
    assert_eq!(c.steps_run, vec!["b", "a", "audit"]);
    assert_eq!(p.step_names(), vec!["b", "a", "audit"]);
}

#[tokio::test]
async fn a_refusal_skips_to_the_always_running_steps() {
    let log = Log::default();
    let p = Pipeline::new(vec![
        Probe {
            reject: true,
            ..Probe::new(&log, "a")
        }
        .arc(),
        Probe::new(&log, "b").arc(),
        Probe {
            always: true,
            ..Probe::new(&log, "audit")
        }
        .arc(),
    ]);
    let mut c = ctx();
    p.run(&mut c).await;
    assert_eq!(log_of(&log), vec!["a:run", "audit:run"]);
    assert!(matches!(
        c.rejection,
        Some(Refusal::PolicyBlock { step: "a", .. })
    ));
}

#[tokio::test]
async fn a_step_already_run_is_not_run_again() {
    let log = Log::default();
    let p = Pipeline::new(vec![
        Probe::new(&log, "a").arc(),
        Probe::new(&log, "b").arc(),
    ]);
    let mut c = ctx();
    c.steps_run.push("a");
    p.run(&mut c).await;
    assert_eq!(log_of(&log), vec!["b:run"]);
}

#[tokio::test]
async fn the_first_refusal_wins() {
    let log = Log::default();
    let p = Pipeline::new(vec![
        Probe {
            reject: true,
            ..Probe::new(&log, "a")
        }
        .arc(),
        Probe {
            reject: true,
            always: true,
            ..Probe::new(&log, "audit")
        }
        .arc(),
    ]);
    let mut c = ctx();
    p.run(&mut c).await;
    assert!(matches!(
        c.rejection,
        Some(Refusal::PolicyBlock { step: "a", .. })
    ));
}

fn upstream(items: Vec<Result<SseEvent, ProviderError>>) -> EventStream {
    Box::pin(futures_util::stream::iter(items))
}

fn streamed(p: &Pipeline, events: EventStream) -> BodyStream {
    let mut c = ctx();
    c.reply = Some(UpstreamReply::Stream(events));
    match p.answer(c) {
        Answer::Stream(s) => s,
        _ => panic!("a stream reply is answered as a stream"),
    }
}

async fn body_of(s: BodyStream) -> String {
    let chunks: Vec<_> = s.collect().await;
    chunks
        .into_iter()
        .map(|c| String::from_utf8(c.unwrap().to_vec()).unwrap())
        .collect()
}

#[tokio::test]
async fn stream_events_pass_the_steps_in_order_and_end_before_the_terminal_event() {
    let log = Log::default();
    let p = Pipeline::new(vec![
        Probe::new(&log, "a").arc(),
        Probe::new(&log, "b").arc(),
    ]);
    let s = streamed(
        &p,
        upstream(vec![
            Ok(SseEvent::data("1")),
            Ok(SseEvent::data("2")),
            Ok(SseEvent::data("[DONE]")),
        ]),
    );
    let body = body_of(s).await;
    assert_eq!(body, "data: 1\n\ndata: 2\n\ndata: [DONE]\n\n");
    assert_eq!(
        log_of(&log),
        vec![
            "a:event 1",
            "b:event 1",
            "a:event 2",
            "b:event 2",
            "a:flush",
            "b:flush",
            "a:end completed",
            "b:end completed",
        ]
    );
}

#[tokio::test]
async fn what_a_step_holds_back_is_released_at_the_flush_through_the_later_steps() {
    let log = Log::default();
    let p = Pipeline::new(vec![
        Probe {
            hold: true,
            ..Probe::new(&log, "hold")
        }
        .arc(),
        Probe::new(&log, "after").arc(),
    ]);
    let s = streamed(
        &p,
        upstream(vec![Ok(SseEvent::data("x")), Ok(SseEvent::data("[DONE]"))]),
    );
    assert_eq!(body_of(s).await, "data: x\n\ndata: [DONE]\n\n");
    let l = log_of(&log);
    let flush = l.iter().position(|e| e == "hold:flush").unwrap();
    assert_eq!(l[flush + 1], "after:event x", "{l:?}");
}

#[tokio::test]
async fn a_step_that_stops_the_stream_ends_it_blocked_and_later_steps_never_see_the_event() {
    let log = Log::default();
    let p = Pipeline::new(vec![
        Probe {
            stop_on: Some("secret"),
            ..Probe::new(&log, "scan")
        }
        .arc(),
        Probe::new(&log, "later").arc(),
    ]);
    let s = streamed(
        &p,
        upstream(vec![
            Ok(SseEvent::data("fine")),
            Ok(SseEvent::data("secret")),
            Ok(SseEvent::data("never")),
            Ok(SseEvent::data("[DONE]")),
        ]),
    );
    let body = body_of(s).await;
    assert!(body.starts_with("data: fine\n\n"), "{body}");
    assert!(
        body.contains("Response blocked by policy: saw secret"),
        "{body}"
    );
    assert!(
        !body.contains("never") && !body.contains("[DONE]"),
        "{body}"
    );
    let l = log_of(&log);
    assert!(!l.contains(&"later:event secret".to_string()), "{l:?}");
    assert!(l.contains(&"later:end blocked".to_string()), "{l:?}");
}

#[tokio::test]
async fn a_failed_end_withholds_the_terminal_event() {
    let log = Log::default();
    let p = Pipeline::new(vec![Probe {
        fail_end: true,
        ..Probe::new(&log, "audit")
    }
    .arc()]);
    let s = streamed(
        &p,
        upstream(vec![Ok(SseEvent::data("1")), Ok(SseEvent::data("[DONE]"))]),
    );
    let body = body_of(s).await;
    assert!(!body.contains("[DONE]"), "{body}");
    assert!(body.contains("could not be audited"), "{body}");
}

#[tokio::test]
async fn a_broken_or_unfinished_upstream_ends_the_stream_with_that_outcome() {
    let log = Log::default();
    let p = Pipeline::new(vec![Probe::new(&log, "audit").arc()]);
    let s = streamed(
        &p,
        upstream(vec![
            Ok(SseEvent::data("1")),
            Err(ProviderError::Malformed("garbage".into())),
        ]),
    );
    let body = body_of(s).await;
    assert!(body.contains("garbage"), "{body}");
    let s = streamed(&p, upstream(vec![Ok(SseEvent::data("1"))]));
    assert_eq!(body_of(s).await, "data: 1\n\n");
    let l = log_of(&log);
    assert!(l.contains(&"audit:end upstream_error".to_string()), "{l:?}");
    assert!(
        l.contains(&"audit:end upstream_incomplete".to_string()),
        "{l:?}"
    );
}

#[tokio::test]
async fn a_client_that_goes_away_still_ends_the_stream() {
    let log = Log::default();
    let p = Pipeline::new(vec![Probe::new(&log, "audit").arc()]);
    // A provider that sends one event and then nothing.
    let events = futures_util::stream::iter(vec![Ok(SseEvent::data("1"))])
        .chain(futures_util::stream::pending());
    let mut s = streamed(&p, Box::pin(events));
    assert!(s.next().await.is_some());
    drop(s);
    for _ in 0..100 {
        if log_of(&log).contains(&"audit:end client_closed".to_string()) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("no end after the client left: {:?}", log_of(&log));
}
