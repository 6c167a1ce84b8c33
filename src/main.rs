//! `ocp-notebook`: run the server, or write a sample model.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};
use ocp_notebook::model::synthetic;
use ocp_notebook::{scene, server, Settings};
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
    /// Write a model (any form `POST /api/model` accepts) as one HTML file that shows it with
    /// the full viewer, offline: no server, no network, e.g.
    /// `ocp-notebook export bracket.json -o bracket.html`.
    Export {
        /// The model's JSON file (`-`: standard input); with --history, several, oldest first.
        #[arg(value_name = "MODEL", required = true)]
        models: Vec<PathBuf>,
        /// Carry every MODEL as a version, to step through them offline (the history control,
        /// and the compare view of each against the one before); the scene opens on the last.
        #[arg(long)]
        history: bool,
        /// The file to write (default: the model's file name with `.html`).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// The scene's title (default: the model's file name).
        #[arg(long)]
        title: Option<String>,
    },
    /// Write the API's OpenAPI 3.1 document (what `GET /api/openapi.json` serves) to stdout,
    /// e.g. to generate a client: `ocp-notebook openapi > openapi.json`.
    Openapi,
}

fn main() -> ExitCode {
    let cli = parse();
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
        Some(Command::Export {
            models,
            history,
            output,
            title,
        }) => return export(&models, history, output, title, &cli.settings),
        Some(Command::Openapi) => {
            let document = server::openapi::document();
            return match writeln!(std::io::stdout().lock(), "{document}") {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("ocp-notebook: could not write the document: {err}");
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

/// The command line, where each server flag is taken in one place: before `export` (its limits)
/// or with no command, or after `serve`. A flag given before `serve` or `sample` would be
/// silently ignored by them, so it is refused, with where it goes.
fn parse() -> Cli {
    let mut command = Cli::command();
    let matches = command.get_matches_mut();
    if let Some((name @ ("serve" | "sample"), _)) = matches.subcommand() {
        let flag = given_on_the_command_line(&command, &matches)
            .next()
            .map(str::to_owned);
        if let Some(flag) = flag {
            let remedy = match name {
                "serve" => format!(
                    "put it after `serve` (ocp-notebook serve --{flag} ...), or leave `serve` out"
                ),
                _ => format!("`sample` takes no server flags: drop --{flag}"),
            };
            command
                .error(
                    clap::error::ErrorKind::ArgumentConflict,
                    format!("--{flag} is given before `{name}`, which would ignore it: {remedy}"),
                )
                .exit();
        }
    }
    Cli::from_arg_matches(&matches).unwrap_or_else(|err| err.exit())
}

/// The long names of the top-level flags `matches` took from the command line (not from the
/// environment or a default).
fn given_on_the_command_line<'a>(
    command: &'a clap::Command,
    matches: &'a ArgMatches,
) -> impl Iterator<Item = &'a str> {
    command.get_arguments().filter_map(|arg| {
        let id = arg.get_id().as_str();
        (matches.value_source(id) == Some(ValueSource::CommandLine))
            .then(|| arg.get_long().unwrap_or(id))
    })
}

/// `ocp-notebook export`: a model file to a one-file scene, or several as its versions.
fn export(
    models: &[PathBuf],
    history: bool,
    output: Option<PathBuf>,
    title: Option<String>,
    settings: &Settings,
) -> ExitCode {
    if models.len() > 1 && !history {
        eprintln!(
            "ocp-notebook: export takes one model; give --history to carry several as versions"
        );
        return ExitCode::FAILURE;
    }
    let mut files = Vec::with_capacity(models.len());
    for model in models {
        let stdin = model.as_os_str() == "-";
        let mut body = Vec::new();
        let read = match stdin {
            true => std::io::stdin().read_to_end(&mut body).map(|_| ()),
            false => std::fs::File::open(model)
                .and_then(|mut file| file.read_to_end(&mut body).map(|_| ())),
        };
        if let Err(err) = read {
            eprintln!("ocp-notebook: cannot read {}: {err}", model.display());
            return ExitCode::FAILURE;
        }
        let stem = match stdin {
            true => "scene".to_string(),
            false => model
                .file_stem()
                .map_or("scene".into(), |s| s.to_string_lossy().into_owned()),
        };
        files.push((stem, body));
    }
    let stem = files
        .last()
        .map_or("scene".into(), |(stem, _)| stem.clone());
    let output = output.unwrap_or_else(|| PathBuf::from(format!("{stem}.html")));
    let title = title.unwrap_or(stem);
    let limits = settings.model_limits();
    let html = match history {
        // Its errors name the file.
        true => scene::export_versions(files, &limits, &title),
        false => {
            let (_, body) = files.pop().unwrap_or_default();
            scene::export(body, &limits, &title).map_err(|err| {
                let file = models.first().map(|m| m.display().to_string());
                scene::SceneError::In(file.unwrap_or_default(), Box::new(err))
            })
        }
    };
    let html = match html {
        Ok(html) => html,
        Err(err) => {
            eprintln!("ocp-notebook: {err}");
            return ExitCode::FAILURE;
        }
    };
    match std::fs::write(&output, html.as_bytes()) {
        Ok(()) => {
            println!(
                "{} ({:.1} KB)",
                output.display(),
                html.len() as f64 / 1000.0
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("ocp-notebook: cannot write {}: {err}", output.display());
            ExitCode::FAILURE
        }
    }
}
