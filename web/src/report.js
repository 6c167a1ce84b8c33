// What the page tells the server: the renderer's notifications (camera, visibility, picks),
// merged and debounced, screenshots, and thumbnails of what it drew.

export class Reporter {
  constructor(api, viewerId) {
    this.api = api;
    this.viewerId = viewerId;
    this.pending = {};
    this.timer = null;
  }

  notify(change) {
    Object.assign(this.pending, change);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), 250);
  }

  async flush() {
    const body = JSON.stringify(this.pending);
    this.pending = {};
    await fetch(this.api(`api/viewer/${this.viewerId}/status`), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body,
    }).catch(() => {});
  }

  async thumbnail(dataUrl) {
    await fetch(this.api(`api/viewer/${this.viewerId}/thumbnail`), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ data: dataUrl }),
    }).catch(() => {});
  }

  async screenshot(dataUrl, requestId) {
    await fetch(this.api("api/screenshot"), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ viewer_id: this.viewerId, request_id: requestId, data: dataUrl }),
    });
  }
}
