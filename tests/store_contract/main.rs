//! What any store must do, one suite run against SQLite and against PostgreSQL alike (as
//! Garage runs each database test on every engine): scoping, filters, paging, uniqueness,
//! quotas, references, audit records in the write's own transaction, nonces, the keyring and
//! durability across reopening. Each test is a function of an [`Engine`]; `on_every_store!`
//! makes a `sqlite::` and a `postgres::` test of it. The PostgreSQL ones need
//! SLBCERT_TEST_DATABASE_URL (each gets a database of its own); under SLBCERT_STRICT (.ci/run)
//! a missing URL fails them.

use std::sync::Arc;

use slbcert::audit::RefusalQueue;
use slbcert::store::Store;

mod accounts;
mod audit;
mod certificate_orders;
mod certificates;
mod fixtures;
mod keys_and_nonces;
mod load_balancers;
mod order_states;
mod region_resources;

#[allow(dead_code)] // Only the open and drop of it are used here.
#[path = "../store_postgres/database.rs"]
mod database;

/// A store engine with a place of its own for one test's data.
pub enum Engine {
    Sqlite(tempfile::TempDir),
    Postgres(Box<database::Database>),
}

impl Engine {
    /// The store, opened afresh on the same data (a second open is a restart, or another node).
    pub async fn open(&self) -> Arc<dyn Store> {
        self.open_with(Arc::new(RefusalQueue::default())).await
    }

    pub async fn open_with(&self, refusals: Arc<RefusalQueue>) -> Arc<dyn Store> {
        match self {
            Engine::Sqlite(dir) => {
                Arc::new(slbcert::store::sqlite::SqliteStore::open(dir.path(), refusals).unwrap())
            }
            Engine::Postgres(database) => {
                let url = &database.url;
                let node = format!("test:{}", database.name);
                Arc::new(
                    slbcert::store::postgres::PostgresStore::open(url, refusals, node)
                        .await
                        .expect("open the store"),
                )
            }
        }
    }
}

macro_rules! on_every_store {
    ($($module:ident :: $test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let engine = crate::Engine::Sqlite(tempfile::tempdir().unwrap());
                    crate::$module::$test(&engine).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let name = stringify!($test);
                    let Some(database) = crate::database::Database::create(name).await else {
                        return;
                    };
                    let engine = crate::Engine::Postgres(Box::new(database));
                    crate::$module::$test(&engine).await;
                    if let crate::Engine::Postgres(database) = engine {
                        (*database).drop().await;
                    }
                }
            )*
        }
    };
}

on_every_store!(
    certificates::every_operation_is_confined_to_its_account_region_and_kind,
    certificates::describe_filters_by_ids_group_and_every_tag_in_upload_order,
    certificates::tagging_is_all_or_nothing_and_capped,
    certificates::tag_listing_pages_with_a_cursor,
    certificates::the_quota_holds_under_concurrent_uploads_per_kind,
    certificates::a_failing_write_leaves_no_trace_and_spares_its_others,
    certificates::acknowledged_writes_survive_reopening,
    accounts::account_ids_and_access_keys_are_unique,
    accounts::user_certificates_are_per_account_with_unique_names,
    load_balancers::a_certificate_named_by_a_listener_cannot_be_deleted,
    audit::successful_writes_are_audited_in_their_transaction_failed_ones_are_not,
    audit::queued_refusals_are_stored_with_the_next_write,
    audit::the_export_cursor_is_durable,
    keys_and_nonces::the_keyring_and_sealed_values_for_rewrapping,
    keys_and_nonces::many_claims_at_once_are_each_remembered_until_they_expire,
    keys_and_nonces::nonces_of_an_earlier_process_are_known_after_reopening,
    load_balancers::addresses_are_the_lowest_free_unless_one_is_asked_for,
    load_balancers::a_client_token_makes_a_creation_idempotent_before_the_quota,
    load_balancers::load_balancers_are_scoped_to_their_account_and_region,
    load_balancers::an_edit_from_a_stale_read_is_refused,
    load_balancers::a_deleted_load_balancer_frees_its_address_and_its_certificates,
    region_resources::an_acl_in_use_cannot_be_deleted_and_a_missing_one_cannot_be_bound,
    certificate_orders::orders_are_per_account_leased_to_one_holder_and_saved_by_it,
    certificate_orders::an_issue_stores_the_certificate_and_the_order_together,
    certificate_orders::acme_accounts_are_stored_once_and_rewrapped_with_order_keys,
    order_states::a_renewal_is_stored_with_its_mark_on_the_order_it_renews,
    order_states::a_cancel_takes_a_pending_order_from_its_holder,
    order_states::open_orders_are_counted_against_the_quota,
);
