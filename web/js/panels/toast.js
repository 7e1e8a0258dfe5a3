// Short notices in the corner of the map (alarms, upload results, errors).
import { h } from "../util/dom.js";

/** Show a notice for a few seconds; tone: info | ok | error | alarm; onclick optional. */
export function toast(text, tone = "info", onclick = null, ms = 6000) {
  const stack = document.getElementById("toasts");
  if (!stack) return;
  const el = h("div", { class: `toast ${tone}`, role: tone === "alarm" || tone === "error" ? "alert" : "status" }, text);
  if (onclick) {
    el.classList.add("clickable");
    el.addEventListener("click", () => { onclick(); el.remove(); });
  }
  stack.prepend(el);
  while (stack.children.length > 4) stack.lastElementChild.remove();
  setTimeout(() => el.classList.add("leaving"), ms);
  setTimeout(() => el.remove(), ms + 400);
}
