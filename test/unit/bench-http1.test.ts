// The benchmarks' load generator (bench/http1.ts, bench/load.ts): answers framed by their
// Content-Length however the bytes arrive, anything it cannot frame refused rather than
// guessed at, a connection the server closes never reused, and a closed client refusing work.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Http1Connection } from '../../bench/http1.js';
import { Client } from '../../bench/load.js';

type Reply = (socket: net.Socket, request: string, n: number) => void;

const servers: net.Server[] = [];
const sockets = new Set<net.Socket>();
afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A server that answers each request (read up to its blank line) with `reply`; the port, and how many connections it accepted. */
async function serve(reply: Reply): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  let n = 0;
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    let buffered = '';
    socket.on('data', (d) => {
      buffered += d.toString('latin1');
      for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
        const request = buffered.slice(0, end);
        const length = Number(/content-length: (\d+)/i.exec(request)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        buffered = buffered.slice(end + 4 + length);
        reply(socket, request, n++);
      }
    });
    socket.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, connections: () => connections };
}

const later = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes `parts` one by one with a pause between, so the client sees them as separate chunks. */
async function trickle(socket: net.Socket, parts: (string | Buffer)[]): Promise<void> {
  for (const p of parts) {
    socket.write(p);
    await later(5);
  }
}

describe('bench HTTP/1.1 client', () => {
  it('frames an answer whose head and body arrive in pieces, multi-byte characters split across them', async () => {
    const body = Buffer.from('{"name":"Córdoba – ✓"}', 'utf8');
    const { port } = await serve((socket) => {
      const head = `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`;
      void trickle(socket, [head.slice(0, 7), head.slice(7, head.length - 2), head.slice(head.length - 2), body.subarray(0, 11), body.subarray(11, 12), body.subarray(12)]);
    });
    const conn = new Http1Connection(port);
    const res = await conn.request('GET / HTTP/1.1\r\nhost: x\r\n\r\n', undefined);
    expect(res).toEqual({ status: 200, body: '{"name":"Córdoba – ✓"}' });
    // The same connection carries the next request.
    expect(conn.usable).toBe(true);
    expect((await conn.request('GET / HTTP/1.1\r\nhost: x\r\n\r\n', undefined)).body).toBe('{"name":"Córdoba – ✓"}');
    conn.close();
  });

  it('takes a 204 without Content-Length as empty, and refuses a chunked or unframed answer, or bytes beyond the length', async () => {
    const answers = [
      'HTTP/1.1 204 No Content\r\n\r\n',
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n',
      'HTTP/1.1 200 OK\r\n\r\n{}',
      'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}}',
    ];
    const { port } = await serve((socket, _req, n) => socket.write(answers[n % answers.length] as string));
    const send = (conn: Http1Connection) => conn.request('GET / HTTP/1.1\r\nhost: x\r\n\r\n', undefined);
    const first = new Http1Connection(port);
    expect(await send(first)).toEqual({ status: 204, body: '' });
    await expect(send(first)).rejects.toThrow(/Transfer-Encoding chunked is not supported/);
    expect(first.usable).toBe(false);
    await expect(new Http1Connection(port).request('GET / HTTP/1.1\r\n\r\n', undefined)).rejects.toThrow(/without Content-Length/);
    await expect(new Http1Connection(port).request('GET / HTTP/1.1\r\n\r\n', undefined)).rejects.toThrow(/more bytes than the Content-Length/);
  });

  it('the client pool opens at most maxSockets, never reuses a connection the server closed, and refuses work once closed', async () => {
    const { port, connections } = await serve((socket, request) => {
      const close = request.includes('/close');
      socket.write(`HTTP/1.1 200 OK\r\ncontent-length: 2\r\n${close ? 'connection: close\r\n' : ''}\r\n{}`);
      if (close) socket.end();
    });
    const client = new Client(port, 'key', 2);
    const results = await Promise.all(Array.from({ length: 10 }, () => client.ok({ method: 'GET', path: '/' })));
    expect(results).toEqual(Array(10).fill('{}'));
    expect(connections()).toBe(2);
    client.close();
    const one = new Client(port, 'key', 1);
    expect(await one.ok({ method: 'GET', path: '/' })).toBe('{}');
    expect(await one.ok({ method: 'GET', path: '/close' })).toBe('{}');
    expect(await one.ok({ method: 'GET', path: '/' })).toBe('{}');
    expect(connections()).toBe(4); // its one connection closed by the server was replaced, not reused
    one.close();
    await expect(one.ok({ method: 'GET', path: '/' })).rejects.toThrow(/closed/);
  });
});
