// The top bar: park name, clock, live-stream status, language switch, user and logout.
import { on } from "../bus.js";
import { getLang, nameOf, onLang, setLang, t } from "../i18n.js";
import { clearSession, getSession } from "../session.js";

/** Wire the static header elements (works before login too: language switch and clock). */
export function mountHeader() {
  const clock = document.getElementById("clock");
  const tick = () => {
    const now = new Date();
    const pad = (n) => String(n).padStart(2, "0");
    const day = now.toLocaleDateString(getLang() === "en" ? "en-GB" : "zh-CN", { weekday: "short" });
    clock.textContent = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())} ${day} ${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}`;
  };
  tick();
  setInterval(tick, 1000);
  for (const id of ["lang-switch", "login-lang"]) {
    const button = document.getElementById(id);
    button.addEventListener("click", () => setLang(getLang() === "en" ? "zh-CN" : "en"));
  }
  const labelButtons = () => {
    for (const id of ["lang-switch", "login-lang"]) document.getElementById(id).textContent = getLang() === "en" ? "中文" : "EN";
    tick();
  };
  labelButtons();
  onLang(labelButtons);
  document.getElementById("logout").addEventListener("click", () => {
    clearSession();
    location.reload();
  });
  const status = document.getElementById("live-status");
  on("live:status", (state) => {
    status.dataset.state = state;
    status.querySelector("span").dataset.i18n = `live.${state}`;
    status.querySelector("span").textContent = t(`live.${state}`);
  });
}

/** Show the park's name and the logged-in user. */
export function showParkAndUser(park) {
  const title = document.getElementById("park-title");
  const session = getSession();
  const draw = () => {
    title.textContent = park ? `${nameOf(park)} · ${t("app.title")}` : t("app.title");
    title.title = title.textContent; // the whole title on hover where a long (English) park name cuts it short
    document.title = `${park ? nameOf(park) : "ParkTwin"} · ${t("app.title")}`;
    document.getElementById("user-role").textContent = t(`role.${session?.role}`);
  };
  document.getElementById("user-name").textContent = session?.username || "";
  document.getElementById("user-box").hidden = !session;
  title.removeAttribute("data-i18n");
  draw();
  onLang(draw);
}
