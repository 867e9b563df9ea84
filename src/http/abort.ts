// The Functions host gives handlers no way to learn that the client went away. The local host does know,
// and registers a signal per request here, so model calls stop (and turns are not committed) when the
// caller disconnects. Under the Azure host there is no signal and calls simply run to completion.

const signals = new WeakMap<object, AbortSignal>();

export function attachAbortSignal(request: object, signal: AbortSignal): void {
  signals.set(request, signal);
}

export function abortSignalOf(request: object): AbortSignal | undefined {
  return signals.get(request);
}
