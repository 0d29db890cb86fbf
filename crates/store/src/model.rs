//! What the store holds.

use serde_json::Value;

/// A consumer to create.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewConsumer {
    /// Unique, human-chosen name.
    pub name: String,
    /// Plan (for limits and quotas).
    pub plan: Option<String>,
    /// Roles.
    pub roles: Vec<String>,
    /// Scopes.
    pub scopes: Vec<String>,
}

/// A consumer of the API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Consumer {
    /// Stable id (`c_…`).
    pub id: String,
    /// Unique name.
    pub name: String,
    /// Plan.
    pub plan: Option<String>,
    /// Roles.
    pub roles: Vec<String>,
    /// Scopes.
    pub scopes: Vec<String>,
    /// `active` or `disabled`.
    pub status: String,
    /// Creation time.
    pub created_at: i64,
}

/// An API key as stored: everything but the key itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// Public id, part of the key (`pcs_<id>_…`), safe to show and log.
    pub id: String,
    /// Owner.
    pub consumer_id: String,
    /// HMAC-SHA-256 of the key under the server pepper.
    pub hash: Vec<u8>,
    /// Scopes granted to this key (a subset of the consumer's).
    pub scopes: Vec<String>,
    /// Client networks allowed to use it (empty: any).
    pub allow_ips: Vec<String>,
    /// Referrer origins allowed (empty: any).
    pub allow_referrers: Vec<String>,
    /// Route ids it may call (empty: any).
    pub routes: Vec<String>,
    /// Creation time.
    pub created_at: i64,
    /// End of validity, if any.
    pub expires_at: Option<i64>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<i64>,
    /// Last successful use.
    pub last_used_at: Option<i64>,
    /// The key that replaced it (rotation).
    pub replaced_by: Option<String>,
    /// What the credential is: a bearer API key or an HMAC signing key.
    pub kind: KeyKind,
    /// For HMAC signing keys: the secret, sealed (AES-256-GCM under the master key, bound to
    /// `hmac:<id>`), because the gateway must recompute signatures with it. `None` for API
    /// keys, which are only ever verified against `hash`.
    pub sealed_secret: Option<Vec<u8>>,
}

/// The kind of a credential in the key table. Both kinds share ids, consumers, scopes, expiry,
/// revocation and history, so `portcullis keys` manages both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KeyKind {
    /// A bearer key (`pcs_<id>_<secret>`), verified by its peppered hash.
    #[default]
    ApiKey,
    /// A request-signing key: id plus a secret that signs requests (docs/request-signing.md).
    Hmac,
}

impl KeyKind {
    /// The stored and displayed name: `api_key` or `hmac`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ApiKey => "api_key",
            Self::Hmac => "hmac",
        }
    }

    /// From the stored name; unknown names read as `None`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "api_key" => Some(Self::ApiKey),
            "hmac" => Some(Self::Hmac),
            _ => None,
        }
    }
}

/// Whether a key may be used at a given time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyStatus {
    /// Usable.
    Active,
    /// Past `expires_at`.
    Expired,
    /// Revoked.
    Revoked,
}

impl ApiKeyRecord {
    /// Everything about the key that may be shown (CLI, admin API): never the hash.
    pub fn public_view(&self, now: i64) -> Value {
        serde_json::json!({
            "id": self.id,
            "kind": self.kind.as_str(),
            "status": format!("{:?}", self.status(now)).to_lowercase(),
            "scopes": self.scopes,
            "allow_ips": self.allow_ips,
            "allow_referrers": self.allow_referrers,
            "routes": self.routes,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "revoked_at": self.revoked_at,
            "last_used_at": self.last_used_at,
            "replaced_by": self.replaced_by,
        })
    }

    /// The key's status at `now`.
    pub fn status(&self, now: i64) -> KeyStatus {
        if self.revoked_at.is_some_and(|t| t <= now) {
            KeyStatus::Revoked
        } else if self.expires_at.is_some_and(|t| t <= now) {
            KeyStatus::Expired
        } else {
            KeyStatus::Active
        }
    }
}

/// One change.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryEntry {
    /// Order of changes.
    pub seq: i64,
    /// When.
    pub at: i64,
    /// Who (`cli`, `admin-api`, …).
    pub actor: String,
    /// What (`consumer.create`, `api_key.create`, `api_key.revoke`, `api_key.rotate`).
    pub action: String,
    /// The consumer or key it concerns.
    pub subject: String,
    /// Details (never secrets).
    pub detail: Value,
}

/// A revocation of bearer tokens: one token by its `jti`, or every token of a subject issued
/// before a cut-off.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRevocation {
    /// The token issuer (`iss`).
    pub issuer: String,
    /// `jti` or `subject`.
    pub kind: String,
    /// The `jti` or the subject (`sub`).
    pub value: String,
    /// For subjects: tokens issued (`iat`) before this time (Unix seconds) are refused.
    pub before: Option<i64>,
    /// When the revocation was made.
    pub created_at: i64,
}

/// A built-in account (HTTP Basic, optional TOTP) as stored: the Argon2id PHC string of the
/// password, never the password; the TOTP seed sealed under the master key, never in clear.
#[derive(Clone, PartialEq, Eq)]
pub struct AccountRecord {
    /// Unique login name.
    pub username: String,
    /// The consumer the account acts as (identity, plan, default roles and scopes).
    pub consumer_id: String,
    /// Argon2id PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
    pub password_hash: String,
    /// Roles of the account (empty: the consumer's).
    pub roles: Vec<String>,
    /// Scopes of the account (empty: the consumer's).
    pub scopes: Vec<String>,
    /// `active` or `disabled`.
    pub status: String,
    /// The TOTP seed sealed under the master key (context `totp:<username>`), if enrolled.
    pub totp_sealed: Option<Vec<u8>>,
    /// Last TOTP time step accepted: codes of this step or earlier are refused (replay).
    pub totp_last_step: Option<i64>,
    /// Brute-force lockout: refused until this time even with the right password.
    pub locked_until: Option<i64>,
    /// Creation time.
    pub created_at: i64,
    /// Last change (password, status, TOTP enrolment).
    pub updated_at: i64,
}

impl std::fmt::Debug for AccountRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountRecord")
            .field("username", &self.username)
            .field("consumer_id", &self.consumer_id)
            .field("status", &self.status)
            .field("totp_enrolled", &self.totp_sealed.is_some())
            .finish_non_exhaustive()
    }
}

impl AccountRecord {
    /// Everything about the account that may be shown (CLI, admin API): never the hash or the
    /// seed.
    pub fn public_view(&self, now: i64) -> Value {
        serde_json::json!({
            "username": self.username,
            "status": self.status,
            "roles": self.roles,
            "scopes": self.scopes,
            "totp_enrolled": self.totp_sealed.is_some(),
            "locked_until": self.locked_until.filter(|t| *t > now),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }
}
