// The HTTP client: bearer token on every call, JSON errors as ApiError, 401 → back to the login form.
import { emit } from "./bus.js";
import { getToken } from "./session.js";

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }

  /** The endpoint does not exist on this server (yet): panels show "not available". */
  get unavailable() {
    return this.status === 404 || this.status === 405 || this.status === 501;
  }
}

let parkSlug = null;
export const setPark = (slug) => { parkSlug = slug; };
export const getPark = () => parkSlug;
/** A path under the current park: parkUrl("/layers") → /api/v1/parks/<slug>/layers. */
export const parkUrl = (path = "") => `/api/v1/parks/${encodeURIComponent(parkSlug)}${path}`;

/** Headers carrying the session's bearer token. */
export function authHeaders(extra = {}) {
  const token = getToken();
  return token ? { Authorization: `Bearer ${token}`, ...extra } : { ...extra };
}

/** Fetch JSON; throws ApiError with the server's message on non-2xx. */
export async function api(path, { method = "GET", body, headers = {}, signal } = {}) {
  const init = { method, headers: authHeaders(headers), signal };
  if (body !== undefined && !(body instanceof FormData)) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  } else if (body) {
    init.body = body;
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!response.ok) {
    if (response.status === 401 && !path.endsWith("/auth/login")) emit("auth:expired");
    const message = data?.error?.message || data?.detail || `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, typeof message === "string" ? message : JSON.stringify(message), data);
  }
  return data;
}

/** Like api(), but null when the endpoint is not available on this server (404/405/501). */
export async function optional(path, options) {
  try {
    return await api(path, options);
  } catch (error) {
    if (error instanceof ApiError && error.unavailable) return null;
    throw error;
  }
}

/** Every feature of a paged GeoJSON collection, following `next` links (page size 10,000). */
export async function allFeatures(path) {
  const features = [];
  let url = path + (path.includes("?") ? "&" : "?") + "limit=10000";
  while (url) {
    const page = await api(url);
    features.push(...(page.features || []));
    const next = (page.links || []).find((link) => link.rel === "next");
    url = next ? new URL(next.href, location.href).pathname + new URL(next.href, location.href).search : null;
  }
  return features;
}

/** A URL for EventSource (which cannot send headers): the token rides as `access_token`. */
export function streamUrl(path) {
  const token = getToken();
  const sep = path.includes("?") ? "&" : "?";
  return token ? `${path}${sep}access_token=${encodeURIComponent(token)}` : path;
}
