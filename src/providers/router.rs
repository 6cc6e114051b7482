//! Model routing (product.md, "Model routing"): `provider/model` picks the provider; a bare name
//! goes where the model map says, else to the default provider of the endpoint's format.

use std::collections::HashMap;
use std::sync::Arc;

use super::{Provider, WireFormat};

/// Where one request goes.
#[derive(Clone)]
pub struct Route {
    pub provider: Arc<dyn Provider>,
    /// The model name the provider is asked for (prefix removed).
    pub model: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// 404 `model_not_found`.
    #[error("model `{model}` not found: no provider named `{provider}`")]
    UnknownProvider { model: String, provider: String },
    /// 400: the provider exists but speaks the other wire format (no translation yet).
    #[error("model `{model}` is served by provider `{provider}`, which does not speak the {endpoint} format of this endpoint; call it through its own endpoint")]
    WrongFormat {
        model: String,
        provider: String,
        endpoint: &'static str,
    },
    /// 404: no provider for a bare model on this endpoint.
    #[error("model `{model}` not found: no default {endpoint} provider is configured")]
    NoDefault {
        model: String,
        endpoint: &'static str,
    },
}

/// All providers plus the model map; built once at start-up.
pub struct Router {
    providers: HashMap<String, Arc<dyn Provider>>,
    /// Bare model name → provider name.
    models: HashMap<String, String>,
}

impl Router {
    pub fn new(providers: Vec<Arc<dyn Provider>>, models: HashMap<String, String>) -> Router {
        let providers = providers
            .into_iter()
            .map(|p| (p.name().to_string(), p))
            .collect();
        Router { providers, models }
    }

    pub fn route(&self, endpoint: WireFormat, model: &str) -> Result<Route, RouteError> {
        let (provider_name, upstream_model) = if let Some(p) = self.models.get(model) {
            (p.as_str(), model)
        } else if let Some((prefix, rest)) = model.split_once('/') {
            if !self.providers.contains_key(prefix) {
                return Err(RouteError::UnknownProvider {
                    model: model.into(),
                    provider: prefix.into(),
                });
            }
            (prefix, rest)
        } else {
            let default = match endpoint {
                WireFormat::OpenAi => "openai",
                WireFormat::Anthropic => "anthropic",
            };
            (default, model)
        };
        let provider = self
            .providers
            .get(provider_name)
            .ok_or_else(|| RouteError::NoDefault {
                model: model.into(),
                endpoint: endpoint.name(),
            })?;
        if !provider.speaks(endpoint) {
            return Err(RouteError::WrongFormat {
                model: model.into(),
                provider: provider_name.into(),
                endpoint: endpoint.name(),
            });
        }
        Ok(Route {
            provider: provider.clone(),
            model: upstream_model.to_string(),
        })
    }

    /// The models an agent may name: the model map's entries and `<provider>/…` for each provider.
    pub fn model_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.models.keys().cloned().collect();
        if self.providers.contains_key("mock") {
            ids.push("mock/echo".into());
        }
        ids.sort();
        ids
    }

    pub fn provider_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.providers.keys().cloned().collect();
        names.sort();
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::{ProviderError, UpstreamReply, UpstreamRequest};
    use async_trait::async_trait;

    struct Fake(&'static str, WireFormat);

    #[async_trait]
    impl Provider for Fake {
        fn name(&self) -> &str {
            self.0
        }
        fn speaks(&self, f: WireFormat) -> bool {
            f == self.1
        }
        async fn send(
            &self,
            _: WireFormat,
            _: &UpstreamRequest,
        ) -> Result<UpstreamReply, ProviderError> {
            unreachable!()
        }
    }

    fn router() -> Router {
        Router::new(
            vec![
                Arc::new(Fake("openai", WireFormat::OpenAi)),
                Arc::new(Fake("anthropic", WireFormat::Anthropic)),
                Arc::new(Fake("ollama", WireFormat::OpenAi)),
            ],
            HashMap::from([("llama3".to_string(), "ollama".to_string())]),
        )
    }

    #[test]
    fn bare_names_go_to_the_endpoint_default() {
        let r = router();
        let route = r.route(WireFormat::OpenAi, "gpt-4o-mini").unwrap();
        assert_eq!(
            (route.provider.name(), route.model.as_str()),
            ("openai", "gpt-4o-mini")
        );
        let route = r.route(WireFormat::Anthropic, "claude-x").unwrap();
        assert_eq!(route.provider.name(), "anthropic");
    }

    #[test]
    fn model_map_and_prefix_pick_the_provider() {
        let r = router();
        assert_eq!(
            r.route(WireFormat::OpenAi, "llama3")
                .unwrap()
                .provider
                .name(),
            "ollama"
        );
        let route = r.route(WireFormat::OpenAi, "ollama/qwen2").unwrap();
        assert_eq!(
            (route.provider.name(), route.model.as_str()),
            ("ollama", "qwen2")
        );
    }

    #[test]
    fn unknown_prefix_is_model_not_found() {
        assert!(matches!(
            router().route(WireFormat::OpenAi, "nosuch/gpt"),
            Err(RouteError::UnknownProvider { .. })
        ));
    }

    #[test]
    fn cross_format_is_refused() {
        assert!(matches!(
            router().route(WireFormat::OpenAi, "anthropic/claude"),
            Err(RouteError::WrongFormat { .. })
        ));
        assert!(matches!(
            router().route(WireFormat::Anthropic, "ollama/llama3"),
            Err(RouteError::WrongFormat { .. })
        ));
    }
}
