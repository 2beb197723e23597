/**
 * A minimal Go-template reader for `--format`: literal text with `{{.Field.Path}}`, `{{.}}`,
 * `{{json .X}}`, `{{upper .X}}`, `{{lower .X}}`, `{{title .X}}`, `{{len .X}}`, `{{join .X ", "}}` and
 * `{{index .X "key"}}`. Values print the way Go's fmt prints them (maps as `map[k:v]`, lists as
 * `[a b]`, a missing field as `<no value>`). `\t` and `\n` written literally in the flag become tabs and
 * newlines, like docker's formatter.
 */

type Token = { readonly kind: 'text'; readonly text: string } | { readonly kind: 'action'; readonly words: readonly string[] };

const MISSING = Symbol('missing');
type Value = unknown;

/** Turns docker's escaped `\t` and `\n` into real characters. */
export function unescapeFormat(format: string): string {
  return format.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}

function splitWords(action: string): string[] {
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(action)) !== null) words.push(m[1] !== undefined ? JSON.stringify(JSON.parse(`"${m[1]}"`)) : m[2]!);
  return words;
}

function tokenize(template: string): Token[] {
  const tokens: Token[] = [];
  let rest = template;
  while (rest !== '') {
    const open = rest.indexOf('{{');
    if (open === -1) {
      tokens.push({ kind: 'text', text: rest });
      break;
    }
    if (open > 0) tokens.push({ kind: 'text', text: rest.slice(0, open) });
    const close = rest.indexOf('}}', open);
    if (close === -1) throw new Error(`template parsing error: unclosed action in ${JSON.stringify(template)}`);
    const inner = rest.slice(open + 2, close).replace(/^-\s/, '').replace(/\s-$/, '').trim();
    tokens.push({ kind: 'action', words: splitWords(inner) });
    rest = rest.slice(close + 2);
  }
  return tokens;
}

function lookup(data: Value, path: string): Value {
  if (path === '.') return data;
  let current: Value = data;
  for (const key of path.slice(1).split('.')) {
    if (current === null || typeof current !== 'object' || !(key in current)) return MISSING;
    current = (current as Record<string, Value>)[key];
  }
  return current;
}

function argument(data: Value, word: string): Value {
  if (word.startsWith('.')) return lookup(data, word);
  if (word.startsWith('"')) return JSON.parse(word) as string;
  if (/^-?\d+(\.\d+)?$/.test(word)) return Number(word);
  if (word === 'true' || word === 'false') return word === 'true';
  throw new Error(`template: function "${word}" not defined`);
}

/** Go's %v. */
export function goString(value: Value): string {
  if (value === MISSING || value === undefined) return '<no value>';
  if (value === null) return '<nil>';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map(goString).join(' ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, Value>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `map[${entries.map(([k, v]) => `${k}:${goString(v)}`).join(' ')}]`;
  }
  return String(value);
}

function call(fn: string, args: readonly Value[]): Value {
  const [first, second] = args;
  switch (fn) {
    case 'json':
      return JSON.stringify(first === MISSING ? null : first);
    case 'upper':
      return goString(first).toUpperCase();
    case 'lower':
      return goString(first).toLowerCase();
    case 'title':
      return goString(first).replace(/\b\w/g, (c) => c.toUpperCase());
    case 'len':
      if (Array.isArray(first) || typeof first === 'string') return first.length;
      if (first && typeof first === 'object') return Object.keys(first).length;
      throw new Error('template: len of a value that has no length');
    case 'join':
      if (!Array.isArray(first)) throw new Error('template: join needs a list');
      return first.map(goString).join(typeof second === 'string' ? second : '');
    case 'index':
      if (first && typeof first === 'object') {
        const key = typeof second === 'number' ? second : String(second);
        const v = (first as Record<string, Value>)[key];
        return v === undefined ? MISSING : v;
      }
      return MISSING;
    default:
      throw new Error(`template: function "${fn}" not defined`);
  }
}

function evaluate(data: Value, words: readonly string[]): Value {
  if (words.length === 0) throw new Error('template: empty action');
  const [head, ...rest] = words;
  if (head!.startsWith('.') || head!.startsWith('"')) {
    if (rest.length > 0) throw new Error(`template: can't give arguments to a non-function ${head}`);
    return argument(data, head!);
  }
  return call(head!, rest.map((w) => argument(data, w)));
}

/** A parsed template, reusable for each row. */
export class Template {
  private readonly tokens: readonly Token[];

  /** `json` alone means `{{json .}}`, as with the docker CLI (`docker info --format json`). */
  constructor(source: string) {
    this.tokens = tokenize(unescapeFormat(source === 'json' ? '{{json .}}' : source));
  }

  /** The field paths used (`.ID`, `.Names`): a table header is made from them. */
  get fields(): readonly string[] {
    return this.tokens.flatMap((t) => (t.kind === 'action' ? t.words.filter((w) => w.startsWith('.') && w !== '.') : []));
  }

  render(data: Value): string {
    return this.tokens.map((t) => (t.kind === 'text' ? t.text : goString(evaluate(data, t.words)))).join('');
  }
}

/** Renders one value through a template (`inspect -f`). */
export function renderTemplate(source: string, data: Value): string {
  return new Template(source).render(data);
}
