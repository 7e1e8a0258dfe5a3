// The page's event bus: modules talk through named events instead of importing each other.
const target = new EventTarget();

/** Subscribe to an event; returns the unsubscribe function. */
export function on(type, handler) {
  const listener = (event) => handler(event.detail);
  target.addEventListener(type, listener);
  return () => target.removeEventListener(type, listener);
}

/** Publish an event with a payload. */
export function emit(type, detail) {
  target.dispatchEvent(new CustomEvent(type, { detail }));
}
