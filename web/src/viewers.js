// The /viewers page, live: the list is fetched again every two seconds (with the token the page
// was opened with, `?token=`), and times are shown relative to now. Everything from the server
// is set as text, never as HTML.

const list = document.getElementById("viewers");
const empty = document.getElementById("empty");
const summary = document.getElementById("summary");
const token = new URLSearchParams(location.search).get("token");
const api = new URL("api/viewers", document.baseURI);

function plural(count, word) {
  return `${count.toLocaleString("en")} ${word}${count === 1 ? "" : "s"}`;
}

/** "just now", "5 s ago", "3 min ago", "2 h ago", "4 days ago". */
export function ago(iso, now = Date.now()) {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 5) return "just now";
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return plural(Math.floor(seconds / 86400), "day") + " ago";
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

function card(viewer) {
  const id = viewer.id;
  const page = `viewer/${encodeURIComponent(id)}`;
  const thumb = element("a", { class: "ocp-thumb", href: page });
  if (viewer.thumbnail && viewer.model_id) {
    const src = `api/viewer/${encodeURIComponent(id)}/thumbnail?v=${encodeURIComponent(viewer.last_event_id ?? "")}`;
    thumb.append(element("img", { src, alt: `the last frame of viewer ${id}`, loading: "lazy" }));
  } else {
    thumb.append(element("span", {}, "no picture yet"));
  }
  const model = viewer.model_id
    ? `${plural(viewer.parts ?? 0, "part")} · ${(viewer.triangles ?? 0).toLocaleString("en")} triangles`
    : "no model";
  const time = element("time", { datetime: viewer.last_active }, ago(viewer.last_active));
  const actions = element("p", { class: "ocp-actions" }, element("a", { href: page }, "open"));
  if (viewer.model_id) {
    actions.append(element("a", { href: `${page}/scene.html`, download: "" }, "download scene"));
  }
  return element(
    "article",
    { class: "ocp-card", "data-viewer-id": id },
    thumb,
    element("h2", {}, element("a", { href: page }, id)),
    element("p", { class: "ocp-facts" }, model),
    element("p", { class: "ocp-facts" }, `${plural(viewer.subscribers, "page")} open · active `, time),
    actions,
  );
}

function show(viewers) {
  list.replaceChildren(...viewers.map(card));
  empty.hidden = viewers.length > 0;
  summary.textContent = `${plural(viewers.length, "viewer")}, the most recently active first; this list updates by itself.`;
}

async function refresh() {
  try {
    const response = await fetch(api, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
    if (response.ok) show((await response.json()).viewers);
  } catch {
    // the server is away for a moment: keep what is shown
  }
}

for (const time of document.querySelectorAll("time[datetime]")) time.textContent = ago(time.dateTime);
refresh();
setInterval(refresh, 2000);
