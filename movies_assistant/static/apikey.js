// The API key (the server's API_KEY setting) for the chat page and the dashboard: asked for when the
// server answers 401, kept for this browser tab only (sessionStorage), sent as "Authorization: Bearer".
// apiFetch(url, options) is fetch() with that header; after a 401 it asks once and retries.
(function () {
  "use strict";

  const STORAGE = "movies-assistant-api-key";

  function withKey(options) {
    const key = sessionStorage.getItem(STORAGE);
    const headers = Object.assign({}, (options && options.headers) || {});
    if (key) headers["Authorization"] = "Bearer " + key;
    return Object.assign({}, options || {}, { headers: headers });
  }

  window.apiFetch = async function (url, options) {
    let response = await fetch(url, withKey(options));
    if (response.status !== 401) return response;
    sessionStorage.removeItem(STORAGE);
    const key = (window.prompt("This Movies Assistant needs its API key:") || "").trim();
    if (!key) return response;
    sessionStorage.setItem(STORAGE, key);
    response = await fetch(url, withKey(options));
    if (response.status === 401) sessionStorage.removeItem(STORAGE);
    return response;
  };
})();
