// What a check can say besides passing: it failed (with the observed behaviour) or it does not
// apply (with a one-line reason). A check function returns an optional note on success.

export class Fail extends Error {}
export class Skip extends Error {}

export function fail(message) {
  throw new Fail(message);
}

export function skip(reason) {
  throw new Skip(reason);
}

export function expect(condition, message) {
  if (!condition) throw new Fail(message);
}

/** Throw one Fail listing every problem, if any. */
export function expectNone(problems, prefix = '') {
  if (problems.length) throw new Fail(prefix + problems.join('; '));
}

/** A short, deterministic description of an HTTP answer with an OAuth error body. */
export function describe(res) {
  const err = res.json?.error ? ` ${res.json.error}` : '';
  const desc = typeof res.json?.error_description === 'string' ? ` (${res.json.error_description.slice(0, 120)})` : '';
  return `HTTP ${res.status}${err}${desc}`;
}
