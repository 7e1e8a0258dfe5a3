// The park's live stream (SSE): readings, alarms and asset states onto the bus, with reconnects.
import { emit } from "./bus.js";
import { parkUrl, streamUrl } from "./api.js";

let source = null;
let retryTimer = null;
let retryDelay = 1000;

/** Open (or re-open) the stream of the current park; events become "live:<type>" bus events. */
export function connectLive() {
  disconnectLive();
  emit("live:status", "connecting");
  source = new EventSource(streamUrl(parkUrl("/live")));
  source.onopen = () => {
    retryDelay = 1000;
    emit("live:status", "on");
  };
  source.onmessage = (message) => dispatch(message.data);
  for (const type of ["reading", "alarm", "asset_state"]) source.addEventListener(type, (message) => dispatch(message.data));
  source.onerror = () => {
    // EventSource retries by itself on network errors; on HTTP errors (404, 401) it gives up: retry slowly.
    if (source.readyState === EventSource.CLOSED) {
      emit("live:status", "off");
      clearTimeout(retryTimer);
      retryTimer = setTimeout(connectLive, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
    } else {
      emit("live:status", "connecting");
    }
  };
}

export function disconnectLive() {
  clearTimeout(retryTimer);
  if (source) source.close();
  source = null;
}

function dispatch(data) {
  let events;
  try {
    events = JSON.parse(data);
  } catch {
    return;
  }
  for (const event of Array.isArray(events) ? events : [events]) {
    if (event && event.type) emit(`live:${event.type}`, event);
  }
}
