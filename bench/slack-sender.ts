// Slack's senders for the button bench: one process that gets a burst of prepared requests,
// opens a connection for each, and sends them all at once when every connection is open, timing
// each from its send to the last byte of its HTTP answer (not to the connection's close, which
// the server does after answering). Nothing else runs on its event loop, so the times
// are the app's (and loopback's), not a busy measuring process's.
import net from 'node:net';
import type { RawAnswer } from '../src/slack/double/transport.js';

export interface BurstRequest {
  requests: Array<{ url: string; headers: Record<string, string>; body: string }>;
}
export interface BurstReply {
  answers: Array<RawAnswer & { ms: number }>;
}

process.once('message', async ({ requests }: BurstRequest) => {
  const prepared = await Promise.all(requests.map((r) => open(r.url, r.headers, r.body)));
  const answers = await Promise.all(prepared.map((send) => send()));
  process.send!({ answers } satisfies BurstReply);
});

/** A POST over a connection of its own, opened and warmed now; the answer ends with the connection. */
async function open(url: string, headers: Record<string, string>, body: string): Promise<() => Promise<RawAnswer & { ms: number }>> {
  const { hostname, port, pathname } = new URL(url);
  const head = Object.entries({
    ...headers,
    host: `${hostname}:${port}`,
    'content-length': String(Buffer.byteLength(body)),
    connection: 'close',
  })
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n');
  const bytes = `POST ${pathname} HTTP/1.1\r\n${head}\r\n\r\n${body}`;
  const socket = net.connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  // A first request on the connection (a GET the app answers 404) so the app has taken the
  // connection and set it up before the burst, as for a sender that keeps its connections open.
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    const onData = (c: Buffer) => {
      seen += c.toString();
      const end = seen.indexOf('\r\n\r\n');
      const length = Number(/content-length:\s*(\d+)/i.exec(seen)?.[1] ?? 0);
      if (end !== -1 && seen.length >= end + 4 + length) {
        socket.off('data', onData);
        resolve();
      }
    };
    socket.on('data', onData).once('error', reject);
    socket.write(`GET ${pathname} HTTP/1.1\r\nhost: ${hostname}:${port}\r\n\r\n`);
  });
  return async () => {
    const chunks: Buffer[] = [];
    let ms = Number.NaN;
    const ended = new Promise<void>((resolve, reject) => socket.once('end', resolve).once('error', reject));
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      if (Number.isNaN(ms) && complete(Buffer.concat(chunks).toString())) ms = performance.now() - sentAt;
    });
    const sentAt = performance.now();
    socket.write(bytes);
    await ended;
    if (Number.isNaN(ms)) ms = performance.now() - sentAt;
    socket.destroy();
    const text = Buffer.concat(chunks).toString();
    const end = text.indexOf('\r\n\r\n');
    const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
    const contentType =
      lines
        .find((h) => /^content-type:/i.test(h))
        ?.split(':')[1]
        ?.trim() ?? '';
    return { status: Number(statusLine.split(' ')[1]), contentType, text: text.slice(end + 4), ms };
  };
}

/** Whether `text` holds a whole HTTP response: its head and its body, by length or to the last chunk. */
function complete(text: string): boolean {
  const end = text.indexOf('\r\n\r\n');
  if (end === -1) return false;
  const head = text.slice(0, end);
  const body = text.slice(end + 4);
  if (/transfer-encoding:\s*chunked/i.test(head)) return body.endsWith('0\r\n\r\n');
  const length = /content-length:\s*(\d+)/i.exec(head)?.[1];
  return length !== undefined && Buffer.byteLength(body) >= Number(length);
}
