// The JSON API with the merchant's bearer token (kept in sessionStorage: it ends with the browser tab).

const TOKEN_KEY = "storesync.token";

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field || null;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value.trim().replace(/^Bearer\s+/i, ""));
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** The merchant the token names (its `sub` claim), for display only: the API checks the token. */
export function tokenSubject() {
  try {
    const payload = token().split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload)).sub || "";
  } catch {
    return "";
  }
}

/** Paths are relative to the console's base URL, so the console works under a path prefix too. */
function url(path) {
  return new URL(path.replace(/^\//, ""), document.baseURI).toString();
}

/** Call the API; resolves to the JSON answer, rejects with ApiError (status 0 when the network failed). */
export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url(path), {
      method,
      headers,
      credentials: "same-origin", // the consent cookie of POST /stores and /reauthorize (set for the callback)
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, "network", "storesync cannot be reached. Check your connection and try again.");
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (response.ok) return data;
  if (response.status === 401 || response.status === 403) {
    throw new ApiError(response.status, "unauthorized", "Your sign-in is missing or has expired. Sign in again.");
  }
  const error = (data && data.error) || {};
  throw new ApiError(
    response.status,
    error.code || "error",
    error.message || (data && data.message) || `The request failed (HTTP ${response.status}).`,
    error.field,
  );
}

/** GET /local/token?merchant=ID (local runtime only): a development token, or null when not offered. */
export async function developmentToken(merchant) {
  const response = await fetch(url(`local/token?merchant=${encodeURIComponent(merchant)}`));
  if (response.status === 404) return null;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = data.error || {};
    throw new ApiError(response.status, error.code || "error", error.message || "No token", error.field);
  }
  return data.token;
}

let marketplaceCache = null;

/** GET /marketplaces once: [{region, name, marketplaces: [...]}]. */
export async function marketplaceRegions() {
  if (!marketplaceCache) {
    marketplaceCache = api("GET", "marketplaces").then((answer) => answer.regions);
    marketplaceCache.catch(() => {
      marketplaceCache = null;
    });
  }
  return marketplaceCache;
}
