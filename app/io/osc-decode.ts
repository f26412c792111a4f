// One OSC 1.0 message, decoded strictly and fast. osc-js took ~25 us a message (an array per
// string, Babel classes), so a 64 KB bundle of small messages cost 50-100 ms of decoding alone;
// it also read blobs from the wrong place in a buffer that is a slice of a bigger one.
// Same types and values as osc-js gave: i h t f d s b T F N I (h and t as BigInt, b as bytes).

export interface DecodedMessage {
  address: string;
  /** The type tag string, with its leading ','. */
  types: string;
  args: unknown[];
}

const utf8 = new TextDecoder('utf-8');
const pad4 = (n: number) => (n + 3) & ~3;

/** A NUL-terminated, 4-byte-padded string at `off`: [text, next offset], or undefined. */
function string(view: DataView, off: number): [string, number] | undefined {
  const len = view.byteLength;
  let end = off;
  while (end < len && view.getUint8(end) !== 0) end++;
  if (end >= len) return undefined; // no terminator
  const next = pad4(end + 1);
  if (next > len) return undefined;
  return [utf8.decode(new Uint8Array(view.buffer, view.byteOffset + off, end - off)), next];
}

/** The whole of `view` as one message; undefined unless it is exactly one well-formed message. */
export function decodeMessage(view: DataView): DecodedMessage | undefined {
  const len = view.byteLength;
  const address = string(view, 0);
  if (!address || !address[0].startsWith('/')) return undefined;
  const types = string(view, address[1]);
  if (!types || !types[0].startsWith(',')) return undefined;
  const tags = types[0];
  let off = types[1];
  const args: unknown[] = [];
  const need = (n: number) => off + n <= len;
  for (let i = 1; i < tags.length; i++) {
    switch (tags[i]) {
      case 'i':
        if (!need(4)) return undefined;
        args.push(view.getInt32(off));
        off += 4;
        break;
      case 'f':
        if (!need(4)) return undefined;
        args.push(view.getFloat32(off));
        off += 4;
        break;
      case 'h':
        if (!need(8)) return undefined;
        args.push(view.getBigInt64(off));
        off += 8;
        break;
      case 't':
        if (!need(8)) return undefined;
        args.push(view.getBigUint64(off));
        off += 8;
        break;
      case 'd':
        if (!need(8)) return undefined;
        args.push(view.getFloat64(off));
        off += 8;
        break;
      case 's': {
        const s = string(view, off);
        if (!s) return undefined;
        args.push(s[0]);
        off = s[1];
        break;
      }
      case 'b': {
        if (!need(4)) return undefined;
        const size = view.getInt32(off);
        if (size < 0 || pad4(off + 4 + size) > len) return undefined;
        args.push(new Uint8Array(view.buffer, view.byteOffset + off + 4, size).slice());
        off = pad4(off + 4 + size);
        break;
      }
      case 'T':
        args.push(true);
        break;
      case 'F':
        args.push(false);
        break;
      case 'N':
        args.push(null);
        break;
      case 'I':
        args.push(Infinity);
        break;
      default:
        return undefined; // a type osc-js did not know either
    }
  }
  return off === len ? { address: address[0], types: tags, args } : undefined;
}
