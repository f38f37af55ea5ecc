// No cluster write from a replica that does not lead (ops/leader.ts): every request the API
// clients send passes here first, and one that would change something (anything but GET, HEAD)
// is refused while `leading()` is false. A process paused past its Lease wakes up with its term
// ended, and its next patch never leaves it. Every request also names the replica in its
// User-Agent, so the API server's audit log tells which one wrote.
import type { Kube } from './kube.js';

export class NotLeading extends Error {
  constructor(what: string) {
    super(`${what} refused: this Shipbot replica does not lead (its leadership term has ended), so it changes nothing on the cluster`);
    this.name = 'NotLeading';
  }
}

/** This replica, for the guard: whether it leads now, and its Lease identity (the pod's name and a suffix). */
export interface Leadership {
  leading(): boolean;
  identity: string;
}

type RequestContext = { getHttpMethod(): string; getUrl(): string; setHeaderParam(key: string, value: string): void };
type Authenticates = { applySecurityAuthentication(context: RequestContext): Promise<void> };

export function guardWrites(kube: Kube, me: Leadership): Kube {
  const kc = kube.kc as unknown as Authenticates;
  const apply = kc.applySecurityAuthentication.bind(kube.kc);
  kc.applySecurityAuthentication = async (context) => {
    const method = context.getHttpMethod().toUpperCase();
    if (method !== 'GET' && method !== 'HEAD' && !me.leading()) throw new NotLeading(`${method} ${new URL(context.getUrl()).pathname}`);
    context.setHeaderParam('User-Agent', `shipbot (replica ${me.identity})`);
    return apply(context);
  };
  return kube;
}
