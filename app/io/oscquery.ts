// OSCQuery (Vidvox's proposal): the parameter namespace as JSON over HTTP, single attributes by
// query (`?VALUE`, `?HOST_INFO`), and a WebSocket where clients LISTEN to paths and receive value
// changes as binary OSC, plus PATH_ADDED / PATH_REMOVED / PATH_CHANGED notices as JSON text.
// TouchDesigner, Chataigne, VDMX and ossia score discover netbend's parameters this way.
// The HTTP server is someone else's: this is a handler and an upgrade hook to plug into it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ParameterRegistry, ParamSpec } from '../core/registry.ts';
import { kindOf } from '../core/param-types.ts';
import { packValue, type OscServer } from './osc-server.ts';

const ATTRIBUTES = ['VALUE', 'TYPE', 'RANGE', 'CLIPMODE', 'ACCESS', 'DESCRIPTION', 'UNIT', 'FULL_PATH', 'CONTENTS'] as const;
/** A client that reads slower than values change gets skipped, not an ever-growing buffer. */
const MAX_BUFFERED = 1 << 20;
/** Paths one client may LISTEN to: more than any namespace here, few enough to bound memory. */
export const MAX_LISTEN_PATHS = 4096;

/** One parameter as an OSCQuery node. */
function node(params: ParameterRegistry, s: ParamSpec): Record<string, unknown> {
  const n: Record<string, unknown> = {
    FULL_PATH: s.address,
    TYPE: kindOf(s).oscTag,
    // 1 read-only, 2 write-only (a trigger has nothing to read), 3 read-write.
    ACCESS: s.readOnly && !s.oscWritable ? 1 : s.type === 'trigger' ? 2 : 3,
    DESCRIPTION: s.description ?? s.address.split('/').pop(),
  };
  if (s.type !== 'trigger') n.VALUE = [params.target(s.address)];
  if (s.type === 'enum') n.RANGE = [{ VALS: [...(s.options ?? [])] }];
  else if ((s.type === 'float' || s.type === 'int') && (s.min !== undefined || s.max !== undefined)) {
    n.RANGE = [{ ...(s.min !== undefined ? { MIN: s.min } : {}), ...(s.max !== undefined ? { MAX: s.max } : {}) }];
    // Soft ranges (clamp: false) guide controllers but accept values beyond them.
    n.CLIPMODE = [s.clamp === false ? 'none' : s.min !== undefined && s.max !== undefined ? 'both' : s.min !== undefined ? 'low' : 'high'];
  }
  if (s.unit) n.UNIT = [s.unit];
  return n;
}

/** A structural move as OSCQuery lists it: write-only, its arguments as the TYPE. */
export interface MoveNode {
  address: string;
  /** OSC type tags of its arguments, e.g. `sssf`. */
  types: string;
  description: string;
}

/**
 * The container at `path` with everything under it, or one node; undefined if none. Parameters
 * and the show's moves (actions with arguments; those without are trigger parameters already).
 */
export function namespace(params: ParameterRegistry, path: string, moves: readonly MoveNode[] = []): Record<string, unknown> | undefined {
  const clean = path === '/' ? '' : path.replace(/\/+$/, '');
  const exact = params.spec(clean);
  if (exact) return node(params, exact);
  const move = moves.find((m) => m.address === clean);
  const moveNode = (m: MoveNode) => ({ FULL_PATH: m.address, TYPE: m.types, ACCESS: 2, DESCRIPTION: m.description });
  if (move) return moveNode(move);
  const root: Record<string, unknown> = { FULL_PATH: clean || '/', ACCESS: 0, DESCRIPTION: clean ? clean.split('/').pop() : 'netbend', CONTENTS: {} };
  let found = false;
  const entries: Array<[string, () => Record<string, unknown>]> = [
    ...params.list().map((s): [string, () => Record<string, unknown>] => [s.address, () => node(params, s)]),
    ...moves.filter((m) => !params.has(m.address)).map((m): [string, () => Record<string, unknown>] => [m.address, () => moveNode(m)]),
  ];
  for (const [address, make] of entries) {
    if (!address.startsWith(clean + '/')) continue;
    found = true;
    const segs = address.slice(clean.length + 1).split('/');
    let cur = root;
    let full = clean;
    segs.forEach((seg, i) => {
      full += '/' + seg;
      const contents = cur.CONTENTS as Record<string, Record<string, unknown>>;
      if (i === segs.length - 1) contents[seg] = { ...(contents[seg] ?? {}), ...make() };
      else cur = contents[seg] ??= { FULL_PATH: full, ACCESS: 0, DESCRIPTION: seg, CONTENTS: {} };
    });
  }
  return found ? root : undefined;
}

export interface OscQueryOptions {
  /** Advertised name (HOST_INFO NAME); default 'netbend'. */
  name?: string;
  /** The UDP port OSC listens on (read at request time: it is known only after binding). */
  oscPort: () => number;
  /** The address OSC listens on, advertised as OSC_IP. */
  host?: string;
  /** The show's structural moves, listed beside the parameters. */
  moves?: () => readonly MoveNode[];
}

/**
 * An http handler: answers OSCQuery requests (the root, anything under /netbend, and any
 * `?HOST_INFO`) and returns false for everything else, so the server's other routes still work.
 */
export function oscQueryHandler(params: ParameterRegistry, o: OscQueryOptions) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== 'GET') return false;
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, body?: unknown) => {
      // No CORS header of its own: any site could then read every value. The server this plugs into
      // decides which origins may read (netbend's sets access-control-allow-origin for its pages).
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body === undefined ? undefined : JSON.stringify(body));
      return true;
    };
    // The attribute is the query's first key (`?VALUE`, `?HOST_INFO`), in any case; the server's
    // access token (`?token=...` on a LAN bind) is not an attribute.
    const query = ([...url.searchParams.keys()].find((k) => k !== 'token') ?? '').toUpperCase();
    if (query === 'HOST_INFO') {
      return send(200, {
        NAME: o.name ?? 'netbend',
        OSC_IP: o.host ?? '127.0.0.1',
        OSC_PORT: o.oscPort(),
        OSC_TRANSPORT: 'UDP',
        EXTENSIONS: {
          ACCESS: true,
          VALUE: true,
          RANGE: true,
          DESCRIPTION: true,
          UNIT: true,
          CLIPMODE: true,
          TAGS: false,
          CRITICAL: false,
          LISTEN: true,
          PATH_CHANGED: true,
          PATH_ADDED: true,
          PATH_REMOVED: true,
          PATH_RENAMED: false,
        },
      });
    }
    if (url.pathname !== '/' && url.pathname !== '/netbend' && !url.pathname.startsWith('/netbend/')) return false;
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      return send(400, { error: `malformed path ${url.pathname}` });
    }
    const ns = namespace(params, path, o.moves?.() ?? []);
    if (!ns) return send(404, { error: `no OSC path ${path}` });
    if (!query) return send(200, ns);
    if (!(ATTRIBUTES as readonly string[]).includes(query)) return send(400, { error: `unknown attribute ${query}` });
    // The proposal: an attribute this node does not have (a trigger's VALUE) is 204 No Content.
    if (!(query in ns)) return send(204);
    return send(200, { [query]: ns[query] });
  };
}

export interface OscQueryUpgradeOptions {
  /** Binary OSC sent by WebSocket clients goes here, as if it came over UDP. */
  osc?: OscServer;
}

export type OscQueryUpgrade = ((req: IncomingMessage, socket: Duplex, head: Buffer) => boolean) & {
  /** Closes every client and stops listening to the registry. */
  close(): void;
};

/** WebSocket side: LISTEN / IGNORE commands, value changes as binary OSC, path notices as JSON. */
export function oscQueryUpgrade(params: ParameterRegistry, opts: OscQueryUpgradeOptions = {}): OscQueryUpgrade {
  // The largest legitimate message is one OSC packet (as over UDP, whose datagrams stop at 64 KiB)
  // or a LISTEN/IGNORE with a path; anything bigger is refused with 1009, not buffered.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  // Unhandled, an 'error' on the server would end the show; with noServer none is expected.
  wss.on('error', () => {});
  const clients = new Map<WebSocket, Set<string>>();
  const known = new Set(params.list().map((s) => s.address));
  const ready = (ws: WebSocket) => ws.readyState === ws.OPEN && ws.bufferedAmount < MAX_BUFFERED;
  const offs = [
    params.on('change', (c) => {
      let packet: Uint8Array | undefined; // packed once, only if someone listens
      for (const [ws, paths] of clients) {
        if (!paths.has(c.address) || !ready(ws)) continue;
        packet ??= packValue(c.address, params.spec(c.address), c.value);
        ws.send(packet);
      }
    }),
    // A new address is PATH_ADDED; redefining an existing one (new range, options) is PATH_CHANGED.
    params.on('define', (s) => {
      notice(known.has(s.address) ? 'PATH_CHANGED' : 'PATH_ADDED', s.address);
      known.add(s.address);
    }),
    params.on('remove', (a) => {
      known.delete(a);
      // A later parameter of the same name is a new one: a client LISTENs to it again if it wants.
      for (const paths of clients.values()) paths.delete(a);
      notice('PATH_REMOVED', a);
    }),
  ];
  function notice(COMMAND: string, DATA: string): void {
    const text = JSON.stringify({ COMMAND, DATA });
    for (const ws of clients.keys()) if (ready(ws)) ws.send(text);
  }
  wss.on('connection', (ws) => {
    clients.set(ws, new Set());
    ws.on('close', () => clients.delete(ws));
    // A bad frame is an 'error' (ws then closes the client with 1002/1007/1009): drop it, live on.
    ws.on('error', () => clients.delete(ws));
    ws.on('message', (data, binary) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      if (binary) {
        // Whatever OSC does with a hostile packet, it must not throw out of ws's frame parser.
        try {
          opts.osc?.receive(bytes);
        } catch {
          /* dropped, as a bad UDP datagram would be */
        }
        return;
      }
      let msg: { COMMAND?: unknown; DATA?: unknown };
      try {
        msg = JSON.parse(bytes.toString('utf8')) as typeof msg;
      } catch {
        return; // not JSON: the proposal defines no other text
      }
      const paths = clients.get(ws);
      if (!paths || typeof msg?.DATA !== 'string') return;
      // Only parameters that exist, and only so many: the proposal has no error reply, so the
      // rest is ignored silently.
      if (msg.COMMAND === 'LISTEN') {
        if (params.has(msg.DATA) && paths.size < MAX_LISTEN_PATHS) paths.add(msg.DATA);
      } else if (msg.COMMAND === 'IGNORE') paths.delete(msg.DATA);
    });
  });
  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): boolean => {
    // Node removes its error handler from upgraded sockets; a reset mid-handshake must not throw.
    socket.on('error', () => {});
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    return true;
  };
  return Object.assign(upgrade, {
    close() {
      offs.forEach((off) => off());
      for (const ws of clients.keys()) ws.terminate();
      clients.clear();
      wss.close();
    },
  });
}
