//! The role and action vocabulary of the dual-lane SOP, and the §5 accountability matrix as
//! data.
//!
//! `leo-gates` sits above this crate and re-uses these types; they live here because the store
//! enforces the matrix itself (in Rust, in SQLite `CHECK` constraints and in PostgreSQL row-level
//! security), and a lower crate never depends on a higher one.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// Who acts (SOP §1, §2, §4.1).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    /// The builder lane: read-only.
    Codex,
    /// The enforcer lane (Claude/EXEC): applies patches, opens PRs, triggers workflows.
    ClaudeExec,
    /// The supervisor: monitors gates and issues verdicts.
    Plan,
    /// Strategic authority: escalation review and final approval.
    Lead,
    /// The merge machinery (SOP §4.1 step 11): not a column of the §5 matrix.
    System,
}

impl Role {
    /// Every role, in matrix column order.
    pub const ALL: [Role; 5] = [
        Role::Codex,
        Role::ClaudeExec,
        Role::Plan,
        Role::Lead,
        Role::System,
    ];

    /// The stable spelling stored in the database (`actor` columns).
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Codex => "CODEX",
            Role::ClaudeExec => "CLAUDE_EXEC",
            Role::Plan => "PLAN",
            Role::Lead => "LEAD",
            Role::System => "SYSTEM",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| Error::UnknownName {
                kind: "role",
                input: crate::error::snippet(s),
            })
    }
}

/// An action of the SOP §5 accountability matrix, plus the merge step of §4.1.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Action {
    /// "Generate patches".
    GeneratePatches,
    /// "Sign artifacts".
    SignArtifacts,
    /// "Create PR".
    CreatePr,
    /// "Trigger workflows".
    TriggerWorkflows,
    /// "Monitor gates".
    MonitorGates,
    /// "Issue PASS verdict" (and the other verdicts).
    IssueVerdict,
    /// "Escalation review".
    EscalationReview,
    /// "Database writes".
    DatabaseWrites,
    /// SOP §4.1 step 11: "System → Allows merge only after PASS recorded".
    AllowMerge,
}

impl Action {
    /// Every action, in matrix row order.
    pub const ALL: [Action; 9] = [
        Action::GeneratePatches,
        Action::SignArtifacts,
        Action::CreatePr,
        Action::TriggerWorkflows,
        Action::MonitorGates,
        Action::IssueVerdict,
        Action::EscalationReview,
        Action::DatabaseWrites,
        Action::AllowMerge,
    ];

    /// The stable spelling stored in the database (`action` columns).
    pub const fn as_str(self) -> &'static str {
        match self {
            Action::GeneratePatches => "GENERATE_PATCHES",
            Action::SignArtifacts => "SIGN_ARTIFACTS",
            Action::CreatePr => "CREATE_PR",
            Action::TriggerWorkflows => "TRIGGER_WORKFLOWS",
            Action::MonitorGates => "MONITOR_GATES",
            Action::IssueVerdict => "ISSUE_VERDICT",
            Action::EscalationReview => "ESCALATION_REVIEW",
            Action::DatabaseWrites => "DATABASE_WRITES",
            Action::AllowMerge => "ALLOW_MERGE",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Action::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| Error::UnknownName {
                kind: "action",
                input: crate::error::snippet(s),
            })
    }
}

/// The SOP §5 accountability matrix, row by row, as `(action, roles allowed)`.
///
/// `System` is not a column of §5; it holds only the merge step of §4.1.
pub const MATRIX: [(Action, &[Role]); 9] = [
    (Action::GeneratePatches, &[Role::Codex]),
    (Action::SignArtifacts, &[Role::ClaudeExec]),
    (Action::CreatePr, &[Role::ClaudeExec]),
    (Action::TriggerWorkflows, &[Role::ClaudeExec]),
    (Action::MonitorGates, &[Role::Plan]),
    (Action::IssueVerdict, &[Role::Plan]),
    (Action::EscalationReview, &[Role::Lead]),
    (
        Action::DatabaseWrites,
        &[Role::ClaudeExec, Role::Plan, Role::Lead],
    ),
    (Action::AllowMerge, &[Role::System]),
];

/// Whether the matrix gives `role` the `action`.
pub fn allowed(role: Role, action: Action) -> bool {
    MATRIX
        .iter()
        .any(|(a, roles)| *a == action && roles.contains(&role))
}

/// The actions whose holders may write to the audit trail: the §5 "Database writes" row, and
/// the merge step of §4.1 (step 11), whose machinery records the merge it allowed (the
/// `merged` label transition, or its refusal). `System` therefore writes, but only records
/// filed under `AllowMerge`, the one action its column has.
pub const RECORDING_ACTIONS: [Action; 2] = [Action::DatabaseWrites, Action::AllowMerge];

/// Whether `role` may append to the audit trail at all (see [`RECORDING_ACTIONS`]).
pub fn may_write(role: Role) -> bool {
    RECORDING_ACTIONS.iter().any(|a| allowed(role, *a))
}

/// Every `(role, action)` pair the matrix allows, in matrix order: the rows the databases'
/// `leo_role_actions` table is seeded with.
pub fn allowed_pairs() -> impl Iterator<Item = (Role, Action)> {
    MATRIX
        .iter()
        .flat_map(|(a, roles)| roles.iter().map(move |r| (*r, *a)))
}

/// Refuses an action the matrix does not give the role.
pub fn check(role: Role, action: Action) -> Result<()> {
    if allowed(role, action) {
        Ok(())
    } else {
        Err(Error::ActionNotAllowed { role, action })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_matches_the_sop_table() {
        // SOP §5, column by column (Codex, Claude/EXEC, PLAN, LEAD).
        let expect: [(Action, [bool; 4]); 8] = [
            (Action::GeneratePatches, [true, false, false, false]),
            (Action::SignArtifacts, [false, true, false, false]),
            (Action::CreatePr, [false, true, false, false]),
            (Action::TriggerWorkflows, [false, true, false, false]),
            (Action::MonitorGates, [false, false, true, false]),
            (Action::IssueVerdict, [false, false, true, false]),
            (Action::EscalationReview, [false, false, false, true]),
            (Action::DatabaseWrites, [false, true, true, true]),
        ];
        let cols = [Role::Codex, Role::ClaudeExec, Role::Plan, Role::Lead];
        for (action, row) in expect {
            for (role, want) in cols.iter().zip(row) {
                assert_eq!(allowed(*role, action), want, "{role} {action}");
            }
            assert!(!allowed(Role::System, action), "System {action}");
        }
        assert!(allowed(Role::System, Action::AllowMerge));
        assert!(matches!(
            check(Role::Codex, Action::DatabaseWrites),
            Err(Error::ActionNotAllowed {
                role: Role::Codex,
                action: Action::DatabaseWrites
            })
        ));
    }

    #[test]
    fn writers_are_the_database_writes_row_plus_the_merge_step() {
        let writers: Vec<Role> = Role::ALL.into_iter().filter(|r| may_write(*r)).collect();
        assert_eq!(
            writers,
            [Role::ClaudeExec, Role::Plan, Role::Lead, Role::System]
        );
    }

    #[test]
    fn names_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        for a in Action::ALL {
            assert_eq!(a.as_str().parse::<Action>().unwrap(), a);
        }
        assert!(matches!(
            "lead".parse::<Role>(),
            Err(Error::UnknownName { kind: "role", .. })
        ));
    }
}
