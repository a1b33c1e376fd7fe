// The load generator's HTTP/1.1 client: keep-alive connections on node:net, one request at
// a time per connection, the request written in one call and the answer framed by its
// Content-Length. The benches run the load generator on the machine they measure, so its CPU
// is taken from the server: node:http's client (ClientRequest, IncomingMessage streams, the
// Agent's bookkeeping) cost ~0.2 ms of CPU per call here, a tenth or more of the machine in the
// booking flows. Settle's answers carry a Content-Length; anything else (a chunked or
// unframed answer, such as Node's own 400 to a malformed request) is refused loudly rather
// than guessed at. No timeout, as node:http's client had none here: a bench run has its own.
import net from 'node:net';

export interface Http1Response {
  status: number;
  body: string;
}

const HEADER_END = Buffer.from('\r\n\r\n');
/** Upper bound on a response head, so a broken answer fails instead of buffering forever. */
const MAX_HEAD_BYTES = 64 * 1024;

interface Pending {
  resolve: (r: Http1Response) => void;
  reject: (e: Error) => void;
}

/** One keep-alive connection; `request` must not be called again before its answer is in. */
export class Http1Connection {
  private readonly socket: net.Socket;
  private pending: Pending | null = null;
  private chunks: Buffer[] = [];
  private received = 0;
  private status = 0;
  /** Where the body starts in the concatenated chunks, once the head is in (-1 before). */
  private bodyStart = -1;
  private bodyLength = 0;
  private closeAfter = false;
  /** False once the socket closed or failed, or the server asked to close it. */
  usable = true;

  constructor(port: number, host = '127.0.0.1') {
    this.socket = net.connect({ port, host, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => this.fail(new Error('bench client: the server closed the connection')));
  }

  request(head: string, payload: string | undefined): Promise<Http1Response> {
    if (this.pending) throw new Error('bench client: a connection carries one request at a time');
    if (!this.usable) return Promise.reject(new Error('bench client: connection closed'));
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.socket.write(payload === undefined ? head : head + payload);
    });
  }

  close(): void {
    this.usable = false;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (!this.pending) {
      this.fail(new Error('bench client: data arrived with no request outstanding'));
      return;
    }
    this.chunks.push(chunk);
    this.received += chunk.length;
    if (this.bodyStart < 0 && !this.readHead()) return;
    if (this.received - this.bodyStart < this.bodyLength) return;
    if (this.received - this.bodyStart > this.bodyLength) {
      this.fail(new Error('bench client: more bytes than the Content-Length said'));
      return;
    }
    const all = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.received);
    const response = { status: this.status, body: all.toString('utf8', this.bodyStart) };
    const { resolve } = this.pending;
    this.pending = null;
    this.chunks = [];
    this.received = 0;
    this.bodyStart = -1;
    if (this.closeAfter) this.close();
    resolve(response);
  }

  /** Parses the head once it is complete; false while it is not. */
  private readHead(): boolean {
    const buf = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.received);
    this.chunks = [buf];
    const end = buf.indexOf(HEADER_END);
    if (end < 0) {
      if (this.received > MAX_HEAD_BYTES) this.fail(new Error('bench client: response head too long'));
      return false;
    }
    const lines = buf.toString('latin1', 0, end).split('\r\n');
    const statusLine = lines[0] ?? '';
    const status = Number(statusLine.slice(9, 12));
    if (!statusLine.startsWith('HTTP/1.') || !(status >= 100 && status <= 599)) {
      this.fail(new Error(`bench client: not an HTTP/1.x response: ${JSON.stringify(statusLine)}`));
      return false;
    }
    let length: number | null = null;
    this.closeAfter = false;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] as string;
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-length') length = Number(value);
      else if (name === 'transfer-encoding') {
        this.fail(new Error(`bench client: Transfer-Encoding ${value} is not supported`));
        return false;
      } else if (name === 'connection' && value.toLowerCase() === 'close') this.closeAfter = true;
    }
    if (length === null) {
      if (status !== 204 && status !== 304) {
        this.fail(new Error(`bench client: a ${status} answer without Content-Length`));
        return false;
      }
      length = 0;
    }
    if (!Number.isSafeInteger(length) || length < 0) {
      this.fail(new Error('bench client: bad Content-Length'));
      return false;
    }
    this.status = status;
    this.bodyStart = end + HEADER_END.length;
    this.bodyLength = length;
    return true;
  }

  private fail(err: Error): void {
    this.usable = false;
    const pending = this.pending;
    this.pending = null;
    this.socket.destroy();
    pending?.reject(err);
  }
}
