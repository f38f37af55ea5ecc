// Image references, parsed one way everywhere: `repo:tag` (the OCI tag grammar) or a pinned
// `repo@sha256:<64 hex>`. A release's version is its tag or its digest. Pure; no I/O.

/** An OCI tag (1–128 of A-Z a-z 0-9 _ . -, not starting with . or -), or a sha256 digest. */
export const VERSION_PATTERN = /^(?:[A-Za-z0-9_][A-Za-z0-9._-]{0,127}|sha256:[a-f0-9]{64})$/;

export function isDigest(version: string): boolean {
  return /^sha256:[a-f0-9]{64}$/.test(version);
}

/** The image for `version` of `repo`: `repo@sha256:…` for a digest, else `repo:tag`. */
export function imageReference(repo: string, version: string): string {
  return isDigest(version) ? `${repo}@${version}` : `${repo}:${version}`;
}

/** The version an image reference runs: its digest when pinned by one, else its tag, else `latest`. */
export function versionOf(image: string): string {
  const at = image.indexOf('@');
  if (at >= 0) return image.slice(at + 1);
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > slash ? image.slice(colon + 1) : 'latest';
}

/** The repository of an image reference, without its tag or digest. */
export function repoOf(image: string): string {
  const at = image.indexOf('@');
  if (at >= 0) return image.slice(0, at);
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > slash ? image.slice(0, colon) : image;
}
