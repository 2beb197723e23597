/**
 * A minimal Go-template reader for `--format`: literal text with `{{.Field.Path}}`, `{{.}}`,
 * `{{json .X}}`, `{{upper .X}}`, `{{lower .X}}`, `{{title .X}}`, `{{len .X}}`, `{{join .X ", "}}`,
 * `{{index .X "key"}}`, `{{eq .X "v"}}`, `{{ne .X "v"}}`, `{{print …}}`, `{{println …}}`, and the blocks `{{range .X}}…{{else}}…{{end}}`
 * (a list, or a map's values by key), `{{if .X}}…{{else}}…{{end}}` and `{{with .X}}…{{end}}` with Go's
 * truth (false, 0, "", empty, nil and missing are false). Values print the way Go's fmt prints them
 * (maps as `map[k:v]`, lists as `[a b]`, a missing field as `<no value>`). `\t` and `\n` written
 * literally in the flag become tabs and newlines, like docker's formatter.
 */

type Token = { readonly kind: 'text'; readonly text: string } | { readonly kind: 'action'; readonly words: readonly string[] };

/** The parsed template: text, actions, and blocks with their bodies. */
type Node =
  | Token
  | { readonly kind: 'block'; readonly keyword: 'range' | 'if' | 'with'; readonly words: readonly string[]; readonly body: readonly Node[]; readonly otherwise: readonly Node[] };

const BLOCKS: ReadonlySet<string> = new Set(['range', 'if', 'with']);

/** Builds the block tree; `{{end}}` closes and `{{else}}` splits the innermost block. */
function parse(tokens: readonly Token[]): Node[] {
  let i = 0;
  const list = (inBlock: boolean): { nodes: Node[]; stop: 'end' | 'else' | 'eof' } => {
    const nodes: Node[] = [];
    while (i < tokens.length) {
      const t = tokens[i++]!;
      const keyword = t.kind === 'action' ? t.words[0] : undefined;
      if (t.kind === 'action' && (keyword === 'end' || keyword === 'else')) {
        if (!inBlock) throw new Error(`template: unexpected {{${keyword}}}`);
        return { nodes, stop: keyword };
      }
      if (t.kind === 'action' && keyword !== undefined && BLOCKS.has(keyword)) {
        if (t.words.length < 2) throw new Error(`template: missing value for ${keyword}`);
        const body = list(true);
        const otherwise = body.stop === 'else' ? list(true) : { nodes: [], stop: body.stop };
        if (otherwise.stop !== 'end') throw new Error(`template: unexpected EOF: {{${keyword}}} has no {{end}}`);
        nodes.push({ kind: 'block', keyword: keyword as 'range' | 'if' | 'with', words: t.words.slice(1), body: body.nodes, otherwise: otherwise.nodes });
        continue;
      }
      nodes.push(t);
    }
    return { nodes, stop: 'eof' };
  };
  return list(false).nodes;
}

/** Go templates' truth: false, 0, "", nil, an empty list or map, and a missing value are false. */
function truthy(value: unknown): boolean {
  if (value === MISSING || value === undefined || value === null || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

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
    case 'print':
      return args.map(goString).join('');
    case 'println':
      return `${args.map(goString).join(' ')}\n`;
    case 'eq':
      return first === second;
    case 'ne':
      return first !== second;
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
  private readonly tree: readonly Node[];

  /** `json` alone means `{{json .}}`, as with the docker CLI (`docker info --format json`). */
  constructor(source: string) {
    this.tokens = tokenize(unescapeFormat(source === 'json' ? '{{json .}}' : source));
    this.tree = parse(this.tokens);
  }

  /** The field paths used (`.ID`, `.Names`): a table header is made from them. */
  get fields(): readonly string[] {
    return this.tokens.flatMap((t) => (t.kind === 'action' ? t.words.filter((w) => w.startsWith('.') && w !== '.') : []));
  }

  render(data: Value): string {
    return renderNodes(this.tree, data);
  }
}

function renderNodes(nodes: readonly Node[], data: Value): string {
  let out = '';
  for (const n of nodes) {
    if (n.kind === 'text') out += n.text;
    else if (n.kind === 'action') out += goString(evaluate(data, n.words));
    else {
      const value = evaluate(data, n.words);
      if (n.keyword === 'if') out += renderNodes(truthy(value) ? n.body : n.otherwise, data);
      else if (n.keyword === 'with') out += truthy(value) ? renderNodes(n.body, value) : renderNodes(n.otherwise, data);
      else {
        const items = Array.isArray(value) ? value
          : value !== null && typeof value === 'object' ? Object.entries(value as Record<string, Value>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v) : [];
        out += items.length > 0 ? items.map((item) => renderNodes(n.body, item)).join('') : renderNodes(n.otherwise, data);
      }
    }
  }
  return out;
}

/** Renders one value through a template (`inspect -f`). */
export function renderTemplate(source: string, data: Value): string {
  return new Template(source).render(data);
}
