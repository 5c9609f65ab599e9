//! What each role may do. Every route of the console declares one [`Permission`]
//! ([`super::routes::ROUTES`]); a role grants a fixed set of them. Organization scope is
//! separate: whatever a user may read is further limited to their organization's subtree.

use crate::state::user::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Anyone, signed in or not (the sign-in page, health).
    Public,
    /// Any signed-in user (their own page, signing out).
    SignedIn,
    /// Search records and alerts (of the user's organization subtree).
    Search,
    /// Read alerts, cases and suppressions (of the user's organization subtree).
    ReadAlerts,
    /// Act on alerts: acknowledge, assign, escalate, close; cases; suppressions.
    Triage,
    /// Read information systems, their levels and dossiers (of the user's subtree, and the
    /// dossiers routed to the user's organization).
    ReadCompliance,
    /// Add, edit, import and classify information systems (of the user's subtree).
    EditSystems,
    /// Open and act on dossiers; which steps is the user's part on each dossier.
    ActOnDossiers,
    /// Read the audit trail.
    ReadAudit,
    /// Manage users, organizations and tokens.
    Administer,
}

impl Permission {
    pub fn granted_to(self, role: Role) -> bool {
        match self {
            Self::Public | Self::SignedIn => true,
            Self::Search => matches!(role, Role::Admin | Role::Analyst | Role::Auditor),
            Self::ReadAlerts => matches!(role, Role::Admin | Role::Analyst | Role::Auditor),
            Self::Triage => matches!(role, Role::Admin | Role::Analyst),
            Self::ReadCompliance => !matches!(role, Role::Analyst),
            Self::EditSystems => matches!(role, Role::Admin | Role::SystemOwner),
            Self::ActOnDossiers => matches!(role, Role::SystemOwner | Role::Appraiser | Role::Approver),
            Self::ReadAudit => matches!(role, Role::Admin | Role::Auditor),
            Self::Administer => role == Role::Admin,
        }
    }
}
