//! The management matrix: what a vault role may do across the vault, cell by cell.
//! A role's cells are a [`Capabilities`] set, so "holds no more than" is a subset test
//! and a decision is a bit test, whatever the size of the vault.

use crate::error::{Error, ErrorCode};
use std::fmt;
use std::str::FromStr;

/// One cell of the management matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Capability {
    /// The vault's overview page.
    Overview,
    /// Register, disable and remove machines.
    Machines,
    /// Create and revoke AI agent tokens.
    AiAgents,
    /// See one's own audit entries.
    AuditViewOwn,
    /// See every actor's audit entries.
    AuditViewOthers,
    /// Define alert rules.
    Alerts,
    /// Edit the vault's IP allowlist.
    IpAllowlist,
    /// See the member roster and the plan.
    MembersView,
    /// Send and revoke invites and invite links.
    MembersInvite,
    /// Suspend, unsuspend, remove members and change their roles.
    MembersManage,
    /// See the vault's roles.
    RolesView,
    /// Author custom vault roles and access roles.
    RolesManage,
    /// The plan and billing page.
    Billing,
    /// Configure integrations.
    Integrations,
    /// Restore or purge one's own trashed secrets.
    TrashOwn,
    /// Restore or purge anyone's trashed secrets.
    TrashOthers,
    /// Change the organization's settings.
    OrganizationSettings,
    /// Soft-delete (and restore) the organization.
    OrganizationDelete,
    /// Hand the organization to another member.
    OrganizationTransfer,
    /// Contact support on the organization's behalf.
    Support,
}

impl Capability {
    /// Every cell, in matrix order.
    pub const ALL: [Capability; 20] = [
        Self::Overview,
        Self::Machines,
        Self::AiAgents,
        Self::AuditViewOwn,
        Self::AuditViewOthers,
        Self::Alerts,
        Self::IpAllowlist,
        Self::MembersView,
        Self::MembersInvite,
        Self::MembersManage,
        Self::RolesView,
        Self::RolesManage,
        Self::Billing,
        Self::Integrations,
        Self::TrashOwn,
        Self::TrashOthers,
        Self::OrganizationSettings,
        Self::OrganizationDelete,
        Self::OrganizationTransfer,
        Self::Support,
    ];

    /// Stable name in role files, the API and `strongroom roles show`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Overview => "overview",
            Self::Machines => "machines",
            Self::AiAgents => "ai_agents",
            Self::AuditViewOwn => "audit.view_own",
            Self::AuditViewOthers => "audit.view_others",
            Self::Alerts => "alerts",
            Self::IpAllowlist => "ip_allowlist",
            Self::MembersView => "members.view",
            Self::MembersInvite => "members.invite",
            Self::MembersManage => "members.manage",
            Self::RolesView => "roles.view",
            Self::RolesManage => "roles.manage",
            Self::Billing => "billing",
            Self::Integrations => "integrations",
            Self::TrashOwn => "trash.own",
            Self::TrashOthers => "trash.others",
            Self::OrganizationSettings => "organization.settings",
            Self::OrganizationDelete => "organization.delete",
            Self::OrganizationTransfer => "organization.transfer",
            Self::Support => "support",
        }
    }

    /// The matrix category and the cell's label within it, for display.
    pub fn category_and_cell(self) -> (&'static str, &'static str) {
        match self {
            Self::Overview => ("Overview", "view"),
            Self::Machines => ("Machines", "manage"),
            Self::AiAgents => ("AI agents", "manage"),
            Self::AuditViewOwn => ("Audit log", "view own"),
            Self::AuditViewOthers => ("Audit log", "view others"),
            Self::Alerts => ("Alerts", "manage"),
            Self::IpAllowlist => ("IP allowlist", "manage"),
            Self::MembersView => ("Members", "view"),
            Self::MembersInvite => ("Members", "invite"),
            Self::MembersManage => ("Members", "manage"),
            Self::RolesView => ("Roles", "view"),
            Self::RolesManage => ("Roles", "manage"),
            Self::Billing => ("Billing", "manage"),
            Self::Integrations => ("Integrations", "manage"),
            Self::TrashOwn => ("Trash", "own"),
            Self::TrashOthers => ("Trash", "others"),
            Self::OrganizationSettings => ("Organization", "settings"),
            Self::OrganizationDelete => ("Organization", "delete"),
            Self::OrganizationTransfer => ("Organization", "transfer"),
            Self::Support => ("Support", "contact"),
        }
    }

    const fn bit(self) -> u32 {
        1 << (self as u8)
    }
}

impl FromStr for Capability {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidValue,
                    format!(
                        "unknown capability {s:?}; `strongroom roles show owner` lists them all"
                    ),
                )
            })
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of matrix cells.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Capabilities(u32);

impl Capabilities {
    /// No cell.
    pub const NONE: Capabilities = Capabilities(0);

    /// Every cell.
    pub const fn all() -> Self {
        Self::of(&Capability::ALL)
    }

    /// Exactly these cells.
    pub const fn of(cells: &[Capability]) -> Self {
        let mut bits = 0;
        let mut i = 0;
        while i < cells.len() {
            bits |= cells[i].bit();
            i += 1;
        }
        Self(bits)
    }

    /// Whether `cell` is in the set.
    pub fn contains(self, cell: Capability) -> bool {
        self.0 & cell.bit() != 0
    }

    /// Whether every cell of `self` is also in `other`.
    pub fn is_subset_of(self, other: Capabilities) -> bool {
        self.0 & !other.0 == 0
    }

    /// Whether `self` holds less than `other`: a subset, and not the same set.
    pub fn is_strictly_below(self, other: Capabilities) -> bool {
        self.is_subset_of(other) && self != other
    }

    /// The cells of `self` that `other` lacks.
    pub fn beyond(self, other: Capabilities) -> Vec<Capability> {
        self.iter().filter(|c| !other.contains(*c)).collect()
    }

    /// The cells, in matrix order.
    pub fn iter(self) -> impl Iterator<Item = Capability> {
        Capability::ALL
            .into_iter()
            .filter(move |c| self.contains(*c))
    }

    /// Cells only the owner can hold: a custom role may not include them, because the
    /// organization is deleted or handed on only by its one owner.
    pub const OWNER_ONLY: Capabilities = Capabilities(
        1 << Capability::OrganizationDelete as u8 | 1 << Capability::OrganizationTransfer as u8,
    );

    /// The storage form.
    pub fn bits(self) -> u32 {
        self.0
    }

    /// Reads the storage form back, refusing bits no cell uses.
    pub fn from_bits(bits: u32) -> Result<Self, Error> {
        let known = Self::all().0;
        if bits & !known == 0 {
            Ok(Self(bits))
        } else {
            Err(Error::internal("a stored role holds an unknown capability"))
        }
    }

    /// The cells of `self` that are not in `other`.
    pub const fn without(self, other: Capabilities) -> Self {
        Self(self.0 & !other.0)
    }

    /// The set with `cell` added.
    pub fn with(self, cell: Capability) -> Self {
        Self(self.0 | cell.bit())
    }

    /// Whether the set holds no cell.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Parses cell names, refusing unknown and repeated ones.
    pub fn parse_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, Error> {
        let mut bits = 0;
        for name in names {
            let cell: Capability = name.parse()?;
            if bits & cell.bit() != 0 {
                return Err(Error::new(
                    ErrorCode::InvalidValue,
                    format!("capability {name:?} is listed twice"),
                ));
            }
            bits |= cell.bit();
        }
        Ok(Self(bits))
    }
}

impl fmt::Debug for Capabilities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.iter().map(Capability::as_str))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capability_names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for cell in Capability::ALL {
            assert!(seen.insert(cell.as_str()));
            assert_eq!(cell.as_str().parse::<Capability>().ok(), Some(cell));
        }
    }

    #[test]
    fn subsets_and_strict_order_follow_the_cells() {
        let small = Capabilities::of(&[Capability::Overview]);
        let big = Capabilities::of(&[Capability::Overview, Capability::Machines]);
        assert!(small.is_subset_of(big) && small.is_strictly_below(big));
        assert!(big.is_subset_of(big) && !big.is_strictly_below(big));
        assert!(!big.is_subset_of(small));
        assert_eq!(big.beyond(small), vec![Capability::Machines]);
        let other = Capabilities::of(&[Capability::Billing]);
        assert!(!other.is_strictly_below(big) && !big.is_strictly_below(other));
    }

    #[test]
    fn the_storage_form_round_trips_and_refuses_unknown_bits() {
        let set = Capabilities::of(&[Capability::Billing, Capability::Support]);
        assert_eq!(Capabilities::from_bits(set.bits()).ok(), Some(set));
        assert!(Capabilities::from_bits(1 << 31).is_err());
    }

    #[test]
    fn unknown_and_repeated_names_are_refused() {
        assert!(Capabilities::parse_names(["overview", "nope"]).is_err());
        assert!(Capabilities::parse_names(["overview", "overview"]).is_err());
        assert_eq!(
            Capabilities::parse_names(["machines", "overview"]).ok(),
            Some(Capabilities::of(&[
                Capability::Overview,
                Capability::Machines
            ]))
        );
    }
}
