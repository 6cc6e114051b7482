//! The lifecycle states of agents and keys, as stored (`status` columns) and shown.

use serde::Serialize;

/// An API key is live until it is revoked (by hand or by a rotation); nothing brings it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyStatus {
    Active,
    Revoked,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "active",
            KeyStatus::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<KeyStatus> {
        [KeyStatus::Active, KeyStatus::Revoked]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// A disabled agent keeps its record and its audit trail; its keys stop working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentStatus {
    Active,
    Disabled,
}

impl AgentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AgentStatus::Active => "active",
            AgentStatus::Disabled => "disabled",
        }
    }

    pub fn parse(s: &str) -> Option<AgentStatus> {
        [AgentStatus::Active, AgentStatus::Disabled]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_stored_names() {
        for k in [KeyStatus::Active, KeyStatus::Revoked] {
            assert_eq!(KeyStatus::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        for a in [AgentStatus::Active, AgentStatus::Disabled] {
            assert_eq!(AgentStatus::parse(a.as_str()), Some(a));
            assert_eq!(serde_json::to_value(a).unwrap(), a.as_str());
        }
        assert_eq!(KeyStatus::parse("Active"), None);
        assert_eq!(AgentStatus::parse("deleted"), None);
    }
}
