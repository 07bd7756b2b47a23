//! Tags of server and CA certificates (ResourceType `certificate`).

use std::collections::HashMap;

use super::connection::Cached;
use rusqlite::types::Value;
use rusqlite::{Connection, params, params_from_iter};

use crate::store::filters::{Bind, carries_all, placeholders};
use crate::store::{Scope, StoreError, Tag, TagCursor, TagQuery, TaggedResource};

impl Bind for Vec<Value> {
    fn bind(&mut self, value: String) -> String {
        self.push(Value::Text(value));
        format!("?{}", self.len())
    }
}

/// The tags of every certificate of `ids`, each list in key order.
pub(super) fn of(db: &Connection, ids: &[String]) -> Result<HashMap<String, Vec<Tag>>, StoreError> {
    let mut tags: HashMap<String, Vec<Tag>> = HashMap::new();
    // SQLite binds at most 32766 variables; Describe lists fewer IDs, but a region can hold more.
    for chunk in ids.chunks(500) {
        let mut values = Vec::new();
        let sql = format!(
            "SELECT certificate_id, tag_key, tag_value FROM certificate_tags \
             WHERE certificate_id IN ({}) ORDER BY certificate_id, tag_key",
            placeholders(chunk, &mut values)
        );
        let mut statement = db.prepare(&sql)?;
        let mut rows = statement.query(params_from_iter(values))?;
        while let Some(row) = rows.next()? {
            tags.entry(row.get(0)?).or_default().push(Tag {
                key: row.get(1)?,
                value: row.get(2)?,
            });
        }
    }
    Ok(tags)
}

/// Resolves `ids` to certificates of the scope, any kind; the first unknown one is `NotFound`.
fn existing(db: &Connection, scope: &Scope, ids: &[String]) -> Result<(), StoreError> {
    let mut statement = db.prepare_cached(
        "SELECT 1 FROM certificates WHERE id = ?1 AND account_id = ?2 AND region_id = ?3",
    )?;
    for id in ids {
        if !statement.exists(params![id, scope.account_id, scope.region_id])? {
            return Err(StoreError::NotFound(id.clone()));
        }
    }
    Ok(())
}

pub(super) fn set(
    db: &Connection,
    scope: &Scope,
    ids: &[String],
    tags: &[Tag],
    max_per_resource: u64,
) -> Result<(), StoreError> {
    existing(db, scope, ids)?;
    let mut upsert = db.prepare_cached(
        "INSERT INTO certificate_tags (certificate_id, tag_key, tag_value) VALUES (?1, ?2, ?3) \
         ON CONFLICT (certificate_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value",
    )?;
    let mut count =
        db.prepare_cached("SELECT COUNT(*) FROM certificate_tags WHERE certificate_id = ?1")?;
    for id in ids {
        for tag in tags {
            upsert.execute(params![id, tag.key, tag.value])?;
        }
        let total: i64 = count.query_row(params![id], |row| row.get(0))?;
        if total as u64 > max_per_resource {
            // The writer rolls the whole job back: nothing of this call stays.
            return Err(StoreError::TagLimit {
                resource_id: id.clone(),
                count: total as u64,
            });
        }
    }
    Ok(())
}

pub(super) fn remove(
    db: &Connection,
    scope: &Scope,
    ids: &[String],
    keys: Option<&[String]>,
) -> Result<(), StoreError> {
    existing(db, scope, ids)?;
    for id in ids {
        match keys {
            None => {
                db.execute_cached(
                    "DELETE FROM certificate_tags WHERE certificate_id = ?1",
                    params![id],
                )?;
            }
            Some(keys) => {
                let mut delete = db.prepare_cached(
                    "DELETE FROM certificate_tags WHERE certificate_id = ?1 AND tag_key = ?2",
                )?;
                for key in keys {
                    delete.execute(params![id, key])?;
                }
            }
        }
    }
    Ok(())
}

pub(super) fn list(
    db: &Connection,
    scope: &Scope,
    query: &TagQuery,
) -> Result<Vec<TaggedResource>, StoreError> {
    let mut values = vec![
        Value::Text(scope.account_id.clone()),
        Value::Text(scope.region_id.clone()),
    ];
    let mut sql = String::from(
        "SELECT c.id, t.tag_key, t.tag_value, c.seq FROM certificates c \
         JOIN certificate_tags t ON t.certificate_id = c.id \
         WHERE c.account_id = ?1 AND c.region_id = ?2",
    );
    if !query.resource_ids.is_empty() {
        sql.push_str(&format!(
            " AND c.id IN ({})",
            placeholders(&query.resource_ids, &mut values)
        ));
    }
    sql.push_str(&carries_all(&query.tags, &mut values));
    if let Some(after) = &query.after {
        values.push(Value::Integer(after.seq));
        let seq = values.len();
        values.push(Value::Text(after.key.clone()));
        sql.push_str(&format!(
            " AND (c.seq > ?{seq} OR (c.seq = ?{seq} AND t.tag_key > ?{}))",
            values.len()
        ));
    }
    values.push(Value::Integer(query.limit as i64));
    sql.push_str(&format!(
        " ORDER BY c.seq, t.tag_key LIMIT ?{}",
        values.len()
    ));
    let mut statement = db.prepare(&sql)?;
    let rows = statement.query_map(params_from_iter(values), |row| {
        let key: String = row.get(1)?;
        Ok(TaggedResource {
            resource_id: row.get(0)?,
            cursor: TagCursor {
                seq: row.get(3)?,
                key: key.clone(),
            },
            tag: Tag {
                key,
                value: row.get(2)?,
            },
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}
