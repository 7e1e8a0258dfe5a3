// The login session: bearer token, role and park scope, kept in sessionStorage (gone with the tab).
const KEY = "parktwin.session";

/** The current session {token, role, park, username} or null. */
export function getSession() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY)) || null;
  } catch {
    return null;
  }
}

export const getToken = () => getSession()?.token || null;

export function saveSession(session) {
  sessionStorage.setItem(KEY, JSON.stringify(session));
}

export function clearSession() {
  sessionStorage.removeItem(KEY);
}

// What each role may do besides its own name (mirrors twin/access/roles.py GRANTS).
const GRANTS = {
  viewer: ["viewer"],
  planner: ["viewer", "planner"],
  integrator: ["viewer", "integrator"],
  admin: ["viewer", "planner", "integrator", "admin"],
};

/** True when the logged-in role includes `role`. */
export function can(role) {
  const mine = getSession()?.role;
  return Boolean(mine && GRANTS[mine]?.includes(role));
}
