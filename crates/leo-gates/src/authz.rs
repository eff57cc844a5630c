//! Who may do what: the SOP §5 accountability matrix and lane separation.
//!
//! The matrix itself lives in [`leo_store::role`] (the store enforces it too, and a lower
//! crate never depends on a higher one); this module adds the typed refusal and the rule that
//! one signing identity never acts in two roles.

use std::collections::BTreeMap;

pub use leo_store::role::MATRIX;
pub use leo_store::{Action, Role};

use crate::error::{Error, Result};
use crate::text::Identity;

/// Allows `action` to `role` if the SOP §5 matrix does, else [`Error::NotAuthorized`].
///
/// ```
/// use leo_gates::{Action, Error, Role, authorize};
///
/// assert!(authorize(Role::Plan, Action::IssueVerdict).is_ok());
/// assert!(matches!(
///     authorize(Role::Codex, Action::CreatePr),
///     Err(Error::NotAuthorized { role: Role::Codex, action: Action::CreatePr })
/// ));
/// ```
pub fn authorize(role: Role, action: Action) -> Result<()> {
    if leo_store::allowed(role, action) {
        Ok(())
    } else {
        Err(Error::NotAuthorized { role, action })
    }
}

/// Someone acting: a role and the signing identity it acts through.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Actor {
    /// The SOP role.
    pub role: Role,
    /// The key fingerprint or signer subject, as established by signature verification.
    pub identity: Identity,
}

impl Actor {
    /// An actor.
    pub fn new(role: Role, identity: Identity) -> Self {
        Actor { role, identity }
    }
}

/// The identities seen in one change, each bound to the first role it acted as.
///
/// Every role acts through its own identity (issue 7, SOP §1): the builder, enforcer,
/// supervisor, LEAD and the merge system must all be different keys. One role may use several
/// identities (key rotation), but an identity never changes role.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Separation {
    bound: BTreeMap<Identity, Role>,
}

impl Separation {
    /// Refuses `actor` if its identity already acted as another role. Binds nothing.
    pub fn check(&self, actor: &Actor) -> Result<()> {
        match self.bound.get(&actor.identity) {
            Some(&bound_to) if bound_to != actor.role => Err(Error::IdentityReused {
                identity: actor.identity.as_str().to_owned(),
                bound_to,
                used_as: actor.role,
            }),
            _ => Ok(()),
        }
    }

    /// Binds `actor`'s identity to its role (after [`Separation::check`] passed).
    pub fn bind(&mut self, actor: &Actor) {
        self.bound
            .entry(actor.identity.clone())
            .or_insert(actor.role);
    }

    /// The role an identity is bound to, if it acted.
    pub fn role_of(&self, identity: &Identity) -> Option<Role> {
        self.bound.get(identity).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, id: &str) -> Actor {
        Actor::new(role, Identity::new(id).unwrap())
    }

    #[test]
    fn identity_keeps_its_first_role() {
        let mut s = Separation::default();
        let builder = actor(Role::Codex, "key-a");
        s.check(&builder).unwrap();
        s.bind(&builder);
        s.check(&builder).unwrap();
        let err = s.check(&actor(Role::ClaudeExec, "key-a")).unwrap_err();
        assert!(matches!(
            err,
            Error::IdentityReused {
                bound_to: Role::Codex,
                used_as: Role::ClaudeExec,
                ..
            }
        ));
        s.check(&actor(Role::ClaudeExec, "key-b")).unwrap();
        assert_eq!(s.role_of(&builder.identity), Some(Role::Codex));
    }
}
