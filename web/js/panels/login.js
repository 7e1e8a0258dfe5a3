// The login form: POST /api/v1/auth/login {username, password} → bearer token kept in sessionStorage.
import { api } from "../api.js";
import { t } from "../i18n.js";
import { saveSession } from "../session.js";

/** Show the login screen; resolves with the session once the user has logged in. */
export function login() {
  const screen = document.getElementById("login");
  const form = document.getElementById("login-form");
  const error = document.getElementById("login-error");
  const submit = document.getElementById("login-submit");
  screen.hidden = false;
  document.getElementById("login-username").focus();
  return new Promise((resolve) => {
    form.onsubmit = async (event) => {
      event.preventDefault();
      error.hidden = true;
      submit.disabled = true;
      const username = form.username.value.trim();
      try {
        const answer = await api("/api/v1/auth/login", { method: "POST", body: { username, password: form.password.value } });
        const session = { token: answer.access_token, role: answer.role, park: answer.park, username, expires: answer.expires_at };
        saveSession(session);
        form.password.value = "";
        screen.hidden = true;
        resolve(session);
      } catch (e) {
        error.textContent = e.status === 401 || e.status === 403 ? t("auth.failed") : `${t("auth.error")}: ${e.message}`;
        error.hidden = false;
      } finally {
        submit.disabled = false;
      }
    };
  });
}
