// A small, safe expression language for parameters: `0.3*sin(t*0.5) + knob1`. Tokenised and parsed
// here into a closure tree; there is no eval, no property access, no way to reach JavaScript.
//   numbers, + - * / % ^ (power, right-assoc), unary -, ( ), comparisons < <= > >= == !=, c ? a : b
//   functions: sin cos tan abs min max clamp floor ceil fract mix smoothstep sqrt exp log pow noise
//   names: t (seconds), beat, frame, pi, and parameters by short name or full address; a dotted
//   name is a path (`audio.low` is /netbend/audio/low, `audio.chroma.3` is /netbend/audio/chroma/3)
import { createNoise2D } from 'simplex-noise';
import { mulberry32 } from '../core/seeded-random.ts';

export interface ExprContext {
  t: number;
  beat: number;
  frame: number;
}

export type Compiled = (ctx: ExprContext) => number;

export class ExpressionError extends Error {}

const noise1 = createNoise2D(mulberry32(1));
const FUNCS: Record<string, { arity: [number, number]; fn: (...a: number[]) => number }> = {
  sin: { arity: [1, 1], fn: Math.sin },
  cos: { arity: [1, 1], fn: Math.cos },
  tan: { arity: [1, 1], fn: Math.tan },
  abs: { arity: [1, 1], fn: Math.abs },
  floor: { arity: [1, 1], fn: Math.floor },
  ceil: { arity: [1, 1], fn: Math.ceil },
  sqrt: { arity: [1, 1], fn: Math.sqrt },
  exp: { arity: [1, 1], fn: Math.exp },
  log: { arity: [1, 1], fn: Math.log },
  fract: { arity: [1, 1], fn: (x) => x - Math.floor(x) },
  noise: { arity: [1, 1], fn: (x) => noise1(x, 0.5) },
  min: { arity: [2, 8], fn: Math.min },
  max: { arity: [2, 8], fn: Math.max },
  pow: { arity: [2, 2], fn: Math.pow },
  clamp: { arity: [3, 3], fn: (x, lo, hi) => Math.min(hi, Math.max(lo, x)) },
  mix: { arity: [3, 3], fn: (a, b, k) => a + (b - a) * k },
  smoothstep: {
    arity: [3, 3],
    fn: (e0, e1, x) => {
      const k = Math.min(1, Math.max(0, (x - e0) / (e1 - e0)));
      return k * k * (3 - 2 * k);
    },
  },
};

interface Token {
  kind: 'num' | 'name' | 'op' | 'end';
  text: string;
  pos: number;
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  const re = /\s*(?:(\d+\.?\d*(?:e[+-]?\d+)?|\.\d+(?:e[+-]?\d+)?)|(\/netbend\/[\w/.]*|[A-Za-z_]\w*(?:\.\w+)*)|(<=|>=|==|!=|[-+*/%^(),?:<>]))/iy;
  let pos = 0;
  while (pos < src.length) {
    if (/^\s*$/.test(src.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(src);
    if (!m) throw new ExpressionError(`unexpected "${src.slice(pos).trim()[0]}" at ${src.slice(pos).search(/\S/) + pos + 1}`);
    const start = m.index + m[0].length - (m[1] ?? m[2] ?? m[3])!.length;
    out.push({ kind: m[1] ? 'num' : m[2] ? 'name' : 'op', text: m[1] ?? m[2] ?? m[3]!, pos: start + 1 });
    pos = re.lastIndex;
  }
  out.push({ kind: 'end', text: 'end of expression', pos: src.length + 1 });
  return out;
}

/**
 * Compiles `src`. `lookup` resolves a name that is not a built-in to a reader of its current value
 * (a parameter), or undefined when there is no such name.
 */
export function compileExpression(src: string, lookup: (name: string) => (() => number) | undefined = () => undefined): Compiled {
  const tokens = tokenize(src);
  let i = 0;
  const peek = () => tokens[i]!;
  const next = () => tokens[i++]!;
  const expect = (text: string) => {
    const t = next();
    if (t.text !== text) throw new ExpressionError(`expected "${text}" at ${t.pos}, found "${t.text}"`);
  };
  const BIN: Record<string, [number, (a: number, b: number) => number]> = {
    '<': [1, (a, b) => +(a < b)],
    '<=': [1, (a, b) => +(a <= b)],
    '>': [1, (a, b) => +(a > b)],
    '>=': [1, (a, b) => +(a >= b)],
    '==': [1, (a, b) => +(a === b)],
    '!=': [1, (a, b) => +(a !== b)],
    '+': [2, (a, b) => a + b],
    '-': [2, (a, b) => a - b],
    '*': [3, (a, b) => a * b],
    '/': [3, (a, b) => a / b],
    '%': [3, (a, b) => a % b],
    '^': [5, (a, b) => a ** b],
  };

  function ternary(): Compiled {
    const cond = binary(0);
    if (peek().text !== '?') return cond;
    next();
    const a = ternary();
    expect(':');
    const b = ternary();
    return (c) => (cond(c) !== 0 ? a(c) : b(c));
  }

  function binary(minPrec: number): Compiled {
    let left = unary();
    for (;;) {
      const op = BIN[peek().text];
      if (!op || peek().kind !== 'op' || op[0] < minPrec) return left;
      next();
      // ^ is right-associative; the others bind left.
      const right = peek().text === '-' || op[0] === 5 ? binary(op[0]) : binary(op[0] + 1);
      const l = left;
      const f = op[1];
      left = (c) => f(l(c), right(c));
    }
  }

  function unary(): Compiled {
    if (peek().text === '-') {
      next();
      // -2^2 is -(2^2), as in mathematics.
      const v = binary(5);
      return (c) => -v(c);
    }
    if (peek().text === '+') next();
    return primary();
  }

  function primary(): Compiled {
    const t = next();
    if (t.kind === 'num') {
      const v = Number(t.text);
      return () => v;
    }
    if (t.text === '(') {
      const v = ternary();
      expect(')');
      return v;
    }
    if (t.kind === 'name') {
      if (peek().text === '(') {
        const f = Object.hasOwn(FUNCS, t.text) ? FUNCS[t.text] : undefined;
        if (!f) throw new ExpressionError(`unknown function ${t.text} at ${t.pos}`);
        next();
        const args: Compiled[] = [];
        if (peek().text !== ')') {
          args.push(ternary());
          while (peek().text === ',') next(), args.push(ternary());
        }
        expect(')');
        if (args.length < f.arity[0] || args.length > f.arity[1])
          throw new ExpressionError(`${t.text} takes ${f.arity[0]}${f.arity[1] !== f.arity[0] ? `..${f.arity[1]}` : ''} arguments, got ${args.length} at ${t.pos}`);
        const fn = f.fn;
        return (c) => fn(...args.map((a) => a(c)));
      }
      if (t.text === 't') return (c) => c.t;
      if (t.text === 'beat') return (c) => c.beat;
      if (t.text === 'frame') return (c) => c.frame;
      if (t.text === 'pi') return () => Math.PI;
      const read = lookup(t.text);
      if (!read) throw new ExpressionError(`unknown name ${t.text} at ${t.pos}`);
      return () => read();
    }
    throw new ExpressionError(`unexpected "${t.text}" at ${t.pos}`);
  }

  const fn = ternary();
  if (peek().kind !== 'end') throw new ExpressionError(`unexpected "${peek().text}" at ${peek().pos}`);
  return fn;
}
