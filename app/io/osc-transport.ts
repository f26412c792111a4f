// What carries OSC datagrams in and out, apart from what they mean: a UDP socket on stage, any
// other carrier (a loopback pair, a WebSocket) where one is wanted. OscServer decides what a
// datagram does and whom it obeys; a transport only moves bytes.
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';

export interface OscTransport {
  /** Where it listens, as it reads in the start-up line (`udp://127.0.0.1:9000`). */
  readonly url: string;
  /** The port it listens on (0 before open()). */
  readonly port: number;
  /** Starts handing every datagram and its sender to `receive`; rejects with a readable reason. */
  open(receive: (datagram: Uint8Array, from: { address: string; port: number }) => void): Promise<void>;
  /** Best effort, never throws (a gone or impossible target must not reach the frame loop); false: not sent. */
  send(datagram: Uint8Array, host: string, port: number): boolean;
  close(): void;
}

export class UdpTransport implements OscTransport {
  private socket: dgram.Socket | undefined;

  /** `port` 0 listens on any free port (see `port` after open()). */
  constructor(
    private readonly listenPort: number,
    readonly host = '127.0.0.1',
  ) {}

  get port(): number {
    return this.socket?.address().port ?? 0;
  }

  get url(): string {
    return `udp://${this.host}:${this.port || this.listenPort}`;
  }

  async open(receive: (datagram: Uint8Array, from: { address: string; port: number }) => void): Promise<void> {
    const socket = dgram.createSocket(isIPv6(this.host) ? 'udp6' : 'udp4');
    await new Promise<void>((ok, fail) => {
      socket.once('error', (err) => fail(new Error(`OSC: cannot listen on udp://${this.host}:${this.listenPort} (${(err as NodeJS.ErrnoException).code ?? err.message})`)));
      socket.bind(this.listenPort, this.host, () => ok());
    });
    socket.removeAllListeners('error');
    socket.on('error', () => {}); // ICMP port unreachable from a gone target, etc.: not fatal
    socket.on('message', (buf, rinfo) => receive(buf, rinfo));
    this.socket = socket;
  }

  send(datagram: Uint8Array, host: string, port: number): boolean {
    if (!this.socket) return false;
    try {
      this.socket.send(datagram, port, host, () => {}); // async errors: unreachable targets
      return true;
    } catch {
      return false; // a target with an impossible port throws at once
    }
  }

  close(): void {
    this.socket?.close();
    this.socket = undefined;
  }
}
