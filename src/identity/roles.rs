//! Roles, as product.md's auth matrix defines them.

use serde::{Deserialize, Serialize};

/// What a key may do. Agents use the data plane; admins the control plane; auditors only read
/// the audit trail (and metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Agent,
    Admin,
    Auditor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Admin => "admin",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "agent" => Some(Role::Agent),
            "admin" => Some(Role::Admin),
            "auditor" => Some(Role::Auditor),
            _ => None,
        }
    }

    /// May this role read `/audit*` and `/metrics`?
    pub fn can_read_audit(self) -> bool {
        matches!(self, Role::Admin | Role::Auditor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip() {
        for r in [Role::Agent, Role::Admin, Role::Auditor] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn only_admin_and_auditor_read_audit() {
        assert!(Role::Admin.can_read_audit());
        assert!(Role::Auditor.can_read_audit());
        assert!(!Role::Agent.can_read_audit());
    }
}
