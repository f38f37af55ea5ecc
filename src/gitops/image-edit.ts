// The release written into the team's manifest: the smallest edit that makes Git name the new
// image, on the very lines that name the old one, so comments, order, quoting and indentation stay
// as the team wrote them. Pure.

export type ImageEdit = { ok: true; text: string; changed: number } | { ok: false; reason: string };

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * Points every `image:` of repository `repo` in `text` at `image` (a reference of the same
 * repository). Lines already at `image` count as done; an image of another repository is never
 * touched. No line naming the repository at all is an error: Git does not hold this service there.
 */
export function setImage(text: string, repo: string, image: string): ImageEdit {
  if (!image.startsWith(`${repo}:`) && !image.startsWith(`${repo}@`)) return { ok: false, reason: `${image} is not an image of ${repo}` };
  // `image: repo:tag`, `- image: "repo@sha256:…"`, with or without quotes and a trailing comment.
  const line = new RegExp(`^(\\s*(?:-\\s+)?image:\\s*)(["']?)${escapeRegExp(repo)}(?:[:@][^\\s"'#]*)?\\2(\\s*(?:#.*)?)$`);
  let found = 0;
  let changed = 0;
  const lines = text.split('\n').map((l) => {
    const m = line.exec(l);
    if (!m) return l;
    found++;
    const next = `${m[1]}${m[2]}${image}${m[2]}${m[3]}`;
    if (next !== l) changed++;
    return next;
  });
  if (found === 0) return { ok: false, reason: `no \`image: ${repo}:…\` line in the file` };
  return { ok: true, text: lines.join('\n'), changed };
}
