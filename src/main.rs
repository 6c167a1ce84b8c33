//! `ocp-notebook`: run the server, or write a sample model.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ocp_notebook::model::synthetic;
use ocp_notebook::{server, Settings};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Shows CAD models in Jupyter notebooks and browser tabs. With no command, serves.
#[derive(Parser)]
#[command(name = "ocp-notebook", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    settings: Settings,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve(Box<Settings>),
    /// Write a generated model (a smooth sphere, ocp_vscode's message form) to stdout, e.g.
    /// `ocp-notebook sample | curl --data-binary @- -H 'Content-Type: application/json' http://127.0.0.1:5000/api/model`.
    Sample {
        /// Triangles in the sphere (1250000 makes about 40 MB).
        #[arg(long, default_value_t = 20_000)]
        triangles: usize,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match cli.command {
        Some(Command::Sample { triangles }) => {
            let message = synthetic::sphere_message(triangles);
            return match std::io::stdout().lock().write_all(&message) {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("ocp-notebook: could not write the sample: {err}");
                    ExitCode::FAILURE
                }
            };
        }
        Some(Command::Serve(settings)) => *settings,
        None => cli.settings,
    };
    let filter = settings.log.parse::<Targets>().unwrap_or_else(|err| {
        eprintln!(
            "ocp-notebook: --log {:?} is not a filter ({err}); logging at info",
            settings.log
        );
        Targets::new().with_default(tracing::Level::INFO)
    });
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::stderr().is_terminal()),
        )
        .with(filter)
        .init();
    let runtime = match rocket::tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("ocp-notebook: could not start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(server::launch(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("ocp-notebook: {err}");
            ExitCode::FAILURE
        }
    }
}
