//! Store records to wire types. Times become RFC 3339 strings in UTC.

use strongroom_core::ids::VaultId;
use strongroom_proto as proto;
use strongroom_store::{
    InviteLinkRecord, InviteRecord, MemberRecord, NodeRecord, ReceivedInvite, SecretMeta,
    SessionRecord, TrashedSecret, UserRecord, VaultRecord, VersionMeta,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Milliseconds since the epoch as RFC 3339.
pub fn ts(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

pub fn user(u: &UserRecord) -> proto::UserInfo {
    proto::UserInfo {
        id: u.id.to_string(),
        username: u.username.to_string(),
        email: u.email.to_string(),
        personal_vault_id: u.personal_vault_id.to_string(),
        totp_enabled: u.totp_enabled,
        email_verified: u.email_verified_at.is_some(),
        created_at: ts(u.created_at),
    }
}

pub fn session(s: &SessionRecord, current: &str) -> proto::SessionInfo {
    proto::SessionInfo {
        id: s.id.to_string(),
        vault_id: s.vault_id.to_string(),
        created_at: ts(s.created_at),
        expires_at: ts(s.expires_at),
        last_seen_at: ts(s.last_seen_at),
        stepped_up_at: s.stepped_up_at.map(ts),
        ip: s.ip.clone(),
        user_agent: s.user_agent.clone(),
        current: s.id.as_str() == current,
    }
}

pub fn vault(v: &VaultRecord, current: &VaultId) -> proto::VaultInfo {
    proto::VaultInfo {
        id: v.id.to_string(),
        kind: v.kind.clone(),
        name: v.name.clone(),
        role: v.role_name.clone(),
        status: if v.deleted_at.is_some() {
            "deleted".into()
        } else {
            v.member_status.clone()
        },
        plan: v.plan.to_string(),
        deleted_at: v.deleted_at.map(ts),
        current: v.id == *current,
        created_at: ts(v.created_at),
    }
}

pub fn member(m: &MemberRecord) -> proto::MemberInfo {
    proto::MemberInfo {
        user_id: m.user_id.to_string(),
        username: m.username.to_string(),
        vault_role: m.role_name.clone(),
        access_role: m.access_role.clone(),
        status: m.status.clone(),
        joined_at: ts(m.joined_at),
    }
}

pub fn access_role(r: &strongroom_store::AccessRoleRecord) -> proto::AccessRoleInfo {
    proto::AccessRoleInfo {
        id: r.id.to_string(),
        name: r.name.to_string(),
        spec: serde_json::to_value(&r.spec).unwrap_or(serde_json::Value::Null),
        version: r.version,
        members: r.members,
        created_at: ts(r.created_at),
        updated_at: ts(r.updated_at),
    }
}

pub fn machine(m: &strongroom_store::MachineRecord) -> proto::MachineInfo {
    let expired = m
        .expires_at
        .is_some_and(|at| at <= strongroom_store::now_ms());
    proto::MachineInfo {
        id: m.id.to_string(),
        name: m.name.to_string(),
        public_key: strongroom_crypto::machine_key::MachinePublicKey::from_bytes(&m.public_key)
            .map(|k| k.to_openssh(m.name.as_str()))
            .unwrap_or_default(),
        fingerprint: m.fingerprint.clone(),
        status: if expired && m.status == "active" {
            "expired".into()
        } else {
            m.status.clone()
        },
        expires_at: m.expires_at.map(ts),
        registered_by: m.registered_by.clone(),
        created_at: ts(m.created_at),
    }
}

fn verb_names(verbs: strongroom_core::access::Verbs) -> Vec<String> {
    verbs.iter().map(|v| v.as_str().to_owned()).collect()
}

pub fn machine_attachments(
    access: &strongroom_store::MachineAccessRecord,
) -> (Vec<proto::MachineAttachment>, Vec<proto::MachineGrant>) {
    let attachments = access
        .attachments
        .iter()
        .map(|a| proto::MachineAttachment {
            project: a.attachment.project.to_string(),
            environments: a
                .attachment
                .environments
                .iter()
                .map(ToString::to_string)
                .collect(),
            verbs: verb_names(a.attachment.verbs),
            attached_by: a.by.clone(),
            created_at: ts(a.created_at),
        })
        .collect();
    let grants = access
        .grants
        .iter()
        .map(|g| proto::MachineGrant {
            path: g.grant.path.to_string(),
            verbs: verb_names(g.grant.verbs),
            granted_by: g.by.clone(),
            created_at: ts(g.created_at),
        })
        .collect();
    (attachments, grants)
}

pub fn token(t: &strongroom_store::TokenRecord) -> proto::TokenInfo {
    let now = strongroom_store::now_ms();
    proto::TokenInfo {
        id: t.id.to_string(),
        name: t.name.clone(),
        kind: t.kind.as_str().to_owned(),
        scopes: t.scopes.clone(),
        verbs: verb_names(t.verbs),
        cidrs: t.cidrs.iter().map(ToString::to_string).collect(),
        status: if t.revoked_at.is_some() {
            "revoked".into()
        } else if t.expires_at.is_some_and(|at| at <= now) {
            "expired".into()
        } else {
            "active".into()
        },
        expires_at: t.expires_at.map(ts),
        created_by: t.created_by.clone(),
        created_at: ts(t.created_at),
    }
}

pub fn policy(p: &strongroom_store::PolicyRecord) -> proto::PolicyInfo {
    proto::PolicyInfo {
        id: p.id.to_string(),
        name: p.name.clone(),
        subject_kind: p.subject_kind.clone(),
        subject: p.subject.clone(),
        project: p.project.as_ref().map(ToString::to_string),
        spec: serde_json::to_value(&p.spec).unwrap_or_default(),
        created_by: p.created_by.clone(),
        created_at: ts(p.created_at),
    }
}

pub fn invite(i: &InviteRecord) -> proto::InviteInfo {
    proto::InviteInfo {
        id: i.id.to_string(),
        email: i.email.clone(),
        vault_role: i.role_name.clone(),
        access_role: i.access_role.clone(),
        invited_by: i.inviter_username.clone(),
        created_at: ts(i.created_at),
        expires_at: ts(i.expires_at),
    }
}

pub fn received_invite(i: &ReceivedInvite) -> proto::ReceivedInviteInfo {
    proto::ReceivedInviteInfo {
        id: i.id.to_string(),
        vault_id: i.vault_id.to_string(),
        organization: i.vault_name.clone(),
        vault_role: i.role_name.clone(),
        role_summary: i.role_summary.clone(),
        invited_by: i.inviter_username.clone(),
        created_at: ts(i.created_at),
        expires_at: ts(i.expires_at),
    }
}

pub fn link(l: &InviteLinkRecord, now: i64) -> proto::InviteLinkInfo {
    let state = if l.revoked_at.is_some() {
        "revoked"
    } else if l.expires_at <= now {
        "expired"
    } else if l.max_uses.is_some_and(|max| l.uses >= max) {
        "used_up"
    } else {
        "active"
    };
    proto::InviteLinkInfo {
        id: l.id.to_string(),
        vault_role: l.role.to_string(),
        created_by: l.creator_username.clone(),
        created_at: ts(l.created_at),
        expires_at: ts(l.expires_at),
        max_uses: l.max_uses,
        uses: l.uses,
        state: state.into(),
    }
}

pub fn node(n: &NodeRecord, parent: Option<&str>) -> proto::Node {
    proto::Node {
        id: n.id.clone(),
        path: match parent {
            Some(p) => format!("{p}/{}", n.name),
            None => n.name.clone(),
        },
        name: n.name.clone(),
        created_at: ts(n.created_at),
    }
}

pub fn secret(m: &SecretMeta, env_path: &str) -> proto::SecretMetadata {
    proto::SecretMetadata {
        id: m.id.to_string(),
        path: format!("{env_path}/{}", m.name),
        name: m.name.to_string(),
        secret_type: m.secret_type.to_string(),
        note: m.note.as_str().to_owned(),
        tags: m.tags.as_slice().to_vec(),
        version: m.version,
        created_at: ts(m.created_at),
        updated_at: ts(m.updated_at),
        use_destination: m.use_declaration.as_ref().map(|d| d.destination()),
        use_header: m.use_declaration.as_ref().map(|d| d.header.clone()),
    }
}

pub fn version(v: &VersionMeta) -> proto::SecretVersionInfo {
    proto::SecretVersionInfo {
        version: v.version,
        secret_type: v.secret_type.to_string(),
        note: v.note.as_str().to_owned(),
        tags: v.tags.as_slice().to_vec(),
        created_at: ts(v.created_at),
        created_by: v.created_by.clone(),
        rolled_back_from: v.rolled_back_from,
        deleted_at: v.deletion_at.map(ts),
        destroyed_at: v.destroyed_at.map(ts),
    }
}

pub fn trashed(t: &TrashedSecret) -> proto::TrashedSecretInfo {
    proto::TrashedSecretInfo {
        id: t.id.to_string(),
        path: t.path.clone(),
        version: t.version,
        deleted_at: ts(t.deleted_at),
        deleted_by: t.deleted_by.clone(),
    }
}

/// A store page as a wire list, with the cursor encoded for `list`.
pub fn list<T, U>(
    page: strongroom_store::Page<T>,
    list: &str,
    f: impl Fn(&T) -> U,
) -> proto::List<U> {
    proto::List {
        items: page.items.iter().map(f).collect(),
        next_cursor: page
            .next_after
            .map(|after| crate::cursor::encode(list, &after)),
    }
}

/// An effect preview: the changes, and the sentences that describe them.
pub fn effect(
    changes: &[strongroom_core::effect::Change],
    holders: Vec<String>,
) -> proto::EffectPreview {
    proto::EffectPreview {
        summary: strongroom_core::effect::sentences(changes, &holders),
        holders,
        changes: changes
            .iter()
            .map(|c| proto::EffectChange {
                direction: c.direction.as_str().to_owned(),
                what: c.what.clone(),
                places: c.places.clone(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(super::ts(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::ts(1_500), "1970-01-01T00:00:01.5Z");
    }
}
