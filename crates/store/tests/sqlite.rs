//! The SQLite store on a real database file.
#![allow(missing_docs)]

use portcullis_store::{ApiKeyRecord, KeyStatus, NewConsumer, SqliteStore, Store, StoreError};

fn key(id: &str, consumer: &str, hash: u8) -> ApiKeyRecord {
    ApiKeyRecord {
        id: id.into(),
        consumer_id: consumer.into(),
        hash: vec![hash; 32],
        scopes: vec!["read".into()],
        allow_ips: vec!["10.0.0.0/8".into()],
        allow_referrers: vec![],
        routes: vec![],
        created_at: 100,
        expires_at: None,
        revoked_at: None,
        last_used_at: None,
        replaced_by: None,
        kind: portcullis_store::KeyKind::ApiKey,
        sealed_secret: None,
    }
}

#[test]
fn consumers_keys_revocation_rotation_and_history_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data/portcullis.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        let alice = store
            .create_consumer(
                &NewConsumer {
                    name: "alice".into(),
                    plan: Some("gold".into()),
                    ..Default::default()
                },
                "cli",
                100,
            )
            .unwrap();
        assert!(matches!(
            store.create_consumer(
                &NewConsumer {
                    name: "alice".into(),
                    ..Default::default()
                },
                "cli",
                101
            ),
            Err(StoreError::Conflict(_))
        ));
        store
            .insert_api_key(&key("k1", &alice.id, 1), "cli", 100)
            .unwrap();
        store
            .insert_api_key(&key("k2", &alice.id, 2), "cli", 100)
            .unwrap();
        assert!(matches!(
            store.insert_api_key(&key("k3", "c_nobody", 3), "cli", 100),
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            store.insert_api_key(&key("k4", &alice.id, 1), "cli", 100),
            Err(StoreError::Conflict(_))
        ));
        assert!(store.revoke_api_key("k1", "cli", 200).unwrap());
        assert!(!store.revoke_api_key("k1", "cli", 201).unwrap());
        store.retire_api_key("k2", "k5", 300, "cli", 200).unwrap();
        store.touch_api_key("k2", 250).unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let alice = store.consumer_by_name("alice").unwrap().unwrap();
    assert_eq!(alice.plan.as_deref(), Some("gold"));
    assert_eq!(store.consumer(&alice.id).unwrap().unwrap().name, "alice");
    let k1 = store.api_key("k1").unwrap().unwrap();
    assert_eq!(k1.status(200), KeyStatus::Revoked);
    let k2 = store.api_key("k2").unwrap().unwrap();
    assert_eq!(k2.status(299), KeyStatus::Active);
    assert_eq!(k2.status(300), KeyStatus::Expired);
    assert_eq!(k2.replaced_by.as_deref(), Some("k5"));
    assert_eq!(k2.last_used_at, Some(250));
    assert_eq!(k2.allow_ips, vec!["10.0.0.0/8".to_string()]);
    assert_eq!(store.list_api_keys(Some(&alice.id)).unwrap().len(), 2);
    let actions: Vec<String> = store
        .history(10)
        .unwrap()
        .into_iter()
        .map(|h| h.action)
        .collect();
    assert_eq!(
        actions,
        vec![
            "api_key.rotate",
            "api_key.revoke",
            "api_key.create",
            "api_key.create",
            "consumer.create"
        ]
    );
    // No history line carries a key hash.
    for h in store.history(10).unwrap() {
        assert!(!h.detail.to_string().contains("hash"));
    }
}

#[test]
fn a_newer_schema_is_refused_not_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.db");
    drop(SqliteStore::open(&path).unwrap());
    set_user_version(&path, 99);
    assert!(matches!(
        SqliteStore::open(&path),
        Err(StoreError::TooNew { found: 99, .. })
    ));
}

/// Sets `user_version` in the file header (offset 60, big-endian) as a newer build would.
fn set_user_version(path: &std::path::Path, version: u32) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[60..64].copy_from_slice(&version.to_be_bytes());
    std::fs::write(path, bytes).unwrap();
}

fn account(username: &str, consumer: &str) -> portcullis_store::AccountRecord {
    portcullis_store::AccountRecord {
        username: username.into(),
        consumer_id: consumer.into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        roles: vec!["ops".into()],
        scopes: vec![],
        status: "active".into(),
        totp_sealed: None,
        totp_last_step: None,
        locked_until: None,
        created_at: 100,
        updated_at: 100,
    }
}

#[test]
fn accounts_lifecycle_lock_and_totp_replay_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("portcullis.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        let c = store
            .create_consumer(
                &NewConsumer {
                    name: "alice".into(),
                    ..Default::default()
                },
                "cli",
                100,
            )
            .unwrap();
        store
            .create_account(&account("alice", &c.id), "cli", 100)
            .unwrap();
        // Unique usernames, existing consumers only.
        assert!(matches!(
            store.create_account(&account("alice", &c.id), "cli", 100),
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            store.create_account(&account("bob", "c_nope"), "cli", 100),
            Err(StoreError::NotFound(_))
        ));
        store
            .set_account_password("alice", "$argon2id$new", "cli", 110)
            .unwrap();
        assert!(
            store
                .set_account_status("alice", "disabled", "cli", 120)
                .unwrap()
        );
        assert!(
            !store
                .set_account_status("alice", "disabled", "cli", 121)
                .unwrap()
        );
        assert!(matches!(
            store.set_account_status("nobody", "disabled", "cli", 121),
            Err(StoreError::NotFound(_))
        ));
        store
            .set_account_totp("alice", Some(b"sealed"), "cli", 130)
            .unwrap();
        // Each step once, and never an older one.
        assert!(store.use_totp_step("alice", 1000).unwrap());
        assert!(!store.use_totp_step("alice", 1000).unwrap());
        assert!(!store.use_totp_step("alice", 999).unwrap());
        assert!(store.use_totp_step("alice", 1001).unwrap());
        assert!(!store.use_totp_step("nobody", 5).unwrap());
        store.lock_account("alice", 5000, "gateway", 140).unwrap();
        // A shorter lock never shortens a longer one.
        store.lock_account("alice", 4000, "gateway", 141).unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let a = store.account("alice").unwrap().unwrap();
    assert_eq!(a.password_hash, "$argon2id$new");
    assert_eq!(a.status, "disabled");
    assert_eq!(a.totp_sealed.as_deref(), Some(&b"sealed"[..]));
    assert_eq!(a.totp_last_step, Some(1001));
    assert_eq!(a.locked_until, Some(5000), "the lock survives a restart");
    assert_eq!(a.updated_at, 130);
    // Neither Debug nor the public view shows the hash or the seed.
    let shown = format!("{a:?} {}", a.public_view(200));
    assert!(
        !shown.contains("argon2") && !shown.contains("sealed\""),
        "{shown}"
    );
    assert_eq!(a.public_view(200)["locked_until"], 5000);
    assert_eq!(a.public_view(6000)["locked_until"], serde_json::Value::Null);
    // Enabling lifts the lock; a new password too.
    assert!(
        store
            .set_account_status("alice", "active", "cli", 300)
            .unwrap()
    );
    assert_eq!(store.account("alice").unwrap().unwrap().locked_until, None);
    // Re-enrolling resets the replay step.
    store
        .set_account_totp("alice", Some(b"sealed2"), "cli", 310)
        .unwrap();
    assert_eq!(
        store.account("alice").unwrap().unwrap().totp_last_step,
        None
    );
    assert_eq!(store.list_accounts().unwrap().len(), 1);
    let actions: Vec<String> = store
        .history(20)
        .unwrap()
        .into_iter()
        .map(|h| h.action)
        .collect();
    for want in [
        "account.create",
        "account.passwd",
        "account.disable",
        "account.totp_enroll",
        "account.lock",
        "account.enable",
    ] {
        assert!(actions.iter().any(|a| a == want), "{want} in {actions:?}");
    }
}
