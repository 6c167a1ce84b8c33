// The API docs page (`/api/docs`): Swagger UI, embedded in the binary like the renderer, over the
// server's own document. Nothing leaves the server: no validator badge, no remote configs.

const root = document.getElementById("api-docs");

/** The token from the page's URL (`/api/docs?token=...`, as the server printed it), if any. */
function tokenFromUrl() {
  return new URLSearchParams(window.location.search).get("token");
}

const ui = window.SwaggerUIBundle({
  url: root.dataset.document,
  domNode: root,
  deepLinking: true,
  tryItOutEnabled: true,
  validatorUrl: null,
  displayRequestDuration: true,
  // The token stays in this tab only.
  persistAuthorization: false,
  onComplete() {
    const token = tokenFromUrl();
    if (token) ui.preauthorizeApiKey("token", token);
    document.body.dataset.ready = "true";
  },
});
