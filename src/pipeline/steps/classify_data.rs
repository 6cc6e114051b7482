//! classify_data: PUBLIC / INTERNAL / CONFIDENTIAL / RESTRICTED from what the detectors found.

use async_trait::async_trait;

use crate::detect::classify::classify_name;
use crate::pipeline::{Ctx, Step};

pub struct ClassifyData;

#[async_trait]
impl Step for ClassifyData {
    fn name(&self) -> &'static str {
        "classify_data"
    }

    async fn run(&self, ctx: &mut Ctx) {
        ctx.classification = ctx
            .detections
            .iter()
            .map(|d| classify_name(&d.kind))
            .max()
            .unwrap_or(crate::detect::classify::Classification::Public);
    }
}
