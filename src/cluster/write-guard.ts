// No cluster write from a replica that does not lead (ops/leader.ts): every request the API
// clients send passes here first, and one that would change something (anything but GET, HEAD)
// is refused while `leading()` is false. A process paused past its Lease wakes up with its term
// ended, and its next patch never leaves it.
import type { Kube } from './kube.js';

export class NotLeading extends Error {
  constructor(what: string) {
    super(`${what} refused: this Shipbot replica does not lead (its leadership term has ended), so it changes nothing on the cluster`);
    this.name = 'NotLeading';
  }
}

type RequestContext = { getHttpMethod(): string; getUrl(): string };
type Authenticates = { applySecurityAuthentication(context: RequestContext): Promise<void> };

export function guardWrites(kube: Kube, leading: () => boolean): Kube {
  const kc = kube.kc as unknown as Authenticates;
  const apply = kc.applySecurityAuthentication.bind(kube.kc);
  kc.applySecurityAuthentication = async (context) => {
    const method = context.getHttpMethod().toUpperCase();
    if (method !== 'GET' && method !== 'HEAD' && !leading()) throw new NotLeading(`${method} ${new URL(context.getUrl()).pathname}`);
    return apply(context);
  };
  return kube;
}
