// Secrets out of any text a person, a file or Claude will see: logs, pod and migration log tails,
// events. Pure. A pattern here errs towards masking: a masked non-secret costs a little reading, a
// leaked token costs a rotation.

const CENSOR = '[redacted]';

/** Keys whose values are secrets, in any case and spelling (`accessToken`, `client-key-data`, `x-api-key`…). */
export const SECRET_KEY =
  /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api[-_]?key|apikey|token|bottoken|apptoken|signingsecret|secret|password|passwd|credentials|private[-_]?key|client[-_]?key[-_]?data|client[-_]?secret|.*access[-_]?token|.*refresh[-_]?token|.*id[-_]?token|.*_token|.*_secret|.*_api_key|.*_password)$/i;

const KEY_NAMES =
  'password|passwd|pwd|secret|client[-_]?secret|token|access[-_]?token|accessToken|refresh[-_]?token|api[-_]?key|client-key-data|private[-_]?key';

/** Masks tokens, keys and passwords inside free text. */
export function scrubSecrets(text: string): string {
  return (
    text
      // PEM private keys, whole blocks.
      .replace(/-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?(-----END \1PRIVATE KEY-----|$)/g, `-----BEGIN $1PRIVATE KEY----- ${CENSOR}`)
      .replace(/\bxox[abposr]-[A-Za-z0-9-]+/g, `xox?-${CENSOR}`)
      .replace(/\bxapp-[A-Za-z0-9-]+/g, `xapp-${CENSOR}`)
      .replace(/\bsk-ant-[A-Za-z0-9_-]+/g, `sk-ant-${CENSOR}`)
      .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${CENSOR}`)
      .replace(/\bsandbox-[A-Za-z0-9_-]{20,}/g, `sandbox-${CENSOR}`)
      // JWTs, service-account tokens among them: header.payload.signature, base64url.
      .replace(/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+/g, `jwt-${CENSOR}`)
      // user:password@ in URLs.
      .replace(/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+):[^\s@/]+@/gi, `$1:${CENSOR}@`)
      // key=value, key: value, "key": "value" for the keys above.
      .replace(new RegExp(`(["']?\\b(?:${KEY_NAMES})\\b["']?\\s*[:=]\\s*)("[^"]*"|'[^']*'|[^\\s,;}&]+)`, 'gi'), `$1${CENSOR}`)
  );
}

/**
 * A copy of `value` with secret keys censored and every string scrubbed (cycles and depth
 * bounded). `plain` turns special objects (an Error) into plain ones first.
 */
export function scrubDeep(value: unknown, depth = 0, seen = new WeakSet<object>(), plain: (o: object) => object = (o) => o): unknown {
  if (typeof value === 'string') return scrubSecrets(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 8 || seen.has(value)) return '[…]';
  seen.add(value);
  const v = plain(value);
  if (Array.isArray(v)) return v.map((x) => scrubDeep(x, depth + 1, seen, plain));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v))
    out[k] = SECRET_KEY.test(k) && x !== undefined && x !== null ? CENSOR : scrubDeep(x, depth + 1, seen, plain);
  return out;
}
