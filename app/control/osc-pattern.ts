// OSC 1.0 address patterns (`*`, `?`, `[a-z]`, `[!a]`, `{foo,bar}`) as anchored regular
// expressions; `*` and `?` never cross a `/`.
export function oscPattern(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i);
      if (end < 0) throw new Error(`OSC pattern ${pattern}: unclosed [`);
      let body = pattern.slice(i + 1, end);
      const negate = body.startsWith('!');
      if (negate) body = body.slice(1);
      re += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else if (c === '{') {
      const end = pattern.indexOf('}', i);
      if (end < 0) throw new Error(`OSC pattern ${pattern}: unclosed {`);
      re += `(?:${pattern.slice(i + 1, end).split(',').map(escape).join('|')})`;
      i = end;
    } else re += escape(c);
  }
  return new RegExp(`^${re}$`);
}

const escape = (s: string) => s.replace(/[.+^${}()|\\/[\]*?]/g, '\\$&');

export const isPattern = (address: string) => /[*?[{]/.test(address);
