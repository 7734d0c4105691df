/**
 * Python's text forms of JSON-like values, as the Bittensor SDK produces them: `str()` of a pydantic
 * `model_dump()` field (what the SDK's body hash covers) and `json.dumps()` (what its dendrite sends).
 *
 * JSON forgets whether a number was a Python int or float (1 and 1.0 parse alike), so both forms are
 * driven by the field's declared type, as pydantic's are: a `float` field prints 1 as "1.0".
 */

/** A pydantic field type, as far as synapses use them. `model` fields print in declared order. */
export type PyType =
  | 'str'
  | 'int'
  | 'float'
  | 'bool'
  /** Any JSON value: integral numbers print as ints, others as floats (pydantic's `Any`). */
  | 'any'
  | { readonly optional: PyType }
  | { readonly list: PyType }
  | { readonly model: readonly (readonly [string, PyType])[] };

/** Thrown when a value does not have the declared type (the caller treats it as a mismatch). */
export class PyTypeError extends Error {
  constructor(path: string, expected: string) {
    super(`${path || 'value'} is not ${expected}`);
    this.name = 'PyTypeError';
  }
}

/**
 * `repr(float)`: the shortest digits that round-trip (JavaScript's and Python's agree), in fixed
 * notation for exponents -4..15 with at least one fractional digit, otherwise as "1.5e+16", "1e-05".
 */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mantissa, expText] = Math.abs(x).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp).toString().padStart(2, '0');
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${e}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const whole = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const fraction = digits.slice(exp + 1) || '0';
  return `${sign}${whole}.${fraction}`;
}

/** `repr(int)` of a JSON number that must be an integer (or of a bigint, e.g. a nanosecond nonce). */
function pyIntRepr(x: unknown, path: string): string {
  if (typeof x === 'bigint') return x.toString();
  if (typeof x !== 'number' || !Number.isInteger(x)) throw new PyTypeError(path, 'an integer');
  // beyond 2^53 the double no longer says which integer Python held: refuse rather than guess
  if (!Number.isSafeInteger(x)) throw new PyTypeError(path, 'an integer below 2^53');
  return Object.is(x, -0) ? '0' : x.toString();
}

// Python's str.isprintable() is false for these categories (the space character excepted)
const NON_PRINTABLE = /[\p{C}\p{Z}]/u;

/** `repr(str)`: single quotes unless the text holds ' and no ", with Python's escapes. */
export function pyStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (code > 0x7f && NON_PRINTABLE.test(ch)) {
      const hex = code.toString(16);
      out +=
        code <= 0xff
          ? `\\x${hex.padStart(2, '0')}`
          : code <= 0xffff
            ? `\\u${hex.padStart(4, '0')}`
            : `\\U${hex.padStart(8, '0')}`;
    } else out += ch;
  }
  return out + quote;
}

/** `repr()` of a value held in a field of type `t` (inside a list or a dumped model). */
function pyRepr(value: unknown, t: PyType, path: string): string {
  if (value === null || value === undefined) {
    if (t === 'any' || (typeof t === 'object' && 'optional' in t)) return 'None';
    throw new PyTypeError(path, 'present');
  }
  if (t === 'any') return pyRepr(value, anyType(value), path);
  if (t === 'str') {
    if (typeof value !== 'string') throw new PyTypeError(path, 'a string');
    return pyStrRepr(value);
  }
  if (t === 'int') return pyIntRepr(value, path);
  if (t === 'float') {
    if (typeof value !== 'number') throw new PyTypeError(path, 'a number');
    return pyFloatRepr(value);
  }
  if (t === 'bool') {
    if (typeof value !== 'boolean') throw new PyTypeError(path, 'a boolean');
    return value ? 'True' : 'False';
  }
  if ('optional' in t) return pyRepr(value, t.optional, path);
  if ('list' in t) {
    if (!Array.isArray(value)) throw new PyTypeError(path, 'a list');
    return `[${value.map((v, i) => pyRepr(v, t.list, `${path}[${i}]`)).join(', ')}]`;
  }
  const obj = asObject(value, path);
  return `{${t.model.map(([k, kt]) => `${pyStrRepr(k)}: ${pyRepr(obj[k], kt, `${path}.${k}`)}`).join(', ')}}`;
}

/** `str()` of a field value: a str is itself, anything else its repr. */
export function pyStr(value: unknown, t: PyType, path = ''): string {
  if (t === 'str' && typeof value === 'string') return value;
  return pyRepr(value, t, path);
}

/** `json.dumps(value)` with Python's defaults: ", " and ": " separators, ASCII only. */
export function pyJsonDumps(value: unknown, t: PyType, path = ''): string {
  if (value === null || value === undefined) {
    if (t === 'any' || (typeof t === 'object' && 'optional' in t)) return 'null';
    throw new PyTypeError(path, 'present');
  }
  if (t === 'any') return pyJsonDumps(value, anyType(value), path);
  if (t === 'str') {
    if (typeof value !== 'string') throw new PyTypeError(path, 'a string');
    return pyJsonString(value);
  }
  if (t === 'int') return pyIntRepr(value, path);
  if (t === 'float') {
    if (typeof value !== 'number') throw new PyTypeError(path, 'a number');
    return Number.isFinite(value)
      ? pyFloatRepr(value)
      : value > 0
        ? 'Infinity'
        : Number.isNaN(value)
          ? 'NaN'
          : '-Infinity';
  }
  if (t === 'bool') {
    if (typeof value !== 'boolean') throw new PyTypeError(path, 'a boolean');
    return value ? 'true' : 'false';
  }
  if ('optional' in t) return pyJsonDumps(value, t.optional, path);
  if ('list' in t) {
    if (!Array.isArray(value)) throw new PyTypeError(path, 'a list');
    return `[${value.map((v, i) => pyJsonDumps(v, t.list, `${path}[${i}]`)).join(', ')}]`;
  }
  const obj = asObject(value, path);
  return `{${t.model.map(([k, kt]) => `${pyJsonString(k)}: ${pyJsonDumps(obj[k], kt, `${path}.${k}`)}`).join(', ')}}`;
}

/** A JSON string as Python's json module writes it with ensure_ascii (UTF-16 units as \uXXXX). */
function pyJsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    const code = s.charCodeAt(i);
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (code < 0x20 || code > 0x7e) {
      out += code === 0x7f ? ch : `\\u${code.toString(16).padStart(4, '0')}`;
    } else out += ch;
  }
  return `${out}"`;
}

/** The type a JSON value has when a field is declared `Any`. */
function anyType(value: unknown): PyType {
  if (typeof value === 'string') return 'str';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isSafeInteger(value) ? 'int' : 'float';
  if (Array.isArray(value)) return { list: 'any' };
  if (typeof value === 'object' && value !== null)
    return { model: Object.keys(value).map((k) => [k, 'any'] as const) };
  throw new PyTypeError('', 'a JSON value');
}

function asObject(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new PyTypeError(path, 'an object');
  return value as Record<string, unknown>;
}
