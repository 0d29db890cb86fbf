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
