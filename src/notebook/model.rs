//! What a [`Viewer`](super::Viewer) can show: anything from [`crate::model::builder`], a parsed
//! [`Message`], or three-cad-viewer / ocp_vscode JSON as a `serde_json::Value` or text.

use serde_json::Value;

use super::Error;
use crate::model::builder::{Group, Item, Mesh, Part};
use crate::model::types::Message;

/// A model ready to upload: the JSON body of `POST /api/model`.
pub struct UploadBody(pub(crate) Vec<u8>);

/// Turns a value into an upload. The server checks it in depth and answers with the JSON path of
/// the first problem, so nothing here validates twice.
pub trait IntoModel {
    fn into_model(self) -> Result<UploadBody, Error>;

    /// What [`Viewer::show`](super::Viewer::show) puts in the scene that later
    /// [`add`](super::Viewer::add) and [`remove`](super::Viewer::remove) edit: the part or
    /// group itself; nothing for JSON and messages, which `add` cannot take apart.
    fn scene_item(&self) -> Option<Item> {
        None
    }
}

impl IntoModel for &Message {
    fn into_model(self) -> Result<UploadBody, Error> {
        Ok(UploadBody(self.to_json().into_bytes()))
    }
}

impl IntoModel for Message {
    fn into_model(self) -> Result<UploadBody, Error> {
        (&self).into_model()
    }
}

impl IntoModel for &Group {
    fn into_model(self) -> Result<UploadBody, Error> {
        self.to_message().into_model()
    }

    fn scene_item(&self) -> Option<Item> {
        Some(Item::Group((*self).clone()))
    }
}

impl IntoModel for Group {
    fn into_model(self) -> Result<UploadBody, Error> {
        (&self).into_model()
    }

    fn scene_item(&self) -> Option<Item> {
        Some(Item::Group(self.clone()))
    }
}

/// A part alone is shown in a group of its own name.
impl IntoModel for &Part {
    fn into_model(self) -> Result<UploadBody, Error> {
        Group::new(self.name.clone())
            .with(self.clone())
            .into_model()
    }

    fn scene_item(&self) -> Option<Item> {
        Some(Item::Part((*self).clone()))
    }
}

impl IntoModel for Part {
    fn into_model(self) -> Result<UploadBody, Error> {
        Group::new(self.name.clone()).with(self).into_model()
    }

    fn scene_item(&self) -> Option<Item> {
        Some(Item::Part(self.clone()))
    }
}

/// A bare mesh is shown as a part called `mesh`.
impl IntoModel for Mesh {
    fn into_model(self) -> Result<UploadBody, Error> {
        self.into_message("mesh").into_model()
    }

    fn scene_item(&self) -> Option<Item> {
        Some(Item::Part(Part::new("mesh", self.clone())))
    }
}

impl IntoModel for &Value {
    fn into_model(self) -> Result<UploadBody, Error> {
        Ok(UploadBody(serde_json::to_vec(self)?))
    }
}

impl IntoModel for Value {
    fn into_model(self) -> Result<UploadBody, Error> {
        (&self).into_model()
    }
}

/// JSON text, e.g. a file written by ocp_vscode or `ocp-notebook sample`.
impl IntoModel for &str {
    fn into_model(self) -> Result<UploadBody, Error> {
        Ok(UploadBody(self.as_bytes().to_vec()))
    }
}

impl IntoModel for String {
    fn into_model(self) -> Result<UploadBody, Error> {
        Ok(UploadBody(self.into_bytes()))
    }
}
