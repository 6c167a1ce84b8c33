//! What the hub hands out and takes in: stored models, subscriptions, screenshots, summaries,
//! and its errors.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use serde::Serialize;
use serde_json::{Map, Value};

use super::Event;
use crate::ids::{ModelId, PartHash, ViewerId};
use crate::model::parts::PartedTree;
use crate::model::upload::message_frame;
use crate::model::{StoredJson, TreeSummary};

/// A JSON object: configs, status and their deltas.
pub type JsonObject = Map<String, Value>;

/// Failures of the hub; the server maps each to a status code.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("no model {0}")]
    ModelNotFound(ModelId),
    #[error("model {0} is no longer kept (evicted to stay within --model-memory, or its viewer was deleted); push it again")]
    ModelGone(ModelId),
    #[error("no viewer {0}")]
    ViewerNotFound(ViewerId),
    #[error("viewer {0} shows no model: push one first")]
    NoModel(ViewerId),
    #[error("viewer {viewer} keeps no version {model} (it keeps its last --history versions, within --model-memory): GET /api/viewer/{viewer}/history lists them")]
    VersionNotKept { viewer: ViewerId, model: ModelId },
    #[error("viewer {0} was deleted; push a model to it to start it again")]
    ViewerDeleted(ViewerId),
    #[error("no screenshot {0}")]
    ScreenshotNotFound(String),
    #[error("no page of viewer {0} has drawn a model yet, so it has no thumbnail")]
    NoThumbnail(ViewerId),
    #[error("a model of {size} bytes does not fit the model memory budget of {budget} bytes (--model-memory)")]
    OverBudget { size: usize, budget: usize },
    #[error("the model memory budget of {budget} bytes (--model-memory) is held by models other viewers show now; delete or clear viewers, or raise --model-memory")]
    ModelMemoryFull { budget: usize },
    #[error("{what} would be {size} bytes of JSON, over this server's limit of {limit} (--settings-limit)")]
    SettingsTooLarge {
        what: &'static str,
        size: usize,
        limit: usize,
    },
    #[error("this server holds its limit of {max} viewers{} (--max-viewers); delete viewers or wait for idle ones to be collected", if *pages_only { " that only pages use (half of the limit)" } else { "" })]
    TooManyViewers { max: usize, pages_only: bool },
    #[error("no page is showing viewer {0}: open its viewer URL first")]
    NoPage(ViewerId),
    #[error("no page of viewer {0} answered the screenshot request in time")]
    ScreenshotTimeout(ViewerId),
    #[error("the state store is unavailable: {0}")]
    Unavailable(String),
    #[error("the server is busy: {0}; try again")]
    Busy(String),
    #[error("viewer {viewer} now shows model {shows}, not {asked}: animate the model on screen")]
    ModelChanged {
        viewer: ViewerId,
        shows: String,
        asked: ModelId,
    },
}

/// A model as the hub stores and serves it: the stored form of [`crate::model::Upload`], its
/// geometry kept by content (a tree form and parts shared with every other model that has them),
/// with one copy of its bytes shared by every response and event that carries it.
#[derive(Debug)]
pub struct StoredModel {
    pub id: ModelId,
    pub viewer_id: ViewerId,
    /// Its geometry's tree form: what pages fetch first.
    pub tree: PartedTree,
    /// Its parts, each once, in the order the tree first uses them.
    pub parts: Vec<(PartHash, Bytes)>,
    /// The JSON served by `GET /api/model/<id>`: ocp_vscode's message, the geometry byte for byte
    /// as posted (the tree with its parts put back, no copy).
    pub body: StoredJson,
    /// The config sent with the model (not merged with anything).
    pub config: JsonObject,
    pub summary: TreeSummary,
    pub created: SystemTime,
    /// Bytes this version added to the store when it came: what it keeps beside its parts
    /// ([`StoredModel::own_bytes`]) and the parts no stored model had (set by the store).
    pub new_bytes: usize,
    /// The body gzipped, made on demand and kept: every later page and client reuses it.
    pub gzip: OnceLock<Bytes>,
}

impl StoredModel {
    pub fn new(
        id: ModelId,
        viewer_id: ViewerId,
        (tree, parts): (PartedTree, Vec<(PartHash, Bytes)>),
        config: JsonObject,
        summary: TreeSummary,
    ) -> Self {
        let body = assembled(&id, &viewer_id, &config, &tree, &parts);
        StoredModel {
            id,
            viewer_id,
            tree,
            parts,
            body,
            config,
            summary,
            created: SystemTime::now(),
            new_bytes: 0,
            gzip: OnceLock::new(),
        }
    }

    /// The same model over other buffers holding its parts' bytes (a store's own copies).
    pub fn with_parts(mut self, parts: Vec<(PartHash, Bytes)>) -> Self {
        self.body = assembled(&self.id, &self.viewer_id, &self.config, &self.tree, &parts);
        self.parts = parts;
        self
    }

    /// The same model with another config (its body says it too).
    pub fn with_config(mut self, config: JsonObject) -> Self {
        self.body = assembled(&self.id, &self.viewer_id, &config, &self.tree, &self.parts);
        self.config = config;
        self
    }

    /// Its parts' hashes, each once.
    pub fn hashes(&self) -> Vec<PartHash> {
        self.parts.iter().map(|(hash, _)| *hash).collect()
    }

    /// Its parts' bytes by hash.
    pub fn part_map(&self) -> HashMap<PartHash, Bytes> {
        self.parts.iter().cloned().collect()
    }

    /// What it costs to keep beside its parts: its message without them (the head with its
    /// config, and its tree form), and [`PART_OVERHEAD`] for each place a part goes.
    pub fn own_bytes(&self) -> usize {
        let segments = self.body.parts();
        let frame = segments.first().map_or(0, Bytes::len) + segments.last().map_or(0, Bytes::len);
        frame + self.tree.text.len() + PART_OVERHEAD * self.tree.holes.len()
    }

    /// Its tree form's text, for reading it with its parts ([`StoredModel::part_text`]) rather
    /// than the whole geometry (a measurement reads the parts it picks).
    pub fn tree_text(&self) -> &str {
        std::str::from_utf8(&self.tree.text).unwrap_or_default()
    }

    /// The text of one of its parts.
    pub fn part_text(&self, hash: &PartHash) -> Option<&str> {
        let (_, bytes) = self.parts.iter().find(|(held, _)| held == hash)?;
        std::str::from_utf8(bytes).ok()
    }

    pub fn info(&self) -> ModelInfo {
        ModelInfo {
            id: self.id.clone(),
            viewer_id: self.viewer_id.clone(),
            created: self.created,
            summary: self.summary,
            bytes: self.body.len(),
            new_bytes: self.new_bytes,
            own_bytes: self.own_bytes(),
        }
    }

    pub fn tree_form(&self) -> ModelTree {
        ModelTree {
            info: self.info(),
            config: self.config.clone(),
            tree: self.tree.clone(),
            parts: self
                .parts
                .iter()
                .map(|(hash, bytes)| (*hash, bytes.len()))
                .collect(),
        }
    }
}

/// What keeping a part's place costs beside its placeholder's text, in either store: where it
/// goes, its entry among the store's parts, the segments of the served body. Counted, so that a
/// model of many small parts cannot hold more than `--model-memory` says.
pub const PART_OVERHEAD: usize = 128;

/// What the history of a viewer says of one of its models, without its geometry.
#[derive(Debug, Clone)]
pub struct ModelInfo {
    pub id: ModelId,
    pub viewer_id: ViewerId,
    pub created: SystemTime,
    pub summary: TreeSummary,
    /// The size of the message it is served as (`GET /api/model/<id>`).
    pub bytes: usize,
    /// Bytes it added to the store when it came (see [`StoredModel::new_bytes`]).
    pub new_bytes: usize,
    /// What it costs to keep beside its parts (see [`StoredModel::own_bytes`]).
    pub own_bytes: usize,
}

/// A stored model's tree form and what it needs of the store, without its parts' bytes: what a
/// page fetches first, and what two versions are compared by.
#[derive(Debug, Clone)]
pub struct ModelTree {
    pub info: ModelInfo,
    pub config: JsonObject,
    pub tree: PartedTree,
    /// Its parts, each once, with their sizes.
    pub parts: Vec<(PartHash, usize)>,
}

/// The message a model is served as, its geometry put together from `tree` and `parts`.
fn assembled(
    id: &ModelId,
    viewer_id: &ViewerId,
    config: &JsonObject,
    tree: &PartedTree,
    parts: &[(PartHash, Bytes)],
) -> StoredJson {
    let (open, close) = message_frame(id, viewer_id, config);
    // A stored model has every part it names.
    let by_hash: HashMap<&PartHash, &Bytes> =
        parts.iter().map(|(hash, bytes)| (hash, bytes)).collect();
    let mut segments = vec![Bytes::from(open)];
    segments
        .extend(tree.assemble(|hash| by_hash.get(hash).map(|b| (*b).clone()).unwrap_or_default()));
    segments.push(Bytes::from_static(close));
    StoredJson::new(segments)
}

/// What a subscriber receives: first `backlog` (the current state, or what it missed since its
/// `Last-Event-ID`), then `live` events as they happen. `live` ends after `closed`.
pub struct Subscription {
    pub backlog: Vec<Arc<Event>>,
    pub live: BoxStream<'static, Arc<Event>>,
}

/// What `subscribe` found.
pub enum SubscribeOutcome {
    Subscribed(Subscription),
    /// The viewer was deleted: pages should stop reconnecting.
    Deleted,
}

/// A PNG of a viewer, uploaded by one of its pages.
#[derive(Debug, Clone)]
pub struct Screenshot {
    pub id: String,
    pub viewer_id: ViewerId,
    pub png: Bytes,
    pub created: SystemTime,
}

/// A viewer's last drawn frame, small, as one of its pages posted it (for `/viewers`).
#[derive(Debug, Clone, PartialEq)]
pub struct Thumbnail {
    pub image: Bytes,
    pub kind: ImageKind,
}

/// The image formats a thumbnail may have, told by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageKind {
    Png,
    Jpeg,
    Webp,
}

impl ImageKind {
    /// The format of `image`, if it is one of these.
    pub fn sniff(image: &[u8]) -> Option<ImageKind> {
        match image {
            [0x89, b'P', b'N', b'G', ..] => Some(ImageKind::Png),
            [0xFF, 0xD8, 0xFF, ..] => Some(ImageKind::Jpeg),
            [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => {
                Some(ImageKind::Webp)
            }
            _ => None,
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            ImageKind::Png => "image/png",
            ImageKind::Jpeg => "image/jpeg",
            ImageKind::Webp => "image/webp",
        }
    }
}

/// One viewer in `GET /api/viewers`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ViewerSummary {
    pub id: ViewerId,
    /// Pages (event streams) attached right now, on every instance.
    pub subscribers: usize,
    pub model_id: Option<ModelId>,
    /// Leaf parts and triangles of the model on screen.
    pub parts: Option<usize>,
    pub triangles: Option<usize>,
    /// Whether a page posted the last drawn frame (`GET /api/viewer/<id>/thumbnail`).
    pub thumbnail: bool,
    #[schema(format = DateTime)]
    pub created: String,
    #[schema(format = DateTime)]
    pub last_active: String,
    pub last_event_id: Option<String>,
}

/// The merged status of a viewer, as its pages reported it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ViewerStatus {
    pub viewer_id: ViewerId,
    pub subscribers: usize,
    pub model_id: Option<ModelId>,
    /// The viewer's effective config (server defaults, then the viewer's own settings).
    #[schema(value_type = Object)]
    pub config: JsonObject,
    /// camera, UI toggles, tree visibility (`states`), picks: the latest value of each key.
    #[schema(value_type = Object)]
    pub status: JsonObject,
}
