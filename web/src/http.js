// Requests to the server: an answer that is not OK becomes an error carrying the server's
// message (its JSON says what is wrong), whatever the body is (a proxy's HTML page, nothing).

/** `fetch(url, init)`, or the error the server's answer names. */
export async function fetchOk(url, init) {
  const response = await fetch(url, init);
  if (!response.ok) {
    const detail = await response.json().catch(() => ({}));
    throw new Error(detail.error?.message ?? `the server answered ${response.status} ${response.statusText}`.trim());
  }
  return response;
}

/** The JSON answer of `fetch(url, init)`, or the error the server's answer names. */
export const fetchJson = async (url, init) => (await fetchOk(url, init)).json();
