//! The bridge's HTTP client: blocking requests to the server over loopback, with the server's
//! JSON errors turned into [`Error`]s a notebook user can act on.
//!
//! Blocking on purpose: a notebook cell is synchronous code, and each evcxr cell has its own copy
//! of every crate's statics, so an async runtime owned by one cell is unusable from the next.

use std::time::Duration;

use serde_json::Value;

use super::Error;

/// One server: its base URL (no trailing slash) and the token every request carries, if any
/// (writes need it; so does the viewer listing).
#[derive(Clone)]
pub(crate) struct Client {
    base: String,
    token: Option<String>,
    agent: ureq::Agent,
}

/// Bodies from the server are read up to this size (screenshots, model answers).
const READ_LIMIT: u64 = 256 << 20;

impl Client {
    pub(crate) fn new(base: &str, token: Option<String>) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(5)))
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .into();
        Client {
            base: base.trim_end_matches('/').to_string(),
            token,
            agent,
        }
    }

    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    /// `GET path` answered with JSON.
    pub(crate) fn get_json(&self, path: &str) -> Result<Value, Error> {
        let response = self.authorized(self.agent.get(self.url(path))).call();
        json(self.answer(response)?)
    }

    /// `GET path` answered with bytes (a scene file).
    pub(crate) fn get_bytes(&self, path: &str) -> Result<Vec<u8>, Error> {
        let response = self.authorized(self.agent.get(self.url(path))).call();
        self.answer(response)
    }

    /// `POST path` with a JSON body, answered with JSON.
    pub(crate) fn post_json(&self, path: &str, body: &[u8]) -> Result<Value, Error> {
        let response = self
            .authorized(self.agent.post(self.url(path)))
            .header("Content-Type", "application/json")
            .send(body);
        json(self.answer(response)?)
    }

    /// `DELETE path`, answered with JSON.
    pub(crate) fn delete_json(&self, path: &str) -> Result<Value, Error> {
        let response = self.authorized(self.agent.delete(self.url(path))).call();
        json(self.answer(response)?)
    }

    /// `POST path` with no body, answered with bytes (a screenshot).
    pub(crate) fn post_for_bytes(&self, path: &str, timeout: Duration) -> Result<Vec<u8>, Error> {
        let response = self
            .authorized(self.agent.post(self.url(path)))
            .config()
            .timeout_global(Some(timeout))
            .build()
            .send_empty();
        self.answer(response)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn authorized<B>(&self, request: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        match &self.token {
            Some(token) => request.header("Authorization", format!("Bearer {token}")),
            None => request,
        }
    }

    /// The body of a successful answer, or the server's error as an [`Error`].
    fn answer(
        &self,
        response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Vec<u8>, Error> {
        let mut response = response.map_err(|err| Error::Unreachable {
            url: self.base.clone(),
            reason: err.to_string(),
        })?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(READ_LIMIT)
            .read_to_vec()
            .map_err(|err| Error::Unreachable {
                url: self.base.clone(),
                reason: format!("the answer was cut off: {err}"),
            })?;
        if status < 400 {
            return Ok(body);
        }
        Err(Error::from_answer(status, &body))
    }
}

fn json(body: Vec<u8>) -> Result<Value, Error> {
    serde_json::from_slice(&body).map_err(|err| Error::Protocol(err.to_string()))
}
