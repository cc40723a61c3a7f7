//! Plans and their member caps, kept in this one place. The cap counts members plus
//! pending invites, so a burst of invites cannot overshoot it.

use crate::error::{Error, ErrorCode};
use std::fmt;
use std::str::FromStr;

/// The dashboard page that shows the plan; error messages point here.
pub const BILLING_PATH: &str = "/ui/billing";

/// An organization's plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Plan {
    /// Up to 3 members.
    Free,
    /// Up to 25 members.
    Team,
    /// No member cap; custom vault roles.
    Enterprise,
}

impl Plan {
    /// Every plan, cheapest first.
    pub const ALL: [Plan; 3] = [Plan::Free, Plan::Team, Plan::Enterprise];

    /// The most members (plus pending invites) the plan allows; `None` is unlimited.
    pub fn member_cap(self) -> Option<u64> {
        match self {
            Self::Free => Some(3),
            Self::Team => Some(25),
            Self::Enterprise => None,
        }
    }

    /// Storage and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::Team => "team",
            Self::Enterprise => "enterprise",
        }
    }

    /// Refuses authoring custom vault roles below the enterprise plan.
    pub fn check_custom_roles(self) -> Result<(), Error> {
        if self == Self::Enterprise {
            Ok(())
        } else {
            Err(Error::new(
                ErrorCode::PlanRequired,
                format!(
                    "custom vault roles need the enterprise plan, and this organization is on the {} plan; \
                     upgrade at {BILLING_PATH}, or give members a built-in role",
                    self.as_str()
                ),
            ))
        }
    }

    /// Refuses one more member when `used` already reaches the cap.
    pub fn check_room_for_one_more(self, used: u64) -> Result<(), Error> {
        match self.member_cap() {
            Some(cap) if used >= cap => Err(Error::new(
                ErrorCode::PlanLimitReached,
                format!(
                    "the {} plan allows {cap} members including pending invites, and {used} are used; \
                     upgrade the plan at {BILLING_PATH} or revoke a pending invite",
                    self.as_str()
                ),
            )),
            _ => Ok(()),
        }
    }
}

impl FromStr for Plan {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidValue,
                    "unknown plan: use free, team or enterprise",
                )
            })
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_enterprise_plan_authors_custom_roles_and_the_refusal_names_the_plan() {
        assert!(Plan::Enterprise.check_custom_roles().is_ok());
        for plan in [Plan::Free, Plan::Team] {
            let err = plan.check_custom_roles().err();
            assert_eq!(err.as_ref().map(Error::code), Some(ErrorCode::PlanRequired));
            let text = err.map(|e| e.to_string()).unwrap_or_default();
            assert!(
                text.contains(plan.as_str()) && text.contains("enterprise"),
                "{text}"
            );
        }
    }

    #[test]
    fn the_caps_are_three_twenty_five_and_unlimited() {
        assert_eq!(Plan::Free.member_cap(), Some(3));
        assert_eq!(Plan::Team.member_cap(), Some(25));
        assert_eq!(Plan::Enterprise.member_cap(), None);
    }

    #[test]
    fn a_full_plan_refuses_with_plan_used_cap_and_billing_page() {
        assert!(Plan::Free.check_room_for_one_more(2).is_ok());
        let e = Plan::Free
            .check_room_for_one_more(3)
            .err()
            .map(|e| e.message().to_owned());
        let message = e.unwrap_or_default();
        for part in ["free", "3 members", "3 are used", BILLING_PATH] {
            assert!(message.contains(part), "{message}");
        }
        assert!(Plan::Enterprise.check_room_for_one_more(10_000).is_ok());
    }
}
