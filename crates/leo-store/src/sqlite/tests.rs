//! Migration of a version 1 file.

use super::*;
use crate::codec::{chain_next, columns, leaf_hash_of};
use crate::role::Role;
use crate::samples::{artifact_signature, handoff, merged};
use crate::schema::sqlite_v1;
use crate::store::{BuilderHandle, EnforcerHandle, Location, SystemHandle};

#[test]
fn a_version_1_file_migrates_and_keeps_verifying() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    // A file as a version 1 build left it, with one entry.
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(&sqlite_v1()).unwrap();
    conn.execute_batch("PRAGMA user_version = 1").unwrap();
    let ev = handoff("v1", 1).unwrap().into_any();
    let leaf = leaf_hash_of(0, Role::ClaudeExec, &ev).unwrap();
    let chain = chain_next(&[0; 32], &leaf);
    conn.execute(
        "INSERT INTO leo_log VALUES (0, ?1, 'handoff', 'CLAUDE_EXEC', 'CREATE_PR', ?2, ?3, ?4)",
        params![
            ev.id.as_str(),
            ev.recorded_at.unix_micros(),
            &leaf[..],
            &chain[..]
        ],
    )
    .unwrap();
    let cols = columns(&ev.record).unwrap();
    let mut values = vec![Param::Int(0)];
    values.extend(cols.iter().map(Param::from));
    conn.execute(
        &insert_sql(RecordKind::Handoff),
        rusqlite::params_from_iter(values),
    )
    .unwrap();
    drop(conn);

    let loc = Location::Sqlite(path.clone());
    assert!(matches!(
        BuilderHandle::open(&loc),
        Err(Error::SchemaTooOld {
            found: 1,
            required: 2
        })
    ));
    // A writer migrates; the old entry and the new kinds verify together.
    let mut e = EnforcerHandle::open(&loc, None).unwrap();
    e.append(artifact_signature("v2", 1).unwrap()).unwrap();
    SystemHandle::open(&loc, None)
        .unwrap()
        .append(merged("v2", 1).unwrap())
        .unwrap();
    let mut b = BuilderHandle::open(&loc).unwrap();
    assert_eq!(b.verify(&[]).unwrap().entries, 3);
    assert_eq!(b.entry(0).unwrap().event, ev);
    assert_eq!(
        user_version(&Connection::open(&path).unwrap()).unwrap(),
        SCHEMA_VERSION
    );
}
