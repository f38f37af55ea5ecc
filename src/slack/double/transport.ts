// How the driver's requests reach the app: fetch by default; the button bench sends a burst
// from a process of its own (bench/slack-sender.ts) through a transport that collects them.

/** What the app answered: status, content type and body text. */
export interface RawAnswer {
  status: number;
  contentType: string;
  text: string;
  /** From send to answer, when measured where it was sent. */
  ms?: number;
}

/** Prepares a POST of `body` to `url` and returns what sends it. */
export type Transport = (url: string, headers: Record<string, string>, body: string) => () => Promise<RawAnswer>;

export const viaFetch: Transport = (url, headers, body) => async () => {
  const res = await fetch(url, { method: 'POST', headers, body });
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text: await res.text() };
};
