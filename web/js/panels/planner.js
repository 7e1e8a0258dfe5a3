// 规划工具 — upload an IFC (upload % from XHR progress, then the conversion job's phases over SSE),
// see where it landed, adjust its anchor (position, height, rotation) with a live preview, switch
// versions; and preview a georeferenced site plan / orthophoto as the park's base imagery.
import { emit } from "../bus.js";
import { api, authHeaders, optional, parkUrl, streamUrl } from "../api.js";
import { applyI18n, fmtTime, nameOf, onLang, t, tOr } from "../i18n.js";
import { store } from "../store.js";
import { h, fill, num } from "../util/dom.js";
import { toast } from "./toast.js";
import { setSiteImage } from "../map/site-image.js";

const Cesium = window.Cesium;

/** Upload a file with progress; resolves with the JSON answer (XHR: fetch has no upload progress). */
export function uploadWithProgress(url, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { body = null; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new Error(body?.error?.message || `${xhr.status} ${xhr.statusText}`));
    };
    xhr.onerror = () => reject(new Error(t("planner.networkError")));
    xhr.send(form);
  });
}

/** Follow a job's SSE stream; onProgress(job) for each change; resolves with the final job. */
export function followJob(eventsUrl, onProgress) {
  return new Promise((resolve, reject) => {
    const source = new EventSource(streamUrl(eventsUrl));
    const handle = (message) => {
      const job = JSON.parse(message.data);
      onProgress(job);
      return job;
    };
    source.addEventListener("progress", handle);
    source.addEventListener("end", (message) => {
      source.close();
      const job = handle(message);
      if (job.state === "succeeded") resolve(job);
      else reject(new Error(job.error || job.message || t("planner.failed")));
    });
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) reject(new Error(t("planner.streamLost")));
    };
  });
}

/** Mount the planner panel; `tiles` (TileLayers), `reloadTilesets()`, `flyToTileset(slug)`, `pickPoint()`. */
export function mountPlanner(section, { tiles, reloadTilesets, flyToTileset, pickPoint, viewer }) {
  let models = null;
  let editing = null; // {model, anchor: {lon, lat, height, rotation_deg}, base}
  const progress = h("div", { class: "progress", id: "upload-progress", hidden: true },
    h("div", { class: "progress-bar" }, h("i")), h("span", { class: "progress-text" }));

  const setProgress = (fraction, text) => {
    progress.hidden = false;
    progress.querySelector("i").style.width = `${Math.round(fraction * 100)}%`;
    progress.querySelector(".progress-text").textContent = text;
    progress.dataset.percent = Math.round(fraction * 100);
  };

  const loadModels = async () => {
    models = await optional(parkUrl("/models")).catch(() => null);
    render();
  };

  const buildings = () => [...store.places.values()].filter((p) => p.kind === "building").sort((a, b) => a.code.localeCompare(b.code, undefined, { numeric: true }));

  // The upload form and the site-image form are built once (re-rendering would drop a chosen file);
  // only the model list and the anchor editor are redrawn.
  const modelsBox = h("div", { class: "models-box" });
  let forms = null;
  const buildForms = () => {
    const fileInput = h("input", { type: "file", accept: ".ifc,.ifczip", id: "ifc-file", required: true });
    const nameInput = h("input", { type: "text", id: "ifc-name", "data-i18n-placeholder": "planner.modelName", placeholder: t("planner.modelName") });
    const buildingSelect = h("select", { id: "ifc-building" }, h("option", { value: "" }, t("planner.noBuilding")),
      buildings().map((b) => h("option", { value: b.code }, `${b.code} ${nameOf(b)}`)));
    const anchorInput = h("input", { type: "text", id: "ifc-anchor", placeholder: "lon,lat,height,rotation", "data-i18n-title": "planner.anchorHint", title: t("planner.anchorHint") });
    const submit = h("button", { type: "submit", class: "primary", id: "ifc-upload", "data-i18n": "planner.upload" }, t("planner.upload"));
    const label = (key, ...children) => h("label", {}, h("span", { "data-i18n": key }, t(key)), children);
    const upload = h("form", { class: "planner-form", onsubmit: (e) => { e.preventDefault(); uploadFile(fileInput, nameInput, buildingSelect, anchorInput, submit); } },
      label("planner.file", fileInput),
      label("planner.name", nameInput),
      label("planner.building", buildingSelect),
      label("planner.anchor", h("span", { class: "inline" }, anchorInput,
        h("button", { type: "button", class: "mini", "data-i18n": "planner.pick", onclick: async () => { const p = await pickPoint(); if (p) anchorInput.value = `${p.lon.toFixed(7)},${p.lat.toFixed(7)},0,0`; } }, t("planner.pick")))),
      submit, progress);
    return { upload, site: siteImageForm() };
  };

  const render = () => {
    forms ||= buildForms();
    fill(modelsBox,
      models === null ? h("div", { class: "muted" }, t("planner.modelsUnavailable"))
        : models.length ? h("ul", { class: "model-list", id: "model-list" }, models.map(modelRow)) : h("div", { class: "muted" }, t("planner.noModels")),
      editing ? anchorEditor() : null);
    if (section.childElementCount) {
      applyI18n(section); // static parts: labels only
      return;
    }
    const heading = (key) => h("h4", { "data-i18n": key }, t(key));
    fill(section,
      h("header", { class: "floating-head" }, h("span", { "data-i18n": "planner.title" }, t("planner.title")),
        h("button", { type: "button", class: "icon-btn", onclick: () => { section.hidden = true; stopEditing(true); }, title: t("common.close") }, "✕")),
      h("div", { class: "planner-body" },
        heading("planner.uploadIfc"), forms.upload,
        heading("planner.models"), modelsBox,
        heading("planner.siteImage"), forms.site));
  };

  const modelRow = (model) => {
    const slug = `bim-${model.id}`;
    const published = model.versions.find((v) => v.version === model.published_version);
    const versionSelect = h("select", { class: "version-select", dataset: { model: model.id }, onchange: (e) => publish(model, Number(e.target.value)) },
      model.versions.map((v) => h("option", { value: v.version, selected: v.version === model.published_version, disabled: v.state === "failed" || v.state === "processing" },
        `v${v.version} · ${t(`versionState.${v.state}`)} · ${fmtTime(v.created_at, true)}`)));
    return h("li", { class: "model", dataset: { model: model.id } },
      h("div", { class: "model-head" }, h("b", {}, model.name), h("small", {}, published ? `${num(published.element_count)} ${t("planner.elements")} · ${t(`georef.${published.georef?.source}`) || published.georef?.source || ""}` : t("planner.notPublished"))),
      h("div", { class: "model-actions" }, versionSelect,
        h("button", { type: "button", class: "mini", disabled: !tiles.tilesets.has(slug), onclick: () => flyToTileset(slug) }, t("common.flyTo")),
        h("button", { type: "button", class: "mini", disabled: !tiles.tilesets.has(slug), onclick: () => startEditing(model) }, t("planner.adjust"))),
      published?.warnings?.length ? h("div", { class: "warnings" }, published.warnings.slice(0, 3).map((w) => h("div", {}, typeof w === "string" ? w : JSON.stringify(w)))) : null);
  };

  const uploadFile = async (fileInput, nameInput, buildingSelect, anchorInput, submit) => {
    const file = fileInput.files[0];
    if (!file) return;
    const form = new FormData();
    form.append("file", file);
    if (nameInput.value.trim()) form.append("name", nameInput.value.trim());
    if (buildingSelect.value) form.append("building", buildingSelect.value);
    if (anchorInput.value.trim()) form.append("anchor", anchorInput.value.trim());
    submit.disabled = true;
    delete progress.dataset.state;
    try {
      setProgress(0, t("planner.uploading", { p: 0 }));
      const accepted = await uploadWithProgress(parkUrl("/models"), form, (f) => setProgress(f * 0.3, t("planner.uploading", { p: Math.round(f * 100) })));
      setProgress(0.3, t("planner.queued"));
      await followJob(accepted.events_url, (job) => {
        setProgress(0.3 + 0.7 * ((job.percent ?? 0) / 100), `${tOr(`phase.${job.phase}`, job.phase || job.state)} · ${num(job.percent ?? 0)}%`);
      });
      setProgress(1, t("planner.done"));
      await reloadTilesets();
      await loadModels();
      const slug = `bim-${accepted.model_id}`;
      await flyToTileset(slug);
      progress.dataset.state = "done"; // converted, on the map, and the camera is there
      toast(t("planner.landed"), "ok");
      emit("planner:uploaded", { slug, model: accepted.model_id });
    } catch (error) {
      progress.dataset.state = "failed";
      setProgress(1, `${t("planner.failed")}: ${error.message}`);
      toast(`${t("planner.failed")}: ${error.message}`, "error");
    } finally {
      submit.disabled = false;
    }
  };

  const publish = async (model, version) => {
    try {
      await api(parkUrl(`/models/${model.id}/versions/${version}/publish`), { method: "POST" });
      await reloadTilesets();
      await loadModels();
      toast(t("planner.switched", { v: version }), "ok");
    } catch (error) {
      toast(error.message, "error");
    }
  };

  // --- anchor: live preview by a model matrix (new ENU frame × old ENU frame⁻¹), saved as a new version
  const startEditing = (model) => {
    const tileset = tiles.tilesets.get(`bim-${model.id}`);
    const centre = Cesium.Matrix4.getTranslation(tileset.root.computedTransform, new Cesium.Cartesian3());
    const carto = Cesium.Cartographic.fromCartesian(centre);
    const base = model.anchor || { lon: Cesium.Math.toDegrees(carto.longitude), lat: Cesium.Math.toDegrees(carto.latitude), height: carto.height, rotation_deg: 0 };
    editing = { model, tileset, base, anchor: { ...base } };
    render();
  };

  const preview = () => {
    const { base, anchor, tileset } = editing;
    const frame = (a) => {
      const enu = Cesium.Transforms.eastNorthUpToFixedFrame(Cesium.Cartesian3.fromDegrees(a.lon, a.lat, a.height || 0));
      const rotation = Cesium.Matrix4.fromRotation(Cesium.Matrix3.fromRotationZ(Cesium.Math.toRadians(a.rotation_deg || 0)));
      return Cesium.Matrix4.multiply(enu, rotation, new Cesium.Matrix4());
    };
    tileset.modelMatrix = Cesium.Matrix4.multiply(frame(anchor), Cesium.Matrix4.inverse(frame(base), new Cesium.Matrix4()), new Cesium.Matrix4());
    viewer.scene.requestRender();
  };

  const stopEditing = (reset) => {
    if (editing && reset && !editing.tileset.isDestroyed()) {
      editing.tileset.modelMatrix = Cesium.Matrix4.IDENTITY;
      viewer.scene.requestRender();
    }
    editing = null;
  };

  const anchorEditor = () => {
    const field = (key, step, label) => h("label", {}, label, h("input", {
      type: "number", step, value: Number(editing.anchor[key]).toFixed(key === "lon" || key === "lat" ? 7 : 1), dataset: { anchor: key },
      oninput: (e) => { editing.anchor[key] = Number(e.target.value); preview(); },
    }));
    const nudge = (dx, dy) => {
      const mPerDegLat = 110540;
      editing.anchor.lat += dy / mPerDegLat;
      editing.anchor.lon += dx / (111320 * Math.cos((editing.anchor.lat * Math.PI) / 180));
      preview();
      render();
    };
    return h("div", { class: "anchor-editor", id: "anchor-editor" },
      h("h4", {}, t("planner.anchorOf", { name: editing.model.name })),
      h("div", { class: "anchor-grid" },
        field("lon", "0.000001", t("planner.lon")), field("lat", "0.000001", t("planner.lat")),
        field("height", "0.1", t("planner.height")), field("rotation_deg", "0.5", t("planner.rotation"))),
      h("div", { class: "nudges" },
        h("button", { type: "button", class: "mini", onclick: () => nudge(0, 1) }, "↑ 1 m"),
        h("button", { type: "button", class: "mini", onclick: () => nudge(0, -1) }, "↓ 1 m"),
        h("button", { type: "button", class: "mini", onclick: () => nudge(-1, 0) }, "← 1 m"),
        h("button", { type: "button", class: "mini", onclick: () => nudge(1, 0) }, "→ 1 m"),
        h("button", { type: "button", class: "mini", onclick: async () => { const p = await pickPoint(); if (p) { Object.assign(editing.anchor, { lon: p.lon, lat: p.lat }); preview(); render(); } } }, t("planner.pick"))),
      h("div", { class: "row-actions" },
        h("button", { type: "button", class: "primary", id: "anchor-save", onclick: saveAnchor }, t("planner.saveAnchor")),
        h("button", { type: "button", onclick: () => { stopEditing(true); render(); } }, t("common.cancel"))));
  };

  const saveAnchor = async () => {
    const { model, anchor } = editing;
    try {
      setProgress(0.05, t("planner.queued"));
      const accepted = await api(parkUrl(`/models/${model.id}/anchor`), { method: "PUT", body: anchor });
      stopEditing(false);
      render();
      await followJob(accepted.events_url, (job) => setProgress((job.percent ?? 0) / 100, `${job.phase || job.state} · ${num(job.percent ?? 0)}%`));
      await reloadTilesets();
      await loadModels();
      await flyToTileset(`bim-${model.id}`);
      toast(t("planner.anchorSaved"), "ok");
    } catch (error) {
      toast(`${t("planner.failed")}: ${error.message}`, "error");
    }
  };

  const siteImageForm = () => {
    const bbox = store.park?.bbox || [0, 0, 0, 0];
    const file = h("input", { type: "file", accept: "image/png,image/jpeg", id: "site-image-file" });
    const bounds = h("input", { type: "text", id: "site-image-bounds", value: bbox.map((v) => v.toFixed(6)).join(","), title: "W,S,E,N (WGS84)" });
    return h("form", { class: "planner-form", onsubmit: (e) => {
      e.preventDefault();
      const image = file.files[0];
      const rect = bounds.value.split(",").map(Number);
      if (!image || rect.length !== 4 || rect.some((v) => !Number.isFinite(v))) return;
      setSiteImage(viewer, URL.createObjectURL(image), rect);
      toast(t("planner.siteImageShown"), "ok");
    } },
    h("label", {}, h("span", { "data-i18n": "planner.imageFile" }, t("planner.imageFile")), file),
    h("label", {}, h("span", { "data-i18n": "planner.bounds" }, t("planner.bounds")), bounds),
    h("div", { class: "muted small", "data-i18n": "planner.siteImageHint" }, t("planner.siteImageHint")),
    h("div", { class: "row-actions" },
      h("button", { type: "submit", "data-i18n": "planner.showImage" }, t("planner.showImage")),
      h("button", { type: "button", "data-i18n": "planner.removeImage", onclick: () => setSiteImage(viewer, null) }, t("planner.removeImage"))));
  };

  render();
  onLang(render);
  return { open: () => { section.hidden = false; loadModels(); }, loadModels };
}
