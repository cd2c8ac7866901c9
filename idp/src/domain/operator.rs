//! Operators of the platform and what each may do in the console (and only there: the CLI is
//! for whoever holds the server's KEK). A role is granted per person by another operator's CLI.
use crate::domain::acr;

/// What an operator may do; an operator holds one or more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Review, publish and suspend apps; watch them.
    Apps,
    /// Suspend, reinstate and revoke licences.
    Licences,
    /// Rotate signing keys.
    Keys,
    /// Read the audit log.
    Audit,
    /// Review citizens' correction requests (身份认证结果纠错): fix or reject them.
    Corrections,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Apps,
        Role::Licences,
        Role::Keys,
        Role::Audit,
        Role::Corrections,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Apps => "apps",
            Role::Licences => "licences",
            Role::Keys => "keys",
            Role::Audit => "audit",
            Role::Corrections => "corrections",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Why the console turns someone away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not logged in: go to the login page.
    NotLoggedIn,
    /// Logged in, but with a password only: the console needs a passkey (or QR) login.
    NeedsStrongLogin,
    /// Logged in strongly, but holds no operator role (a citizen), or not the one asked for.
    NotAllowed,
}

/// Whether a session may act with `needed` (None: may open the console at all), given the
/// roles its citizen holds.
pub fn check(session_acr: &str, roles: &[Role], needed: Option<Role>) -> Result<(), Refusal> {
    if roles.is_empty() {
        return Err(Refusal::NotAllowed);
    }
    if acr::level(session_acr) < acr::level(acr::ACR_STRONG) {
        return Err(Refusal::NeedsStrongLogin);
    }
    match needed {
        Some(role) if !roles.contains(&role) => Err(Refusal::NotAllowed),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_console_needs_a_role_and_a_strong_login_and_each_act_its_own_role() {
        let strong = acr::ACR_STRONG;
        assert_eq!(check(strong, &[], None), Err(Refusal::NotAllowed));
        assert_eq!(
            check(acr::ACR_PASSWORD, &[Role::Apps], None),
            Err(Refusal::NeedsStrongLogin)
        );
        assert_eq!(check(strong, &[Role::Audit], None), Ok(()));
        assert_eq!(
            check(strong, &[Role::Audit], Some(Role::Apps)),
            Err(Refusal::NotAllowed)
        );
        assert_eq!(
            check(strong, &[Role::Audit, Role::Apps], Some(Role::Apps)),
            Ok(())
        );
        assert_eq!(
            check("", &[Role::Apps], None),
            Err(Refusal::NeedsStrongLogin)
        );
    }

    #[test]
    fn roles_round_trip_and_unknown_names_are_none() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
        assert_eq!(Role::parse("Apps"), None);
    }
}
