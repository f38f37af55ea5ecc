// The sandbox's image registry, as far as a kubelet and a release see one: every tag resolves to
// a digest when a pod pulls it (the kubelet reports it in `containerStatuses[].imageID`), and a
// tag can be re-pointed at another build, as `docker push` of the same tag does. A re-pointed tag
// behaves like the tag it is said to be (`like: v1.2.3-errors`); a digest keeps the behaviour of
// the build it was pushed as, so a pod pinned by digest runs exactly what was tested.
import { createHash } from 'node:crypto';
import { isDigest, repoOf, versionOf } from '../domain/image-ref.js';

export class Registry {
  /** 'repo:tag' → the build it points at now, when it was re-pointed. */
  private readonly moved = new Map<string, { digest: string; like: string }>();
  /** digest → the 'repo:tag' whose behaviour that build has. */
  private readonly builds = new Map<string, string>();
  private pushes = 0;

  /** The digest (`sha256:…`) an image reference resolves to now. */
  digestOf(image: string): string {
    const version = versionOf(image);
    if (isDigest(version)) return version;
    const ref = `${repoOf(image)}:${version}`;
    const moved = this.moved.get(ref);
    if (moved) return moved.digest;
    const digest = `sha256:${createHash('sha256').update(ref).digest('hex')}`;
    this.builds.set(digest, ref);
    return digest;
  }

  /** The reference whose behaviour this image has (the sandbox's faults are read from tags). */
  behaves(image: string): string {
    const version = versionOf(image);
    if (isDigest(version)) return this.builds.get(version) ?? image;
    const moved = this.moved.get(`${repoOf(image)}:${version}`);
    return moved ? `${repoOf(image)}:${moved.like}` : image;
  }

  /** Pushes another build under `image`'s tag, one that behaves like tag `like`; returns its digest. */
  retag(image: string, like: string): string {
    const version = versionOf(image);
    if (isDigest(version)) throw new Error(`${image} is pinned by digest; only a tag can be re-pointed`);
    const ref = `${repoOf(image)}:${version}`;
    const digest = `sha256:${createHash('sha256')
      .update(`${ref}#${++this.pushes}:${like}`)
      .digest('hex')}`;
    this.moved.set(ref, { digest, like });
    this.builds.set(digest, `${repoOf(image)}:${like}`);
    return digest;
  }
}

/** The build a pod runs: what its kubelet pulled (imageID), else what its spec names. */
export function podBuild(registry: Registry, pod: { status?: { containerStatuses?: Array<{ imageID?: string }> } }, image: string): string {
  return registry.behaves(pod.status?.containerStatuses?.[0]?.imageID || image);
}
