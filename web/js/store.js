// What the page knows about the park: places, asset kinds, latest readings, alarms; live events
// keep it current and every change is announced on the bus ("store:<what>").
import { api, optional, parkUrl, ApiError } from "./api.js";
import { emit, on } from "./bus.js";
import { pick, t } from "./i18n.js";

export const store = {
  park: null, // GET /parks/{park}: slug, name, center, bbox, counts
  kinds: new Map(), // kind → {labels: {zh, en}, fiware_type}
  places: new Map(), // feature code → {code, name, name_en, kind, parent}
  readings: new Map(), // datastream id → {datastream, asset, property, value, unit, time}
  streams: new Map(), // datastream id → {key, name_zh, name_en, cumulative} (Datastream.properties)
  byAsset: new Map(), // asset code → Set of datastream ids
  alarms: new Map(), // alarm id → alarm record
  states: {}, // asset code → normal | warning | alarm | offline
  available: {}, // endpoint family → true | false (false: not on this server yet)
};

/** An asset kind's label in the current language. */
export function kindLabel(kind) {
  return pick(store.kinds.get(kind)?.labels, t(`kind.${kind}`));
}

/** The building, storey and space a feature code sits in (walking parents), each a place or null. */
export function whereIs(code) {
  const found = { building: null, storey: null, space: null, other: null };
  for (let place = store.places.get(code), guard = 0; place && guard < 8; place = store.places.get(place.parent), guard++) {
    if (place.kind in found && !found[place.kind]) found[place.kind] = place;
    else if (!found.other) found.other = place;
  }
  return found;
}

/** The building code of a feature (itself when it is a building), or null. */
export function buildingOf(code) {
  return whereIs(code).building?.code || null;
}

// --- readings -------------------------------------------------------------------------------------

/** Normalise a reading from /sta/v1.1/Latest (a Datastream with its newest result) or a live
 * "reading" event to one shape; `property` is the datastream's key (e.g. pm25) when known. */
export function normaliseReading(raw) {
  const datastream = raw.datastream ?? raw["Datastream@iot.id"] ?? raw.Datastream?.["@iot.id"] ?? raw["@iot.id"];
  const meta = store.streams.get(Number(datastream)) || {};
  return {
    datastream: Number(datastream),
    asset: raw.asset ?? raw.Thing?.code ?? null,
    asset_kind: raw.asset_kind ?? raw.Thing?.kind ?? null,
    property: meta.key ?? raw.property ?? raw.ObservedProperty?.name ?? null,
    label: meta.name_zh ? { zh: meta.name_zh, en: meta.name_en } : null,
    cumulative: Boolean(meta.cumulative),
    value: raw.value !== undefined ? raw.value : raw.result ?? null,
    unit: raw.unit ?? raw.unitOfMeasurement?.symbol ?? null,
    time: raw.time ?? raw.phenomenonTime ?? null,
  };
}

/** Store readings (normalised) and announce them; returns how many were new. */
export function putReadings(list, { announce = true } = {}) {
  let changed = 0;
  for (const raw of list) {
    const reading = normaliseReading(raw);
    if (!Number.isFinite(reading.datastream)) continue;
    const previous = store.readings.get(reading.datastream);
    if (previous && previous.time && reading.time && previous.time > reading.time) continue;
    const merged = { ...previous, ...Object.fromEntries(Object.entries(reading).filter(([, v]) => v !== null && v !== undefined)) };
    store.readings.set(reading.datastream, merged);
    if (merged.asset) {
      if (!store.byAsset.has(merged.asset)) store.byAsset.set(merged.asset, new Set());
      store.byAsset.get(merged.asset).add(merged.datastream);
    }
    changed++;
    if (announce) emit("store:reading", merged);
  }
  if (changed) emit("store:readings");
  return changed;
}

/** The latest readings of one asset. */
export function readingsOf(code) {
  return [...(store.byAsset.get(code) || [])].map((id) => store.readings.get(id)).filter(Boolean);
}

/** Latest readings (with a value) whose datastream key is one of `keys`. */
export function readingsNamed(...keys) {
  const wanted = new Set(keys.map((k) => k.toLowerCase()));
  return [...store.readings.values()].filter((r) => r.value !== null && wanted.has(String(r.property || "").toLowerCase()));
}

/** Load what each datastream measures (its key and zh/en labels from Datastream.properties). */
async function loadStreams() {
  let url = "/sta/v1.1/Datastreams?$select=id,properties&$top=10000";
  for (let guard = 0; url && guard < 50; guard++) {
    const page = await optional(url);
    if (!page) return;
    for (const ds of page.value || []) store.streams.set(Number(ds["@iot.id"]), ds.properties || {});
    const next = page["@iot.nextLink"];
    url = next ? new URL(next, location.href).pathname + new URL(next, location.href).search : null;
  }
}

/** Load the latest value of every datastream of the park (STA extension /sta/v1.1/Latest). */
export async function loadLatest() {
  try {
    await loadStreams();
    const data = await optional(`/sta/v1.1/Latest?park=${encodeURIComponent(store.park.slug)}`);
    store.available.sta = Boolean(data);
    if (!data) return;
    const list = Array.isArray(data) ? data : data.value || data.items || [];
    putReadings(list, { announce: false });
  } catch (error) {
    store.available.sta = false;
    console.warn("latest readings:", error);
  }
}

// --- asset states ---------------------------------------------------------------------------------

/** Load every asset's state (GET …/assets/state); {} when the endpoint is not there yet. */
export async function loadStates() {
  try {
    const data = await optional(parkUrl("/assets/state"));
    store.available.states = Boolean(data);
    const states = {};
    if (Array.isArray(data)) for (const row of data) states[row.asset ?? row.code] = row.state;
    else if (Array.isArray(data?.assets)) for (const row of data.assets) states[row.asset] = row.state;
    else if (data?.items) for (const row of data.items) states[row.asset ?? row.code] = row.state;
    else if (data?.states) Object.assign(states, data.states);
    else if (data && typeof data === "object") Object.assign(states, data);
    store.states = states;
  } catch (error) {
    store.available.states = false;
    console.warn("asset states:", error);
  }
  return store.states;
}

// --- alarms ---------------------------------------------------------------------------------------

/** Normalise an alarm record (GET …/alarms) or a live "alarm" event to one shape. */
export function normaliseAlarm(raw) {
  return {
    ...raw,
    id: raw.id,
    severity: raw.severity || "major",
    state: raw.state || "active",
    time: raw.last_seen ?? raw.time ?? raw.first_seen ?? null,
  };
}

/** Load the open alarms (active and acknowledged); marks alarms unavailable on 404. */
export async function loadAlarms() {
  try {
    const data = await optional(parkUrl("/alarms?state=active,acknowledged&limit=1000"));
    store.available.alarms = Boolean(data);
    store.alarms.clear();
    store.canAcknowledge = Boolean(data?.can_acknowledge);
    if (data && !store.alarmVocabulary) store.alarmVocabulary = await optional("/api/v1/alarm-vocabulary").catch(() => null);
    const list = Array.isArray(data) ? data : data?.items || [];
    for (const raw of list) {
      const alarm = normaliseAlarm(raw);
      store.alarms.set(alarm.id, alarm);
    }
  } catch (error) {
    store.available.alarms = false;
    console.warn("alarms:", error);
  }
  emit("store:alarms");
}

/** Add or update an alarm from the live stream; cleared/closed alarms leave the active list. */
export function putAlarm(raw) {
  const alarm = normaliseAlarm(raw);
  if (alarm.id === undefined || alarm.id === null) return alarm;
  const previous = store.alarms.get(alarm.id);
  const merged = { ...previous, ...alarm };
  if (merged.state === "cleared") store.alarms.delete(alarm.id);
  else store.alarms.set(alarm.id, merged);
  emit("store:alarms");
  if (!previous && merged.state === "active") emit("store:alarm-raised", merged);
  return merged;
}

/** Acknowledge an alarm (integrator/admin); updates the list from the server's answer. */
export async function acknowledgeAlarm(id) {
  const answer = await api(parkUrl(`/alarms/${encodeURIComponent(id)}/acknowledge`), { method: "POST", body: {} });
  putAlarm({ ...store.alarms.get(id), ...(answer || {}), id, state: answer?.state || "acknowledged" });
  return answer;
}

/** Active (unacknowledged or acknowledged, not cleared) alarms, newest first. */
export function activeAlarms() {
  return [...store.alarms.values()].sort((a, b) => String(b.time).localeCompare(String(a.time)));
}

/** Is the error "this endpoint is not there yet"? */
export const isUnavailable = (error) => error instanceof ApiError && error.unavailable;

on("live:reading", (event) => putReadings([event]));
on("live:alarm", (event) => putAlarm(event));
on("live:asset_state", (event) => {
  store.states[event.asset] = event.state;
  emit("store:state", event);
});
