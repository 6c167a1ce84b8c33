//! The Rocket application: what is mounted, how it is configured, and two ways to run it.
//!
//! - [`launch`] runs a server in the foreground (the `ocp-notebook` binary): it prints its URL on
//!   the first line of stdout and stops on Ctrl-C or SIGTERM.
//! - [`spawn`] runs one on a thread of its own with its own runtime and no signal handlers (a
//!   notebook kernel, a test), and hands back a [`RunningServer`].
//!
//! Rocket is configured in code only: no `Rocket.toml`, no `ROCKET_*` variables, so a server
//! inside someone else's process behaves the same everywhere.

mod allocator;
pub mod body;
pub mod catchers;
pub mod cors;
pub mod guards;
pub mod openapi;
pub mod routes;
pub mod work;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use rocket::config::{LogLevel, Shutdown as ShutdownConfig, Sig};
use rocket::fairing::AdHoc;
use rocket::shield::{Frame, Shield};
use rocket::{Build, Rocket};
use rocket_dyn_templates::Template;

use crate::hub::Hub;
use crate::Settings;
use guards::Policy;
use routes::health::StartedAt;

/// How often idle viewers are looked for.
const COLLECT_EVERY: Duration = Duration::from_secs(60);

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("could not listen on {address}: {reason}")]
    Bind { address: String, reason: String },
    #[error("the server failed to start: {0}")]
    Other(String),
}

/// Whether the server should stop on Ctrl-C / SIGTERM (a foreground process) or only when told
/// (a server inside a notebook kernel, where SIGINT interrupts a cell, not the server).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signals {
    Handle,
    Ignore,
}

/// The hub `--store` names: this process's memory, or a shared Redis.
pub async fn open_hub(settings: &Settings) -> Result<Hub, StartError> {
    let limits = settings.hub_limits();
    match settings.store.as_str() {
        "memory" | "" => Ok(Hub::in_memory(limits)),
        #[cfg(feature = "redis")]
        url if url.starts_with("redis://") || url.starts_with("rediss://") => {
            let store = crate::hub::redis::RedisStore::connect(
                url,
                &settings.store_prefix,
                limits,
                crate::model::config::initial_defaults(),
            )
            .await
            .map_err(|err| StartError::Other(format!("cannot use the store {url}: {err}")))?;
            Ok(Hub::new(std::sync::Arc::new(store), limits))
        }
        other => Err(StartError::Other(format!(
            "unknown store {other:?}: use `memory`{}",
            if cfg!(feature = "redis") {
                " or `redis://HOST:PORT`"
            } else {
                " (this build has no Redis support, the wheel's neither: build one with \
                 `cargo install ocp_notebook --features redis`, or `--path .` in a clone)"
            }
        ))),
    }
}

/// The application over `hub`.
fn build(settings: Settings, hub: Hub, signals: Signals) -> Rocket<Build> {
    allocator::return_big_buffers();
    let shutdown = ShutdownConfig {
        ctrlc: signals == Signals::Handle,
        signals: match signals {
            Signals::Handle => HashSet::from([Sig::Term]),
            Signals::Ignore => HashSet::new(),
        },
        grace: 1,
        mercy: 2,
        ..ShutdownConfig::default()
    };
    let config = rocket::Config {
        address: settings.host,
        port: settings.port,
        ident: rocket::config::Ident::try_new(concat!("ocp-notebook/", env!("CARGO_PKG_VERSION")))
            .expect("a valid ident"),
        log_level: LogLevel::Off,
        cli_colors: false,
        shutdown,
        ..rocket::Config::default()
    };
    let idle = settings.viewer_idle();
    let template_dir = empty_template_dir();
    let figment = rocket::figment::Figment::from(config).merge(("template_dir", &template_dir));
    rocket::custom(figment)
        .manage(Policy::new(&settings))
        .manage(routes::events::OpenStreams::new(settings.max_pages))
        .manage(body::BodyBudgets::new(&settings))
        .manage(work::ModelWork::default())
        .manage(settings)
        .manage(hub)
        .manage(StartedAt(Instant::now()))
        .mount("/", routes::all())
        .mount("/", catchers::fallback())
        .register("/", rocket::catchers![catchers::json_error])
        .attach(Template::custom(|engines| {
            // Templates added from strings get no escaping unless asked for before they are added.
            let env = &mut engines.minijinja;
            env.set_auto_escape_callback(
                rocket_dyn_templates::minijinja::default_auto_escape_callback,
            );
            for (name, source) in routes::pages::TEMPLATES {
                env.add_template(name, source)
                    .expect("the embedded templates parse");
            }
        }))
        // Gone as soon as the engine has read it, so a server that is killed (a notebook
        // kernel restarted) leaves nothing behind in the temporary directory.
        .attach(AdHoc::on_ignite(
            "remove the template directory",
            move |rocket| async move {
                let _ = std::fs::remove_dir(&template_dir);
                rocket
            },
        ))
        .attach(cors::Cors)
        // Pages must be framable by notebooks: no X-Frame-Options (the viewer page sets
        // frame-ancestors itself); the other Shield headers stay.
        .attach(Shield::default().disable::<Frame>())
        .attach(AdHoc::on_liftoff("collect idle viewers", move |rocket| {
            Box::pin(async move {
                let hub = rocket.state::<Hub>().expect("managed").clone();
                let mut shutdown = rocket.shutdown();
                rocket::tokio::spawn(async move {
                    let mut ticks = rocket::tokio::time::interval(
                        COLLECT_EVERY.min(idle.max(Duration::from_secs(1))),
                    );
                    loop {
                        rocket::tokio::select! {
                            _ = ticks.tick() => {
                                if let Err(err) = hub.collect_idle(idle).await {
                                    tracing::warn!(%err, "idle viewers could not be collected");
                                }
                            }
                            _ = &mut shutdown => break,
                        }
                    }
                });
            })
        }))
}

/// An empty private directory for the template engine, which insists on one although every
/// template here is embedded (and would let files found there override the embedded ones). It
/// is removed once the engine has read it.
fn empty_template_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "ocp-notebook-templates-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    if let Err(err) = builder.create(&dir) {
        tracing::warn!(dir = %dir.display(), %err, "could not create the template directory");
    }
    dir
}

/// The URL a server answers on, with its token as Jupyter prints it.
fn url_of(rocket: &Rocket<rocket::Orbit>) -> String {
    let config = rocket.config();
    let host = match config.address {
        ip if ip.is_unspecified() => "127.0.0.1".to_string(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    let token = rocket
        .state::<Settings>()
        .and_then(|s| s.token.clone())
        .map(|t| format!("?token={t}"))
        .unwrap_or_default();
    format!("http://{host}:{}/{token}", config.port)
}

/// Runs a server until Ctrl-C or SIGTERM, printing its URL as the first line of stdout.
pub async fn launch(mut settings: Settings) -> Result<(), StartError> {
    if settings.generate_token_if_exposed() {
        tracing::warn!("bound beyond loopback without a token: generated one (see the URL)");
    }
    let address = format!("{}:{}", settings.host, settings.port);
    let exit_with_stdin = settings.exit_with_stdin;
    let hub = open_hub(&settings).await?;
    let rocket = build(settings, hub, Signals::Handle).attach(AdHoc::on_liftoff(
        "print url",
        move |rocket| {
            Box::pin(async move {
                let url = url_of(rocket);
                println!("{url}");
                tracing::info!(%url, "ocp-notebook is serving");
                if exit_with_stdin {
                    stop_when_stdin_closes(rocket.shutdown());
                }
            })
        },
    ));
    rocket
        .launch()
        .await
        .map(|_| ())
        .map_err(|err| start_error(err, address))
}

/// Reads standard input to its end on a thread of its own, then shuts the server down.
fn stop_when_stdin_closes(shutdown: rocket::Shutdown) {
    let watch = move || {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
        tracing::info!("standard input closed: stopping");
        shutdown.notify();
    };
    if let Err(err) = thread::Builder::new()
        .name("stdin-watch".into())
        .spawn(watch)
    {
        tracing::error!(%err, "cannot watch standard input");
    }
}

fn start_error(err: rocket::Error, address: String) -> StartError {
    match err.kind() {
        rocket::error::ErrorKind::Bind(io) => StartError::Bind {
            address,
            reason: format!("{io} (is another server on this port? --port 0 picks a free one)"),
        },
        other => StartError::Other(other.to_string()),
    }
}

/// A server running on a thread of its own; dropping the handle leaves it running for the life of
/// the process (as a notebook kernel wants), [`RunningServer::stop`] ends it.
pub struct RunningServer {
    url: String,
    shutdown: rocket::Shutdown,
    thread: Option<thread::JoinHandle<()>>,
}

impl RunningServer {
    /// `http://127.0.0.1:<port>/`, plus `?token=` when the server has one.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Stops the server and waits for it to finish.
    pub fn stop(mut self) {
        self.shutdown.clone().notify();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts a server on its own thread and runtime, without signal handlers; returns once it
/// listens. Use port 0 to get a free port.
pub fn spawn(mut settings: Settings) -> Result<RunningServer, StartError> {
    settings.generate_token_if_exposed();
    let address = format!("{}:{}", settings.host, settings.port);
    let (ready, started) = mpsc::channel::<Result<(String, rocket::Shutdown), StartError>>();
    let thread = thread::Builder::new()
        .name("ocp-notebook-server".into())
        .spawn(move || {
            let runtime = match rocket::tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("ocp-notebook-worker")
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(err) => {
                    let _ = ready.send(Err(StartError::Other(err.to_string())));
                    return;
                }
            };
            runtime.block_on(async move {
                let announce = ready.clone();
                let hub = match open_hub(&settings).await {
                    Ok(hub) => hub,
                    Err(err) => {
                        let _ = ready.send(Err(err));
                        return;
                    }
                };
                let rocket = build(settings, hub, Signals::Ignore).attach(AdHoc::on_liftoff(
                    "report url",
                    move |rocket| {
                        let url = url_of(rocket);
                        let _ = announce.send(Ok((url, rocket.shutdown())));
                        Box::pin(async {})
                    },
                ));
                if let Err(err) = rocket.launch().await {
                    let _ = ready.send(Err(start_error(err, address)));
                }
            });
        })
        .map_err(|err| StartError::Other(err.to_string()))?;
    match started.recv_timeout(Duration::from_secs(30)) {
        Ok(Ok((url, shutdown))) => Ok(RunningServer {
            url,
            shutdown,
            thread: Some(thread),
        }),
        Ok(Err(err)) => Err(err),
        Err(_) => Err(StartError::Other(
            "the server did not start within 30 s".into(),
        )),
    }
}
