//! Tags of server and CA certificates (ResourceType `certificate`).

use deadpool_postgres::{GenericClient, Transaction};

use super::{Params, column, database};
use crate::store::filters::carries_all;
use crate::store::{Scope, StoreError, Tag, TagCursor, TagQuery, TaggedResource};

/// Locks `ids` as certificates of the scope (any kind), so that two taggings of one
/// certificate take turns and its count of tags holds; the first unknown one is `NotFound`.
async fn lock_existing(
    db: &Transaction<'_>,
    scope: &Scope,
    ids: &[String],
) -> Result<(), StoreError> {
    let rows = db
        .query(
            "SELECT id FROM certificates WHERE id = ANY($1) AND account_id = $2 \
             AND region_id = $3 ORDER BY id FOR UPDATE",
            &[&ids, &scope.account_id, &scope.region_id],
        )
        .await
        .map_err(database)?;
    let found: Vec<String> = rows
        .iter()
        .map(|row| column(row, 0))
        .collect::<Result<_, _>>()?;
    match ids.iter().find(|id| !found.contains(id)) {
        Some(missing) => Err(StoreError::NotFound(missing.clone())),
        None => Ok(()),
    }
}

pub(super) async fn set(
    db: &Transaction<'_>,
    scope: &Scope,
    ids: &[String],
    tags: &[Tag],
    max_per_resource: u64,
) -> Result<(), StoreError> {
    lock_existing(db, scope, ids).await?;
    for id in ids {
        for tag in tags {
            db.execute(
                "INSERT INTO certificate_tags (certificate_id, tag_key, tag_value) \
                 VALUES ($1, $2, $3) ON CONFLICT (certificate_id, tag_key) \
                 DO UPDATE SET tag_value = EXCLUDED.tag_value",
                &[id, &tag.key, &tag.value],
            )
            .await
            .map_err(database)?;
        }
        let total = db
            .query_one(
                "SELECT COUNT(*) FROM certificate_tags WHERE certificate_id = $1",
                &[id],
            )
            .await
            .map_err(database)?;
        let total: i64 = column(&total, 0)?;
        if total as u64 > max_per_resource {
            // The transaction is dropped, not committed: nothing of this call stays.
            return Err(StoreError::TagLimit {
                resource_id: id.clone(),
                count: total as u64,
            });
        }
    }
    Ok(())
}

pub(super) async fn remove(
    db: &Transaction<'_>,
    scope: &Scope,
    ids: &[String],
    keys: Option<&[String]>,
) -> Result<(), StoreError> {
    lock_existing(db, scope, ids).await?;
    match keys {
        None => db
            .execute(
                "DELETE FROM certificate_tags WHERE certificate_id = ANY($1)",
                &[&ids],
            )
            .await
            .map_err(database)?,
        Some(keys) => db
            .execute(
                "DELETE FROM certificate_tags WHERE certificate_id = ANY($1) AND tag_key = ANY($2)",
                &[&ids, &keys],
            )
            .await
            .map_err(database)?,
    };
    Ok(())
}

pub(super) async fn list(
    db: &impl GenericClient,
    scope: &Scope,
    query: &TagQuery,
) -> Result<Vec<TaggedResource>, StoreError> {
    let mut params = Params::default();
    let mut sql = format!(
        "SELECT c.id, t.tag_key, t.tag_value, c.seq FROM certificates c \
         JOIN certificate_tags t ON t.certificate_id = c.id \
         WHERE c.account_id = {} AND c.region_id = {}",
        params.push(scope.account_id.clone()),
        params.push(scope.region_id.clone()),
    );
    if !query.resource_ids.is_empty() {
        sql.push_str(&format!(
            " AND c.id = ANY({})",
            params.push(query.resource_ids.clone())
        ));
    }
    sql.push_str(&carries_all(&query.tags, &mut params));
    if let Some(after) = &query.after {
        let seq = params.push(after.seq);
        let key = params.push(after.key.clone());
        sql.push_str(&format!(
            " AND (c.seq > {seq} OR (c.seq = {seq} AND t.tag_key > {key}))"
        ));
    }
    sql.push_str(&format!(
        " ORDER BY c.seq, t.tag_key LIMIT {}",
        params.push(query.limit as i64)
    ));
    let rows = db.query(&sql, &params.refs()).await.map_err(database)?;
    rows.iter()
        .map(|row| {
            let key: String = column(row, 1)?;
            Ok(TaggedResource {
                resource_id: column(row, 0)?,
                cursor: TagCursor {
                    seq: column(row, 3)?,
                    key: key.clone(),
                },
                tag: Tag {
                    key,
                    value: column(row, 2)?,
                },
            })
        })
        .collect()
}
