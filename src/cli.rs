//! The command line: `serve` and `account create`. Other tools depend on these exact forms.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::server::{self, ServeConfig};
use crate::store::sqlite::SqliteStore;

#[derive(Parser)]
#[command(
    name = "slbcert",
    version,
    about = "Alibaba Cloud SLB certificate API, self-hosted"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API on `/` and a health check on `/healthz`.
    Serve(ServeArgs),
    /// Manage accounts.
    Account {
        #[command(subcommand)]
        command: AccountCommand,
    },
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "SLBCERT_LISTEN", default_value = "127.0.0.1:8080")]
    listen: std::net::SocketAddr,
    #[command(flatten)]
    data: DataDir,
    /// Server certificates per account per region; 0 means unlimited.
    #[arg(long, env = "SLBCERT_QUOTA_SERVER_CERTIFICATES", default_value_t = 100)]
    quota_server_certificates: u64,
    /// CA certificates per account per region; 0 means unlimited.
    #[arg(long, env = "SLBCERT_QUOTA_CA_CERTIFICATES", default_value_t = 100)]
    quota_ca_certificates: u64,
}

#[derive(clap::Args)]
struct DataDir {
    /// Directory of the embedded database and the default credentials.
    #[arg(long, env = "SLBCERT_DATA_DIR", default_value = "./slbcert-data")]
    data_dir: PathBuf,
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
        data: DataDir,
        /// Print one JSON line {"AccountId", "AccessKeyId", "AccessKeySecret"}.
        #[arg(long)]
        json: bool,
    },
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
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
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => server::serve(ServeConfig {
                listen: args.listen,
                data_dir: args.data.data_dir,
                quota_server_certificates: args.quota_server_certificates,
                quota_ca_certificates: args.quota_ca_certificates,
            })
            .await
            .map_err(BoxError::from),
            Command::Account {
                command: AccountCommand::Create { name, data, json },
            } => create_account(&data.data_dir, &name, json).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("slbcert: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn create_account(
    data_dir: &std::path::Path,
    name: &str,
    json: bool,
) -> Result<(), BoxError> {
    server::create_data_dir(data_dir)?;
    let store = SqliteStore::open(data_dir)?;
    let credentials = crate::accounts::create(&store, name).await?;
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

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SLBCERT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
