//! The command line: `serve`, `account create`, `account keys`, `certificates expiring`, `import`,
//! `keys rotate`, `keys rewrap`, `migrate`. Other tools
//! depend on these exact forms.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use zeroize::Zeroizing;

use crate::audit::AuditRecord;
use crate::crypto::master_key;
use crate::data_dir::{self, DataDir};
use crate::ids;

mod account_keys;
mod serve;

use serve::ServeArgs;

#[derive(Parser)]
#[command(
    name = "slbcert",
    version,
    about = "Alibaba Cloud SLB certificate API, self-hosted"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// How log lines are written to stderr: `text` for people, `json` (one object per line)
    /// for log shippers.
    #[arg(long, global = true, env = "SLBCERT_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API on `/` and a health check on `/healthz`.
    Serve(Box<ServeArgs>),
    /// Manage accounts.
    Account {
        #[command(subcommand)]
        command: AccountCommand,
    },
    /// Manage the keys that seal private keys and AccessKeySecrets at rest.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Look at the stored certificates.
    Certificates {
        #[command(subcommand)]
        command: CertificatesCommand,
    },
    /// Upload every certificate and key pair found in directories (certbot's `live/`, acme.sh's,
    /// or NAME.crt with NAME.key) into one account, skipping those already stored (same
    /// fingerprint). Works while a server runs on the same store. Exits 1 if any was refused.
    Import(ImportArgs),
    /// Copy a data directory's SQLite store into PostgreSQL (same IDs, sealed keys still
    /// sealed, the same audit trail). Resumable: run it again to finish an interrupted copy.
    Migrate(MigrateArgs),
}

#[derive(clap::Args)]
struct MigrateArgs {
    /// The data directory whose slbcert.db is copied (it is only read).
    #[arg(long)]
    from: PathBuf,
    /// The PostgreSQL database to copy into; its schema is made if needed.
    #[arg(long, value_parser = database_url, hide_env_values = true)]
    to: String,
    /// Rows per transaction.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    batch_size: u64,
}

#[derive(clap::Args)]
struct ImportArgs {
    /// The region to import into (cn-hangzhou, …).
    #[arg(long)]
    region: String,
    /// The account to import into; without it, the store's only account.
    #[arg(long)]
    account_id: Option<String>,
    /// Server certificates per account per region, as `serve` counts them; 0 means unlimited.
    #[arg(long, env = "SLBCERT_QUOTA_SERVER_CERTIFICATES", default_value_t = 100)]
    quota_server_certificates: u64,
    /// Print the summary as one JSON object instead of lines.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    storage: Storage,
    /// Directories to look in (and below).
    #[arg(required = true)]
    directories: Vec<PathBuf>,
}

/// Where state, secrets and the audit trail live.
#[derive(clap::Args)]
struct Storage {
    /// Directory of the embedded database, the default master key and audit log, and the
    /// first account's credentials.
    #[arg(long, env = "SLBCERT_DATA_DIR", default_value = "./slbcert-data")]
    data_dir: PathBuf,
    /// The master key (32 bytes, base64), readable by its owner only. Without it, and without
    /// SLBCERT_MASTER_KEY, DATA_DIR/master.key is used (and made on the first start).
    #[arg(long, env = "SLBCERT_MASTER_KEY_FILE")]
    master_key_file: Option<PathBuf>,
    /// The audit log (the export of the audit trail, one JSON line per record); DATA_DIR/audit.log by default.
    #[arg(long, env = "SLBCERT_AUDIT_LOG")]
    audit_log: Option<PathBuf>,
    /// Keep state in this PostgreSQL database (postgres://user@host:port/db), shared by every
    /// node given the same URL and master key; without it, SQLite in DATA_DIR.
    #[arg(long, env = "SLBCERT_DATABASE_URL", value_parser = database_url, hide_env_values = true)]
    database_url: Option<String>,
}

fn database_url(url: &str) -> Result<String, String> {
    if crate::store::postgres::is_postgres_url(url) {
        Ok(url.to_owned())
    } else {
        Err("expected a postgres:// or postgresql:// URL".into())
    }
}

impl Storage {
    fn options(&self) -> data_dir::Options {
        data_dir::Options {
            master_key_file: self.master_key_file.clone(),
            master_key: std::env::var(master_key::ENVIRONMENT_VARIABLE)
                .ok()
                .map(Zeroizing::new),
            audit_log: self.audit_log.clone(),
            database_url: self.database_url.clone().map(Zeroizing::new),
        }
    }

    async fn open(&self) -> Result<DataDir, BoxError> {
        Ok(data_dir::open(&self.data_dir, &self.options(), "cli").await?)
    }
}

#[derive(Subcommand)]
enum AccountCommand {
    /// Create an account with one AccessKey pair. Works while a server runs on the same data
    /// directory; the server accepts the new key at once.
    Create {
        /// A name to remember the account by.
        #[arg(long, default_value = "")]
        name: String,
        #[command(flatten)]
        storage: Storage,
        /// Print one JSON line {"AccountId", "AccessKeyId", "AccessKeySecret"}.
        #[arg(long)]
        json: bool,
    },
    /// List, create, disable, enable or delete an account's own AccessKeys (two at most).
    Keys(account_keys::AccountKeysArgs),
}

#[derive(Subcommand)]
enum CertificatesCommand {
    /// Server and CA certificates of every account that expire within a time (or have
    /// expired), soonest first, with the listeners and domain extensions that bind them.
    Expiring {
        /// How far ahead: 30d, 12h, 90m, 3600s.
        #[arg(long, default_value = "30d", value_parser = crate::expiry::parse_within)]
        within: i64,
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
        /// Certificates listed at most.
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        limit: u64,
        #[command(flatten)]
        storage: Storage,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Add a key-encryption key version, used for every new seal from now on, also by servers
    /// already running on this data directory.
    Rotate {
        #[command(flatten)]
        storage: Storage,
    },
    /// Re-wrap every stored data key under the newest key-encryption key, online and in
    /// batches; an interrupted run is finished by running it again.
    Rewrap {
        #[command(flatten)]
        storage: Storage,
        /// Sealed values per transaction.
        #[arg(long, default_value_t = 100)]
        batch_size: usize,
    },
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("slbcert: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("slbcert: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> Result<(), BoxError> {
    match command {
        Command::Serve(args) => args.run().await,
        Command::Import(args) => import(args).await,
        Command::Migrate(args) => {
            let copied =
                crate::migrate::sqlite_to_postgres(&args.from, &args.to, args.batch_size as usize)
                    .await?;
            println!(
                "done: {} rows copied ({} were there already); serve with --database-url and \
                 the same master key",
                copied.copied, copied.skipped
            );
            Ok(())
        }
        Command::Account {
            command:
                AccountCommand::Create {
                    name,
                    storage,
                    json,
                },
        } => create_account(&storage, &name, json).await,
        Command::Account {
            command: AccountCommand::Keys(args),
        } => account_keys::run(args).await,
        Command::Certificates {
            command:
                CertificatesCommand::Expiring {
                    within,
                    json,
                    limit,
                    storage,
                },
        } => {
            let data = storage.open().await?;
            let now_ms = crate::clock::unix_ms(crate::clock::now());
            let rows =
                crate::expiry::report(data.store.as_ref(), now_ms + within, limit as usize).await?;
            if json {
                let rows: Vec<_> = rows.iter().map(|row| row.to_json(now_ms)).collect();
                println!("{}", serde_json::Value::from(rows));
            } else {
                print!("{}", crate::expiry::table(&rows, now_ms));
            }
            Ok(())
        }
        Command::Keys {
            command: KeysCommand::Rotate { storage },
        } => {
            let data = storage.open().await?;
            let audit = AuditRecord::new(&ids::request_id(), "RotateKeyEncryptionKey", "cli");
            let version = crate::vault::rotation::rotate(&data.vault, &audit).await?;
            data.export_audit().await?;
            println!("key-encryption key version {version} is now used for new seals");
            Ok(())
        }
        Command::Keys {
            command:
                KeysCommand::Rewrap {
                    storage,
                    batch_size,
                },
        } => {
            let data = storage.open().await?;
            let audit = AuditRecord::new(&ids::request_id(), "RewrapKeys", "cli");
            let done = crate::vault::rotation::rewrap(
                data.store.as_ref(),
                &data.vault,
                batch_size,
                None,
                &audit,
                |progress| {
                    println!(
                        "rewrapped {} of {} sealed values under key-encryption key version {}",
                        progress.done, progress.total, progress.version
                    );
                },
            )
            .await?;
            data.export_audit().await?;
            println!(
                "done: every sealed value is under key-encryption key version {} ({} rewrapped)",
                done.version, done.done
            );
            Ok(())
        }
    }
}

async fn create_account(storage: &Storage, name: &str, json: bool) -> Result<(), BoxError> {
    let data = storage.open().await?;
    let audit = AuditRecord::new(&ids::request_id(), "CreateAccount", "cli");
    let credentials =
        crate::accounts::create(data.store.as_ref(), &data.vault, name, &audit).await?;
    data.export_audit().await?;
    if json {
        println!("{}", serde_json::to_string(&credentials)?);
    } else {
        println!("AccountId:       {}", credentials.account_id);
        println!("AccessKeyId:     {}", credentials.access_key_id);
        println!(
            "AccessKeySecret: {}",
            credentials.access_key_secret.expose()
        );
    }
    Ok(())
}

async fn import(args: ImportArgs) -> Result<(), BoxError> {
    let data = args.storage.open().await?;
    let options = crate::import::Options {
        region: args.region,
        account_id: args.account_id,
        server_certificates_per_region: (args.quota_server_certificates > 0)
            .then_some(args.quota_server_certificates),
    };
    let summary = crate::import::run(&data, &options, &args.directories).await;
    data.export_audit().await?;
    let summary = summary?;
    if args.json {
        println!("{}", serde_json::to_string(&summary)?);
    } else {
        print!("{}", summary.report());
    }
    match summary.refused.len() {
        0 => Ok(()),
        refused => Err(format!("{refused} refused (see above)").into()),
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SLBCERT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        // Fields at the top level, as shippers (Vector, Fluent Bit, Loki) expect them.
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}
