// Unit: docs/cli.md against the commands as the CLI declares them (oclif.manifest.json, which
// scripts/build.mjs writes from cli/commands): every command has its section, every flag its row
// (short name and default included), the connection flags and --json are where the reference says
// they are, and each section's exit codes open as the command's own help says; and every flag
// mini-dockerd's help names is in the daemon's table.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { DAEMON_USAGE } from '../../core/daemon/daemon-options.js';

interface ManifestFlag {
  readonly name: string;
  readonly char?: string;
  readonly default?: unknown;
  readonly hidden?: boolean;
  readonly allowNo?: boolean;
  readonly helpGroup?: string;
}
interface ManifestCommand {
  readonly pluginName?: string;
  readonly description?: string;
  readonly enableJsonFlag?: boolean;
  readonly flags: Readonly<Record<string, ManifestFlag>>;
}

/** The flags every command takes to find the daemon (docs/cli.md, "Finding the daemon"). */
const CONNECTION_FLAGS = new Set(['host', 'tls', 'tlsverify', 'tlscacert', 'tlscert', 'tlskey']);

/** The text from a heading line to the next heading of the same or a higher level. */
function sectionOf(doc: string, heading: string): string | undefined {
  const start = doc.indexOf(`\n${heading}\n`);
  if (start < 0) return undefined;
  const level = heading.split(' ')[0]!;
  const rest = doc.slice(start + heading.length + 2);
  const next = rest.search(new RegExp(`^#{1,${level.length}} `, 'm'));
  return heading + '\n' + (next < 0 ? rest : rest.slice(0, next));
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const nameOf = (id: string): string => id.replaceAll(':', ' ');

describe('unit: docs/cli.md and the commands', async () => {
  const doc = await readFile(new URL('../../../docs/cli.md', import.meta.url), 'utf8');
  const manifest = JSON.parse(await readFile(new URL('../../../oclif.manifest.json', import.meta.url), 'utf8')) as { commands: Record<string, ManifestCommand> };
  const commands = Object.entries(manifest.commands).filter(([, c]) => c.pluginName === 'tiny-docker');
  const pluginsText = (sectionOf(doc, '## Plugins') ?? '') + (sectionOf(doc, '### `mini-docker plugins`') ?? '');
  /** Where a command is documented: its own section, or for `plugins` and `plugins …` the plugins parts. */
  const textOf = (id: string): string | undefined => (id === 'plugins' || id.startsWith('plugins:') ? pluginsText : sectionOf(doc, `### \`mini-docker ${nameOf(id)}\``));

  it('the manifest was read', () => {
    assert.ok(commands.length > 50, `${commands.length} commands`);
    assert.ok(commands.some(([id]) => id === 'run'));
  });

  it('every command has its section, and every section is a command', () => {
    const missing = commands.filter(([id]) => (id === 'plugins' ? !doc.includes('\n### `mini-docker plugins`\n') : textOf(id) === undefined) || (id.startsWith('plugins:') && !pluginsText.includes(`plugins ${id.slice('plugins:'.length)}`)));
    assert.deepEqual(missing.map(([id]) => nameOf(id)), [], 'commands docs/cli.md does not describe');
    const ids = new Set(commands.map(([id]) => nameOf(id)));
    const sections = [...doc.matchAll(/^### `mini-docker ([a-z ]+)`$/gm)].map((m) => m[1]!);
    assert.deepEqual(sections.filter((s) => !ids.has(s)), [], 'sections of commands that do not exist');
  });

  it('every flag has its row in its command\'s table, with its short name and its default', () => {
    const problems: string[] = [];
    for (const [id, command] of commands) {
      const text = textOf(id) ?? '';
      const rows = text.split('\n').filter((l) => l.startsWith('| `'));
      for (const flag of Object.values(command.flags)) {
        if (flag.hidden === true || CONNECTION_FLAGS.has(flag.name)) continue;
        if (flag.name === 'json' && flag.helpGroup === 'GLOBAL') continue; // below
        const long = new RegExp(`--(\\[no-\\])?${escape(flag.name)}([ \`,=]|$)`);
        if (id.startsWith('plugins:') || id === 'plugins') {
          if (!long.test(text)) problems.push(`${nameOf(id)} --${flag.name}: not described`);
          continue;
        }
        const row = rows.find((r) => long.test(r.split(' | ')[0]!));
        if (row === undefined) { problems.push(`${nameOf(id)} --${flag.name}: no row`); continue; }
        const head = row.split(' | ')[0]!;
        if (flag.char !== undefined && !head.includes(`-${flag.char}, --`)) problems.push(`${nameOf(id)} --${flag.name}: its short name -${flag.char} is not shown`);
        const d = flag.default;
        if (d !== undefined && d !== false && !(Array.isArray(d) && d.length === 0) && !row.includes(`(default: ${String(d)})`)) {
          problems.push(`${nameOf(id)} --${flag.name}: its default is not shown as (default: ${String(d)})`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  it('the connection flags are described once, in "Finding the daemon"', () => {
    const finding = sectionOf(doc, '## Finding the daemon') ?? '';
    for (const name of CONNECTION_FLAGS) assert.match(finding, new RegExp(`--${name}\\b`), `--${name}`);
    assert.ok(finding.includes('-H, --host'), '-H, --host');
    const without = commands.filter(([id, c]) => !id.startsWith('plugins') && ![...CONNECTION_FLAGS].every((f) => c.flags[f] !== undefined));
    assert.deepEqual(without.map(([id]) => nameOf(id)), [], 'every command but plugins takes the connection flags');
  });

  it('--json: the commands that take it are the ones "Output formats" lists, and their sections say so', () => {
    const outputFormats = sectionOf(doc, '## Output formats') ?? '';
    const bullet = /^\* `--json` \(oclif's JSON flag\) is on the commands that return data: (.*?)\. It prints/ms.exec(outputFormats);
    assert.ok(bullet, 'the --json bullet of "Output formats"');
    const listed = [...bullet[1]!.matchAll(/`([a-z ]+)`/g)].map((m) => m[1]!).sort();
    const withJson = commands.filter(([, c]) => c.enableJsonFlag === true).map(([id]) => nameOf(id)).sort();
    assert.deepEqual(listed, withJson);
    for (const [id, c] of commands) if (c.enableJsonFlag === true) assert.match(textOf(id) ?? '', /--json\b/, `${nameOf(id)}: its section mentions --json`);
  });

  it("each section's exit codes open as the command's own description says them", () => {
    for (const [id, c] of commands) {
      const own = /Exit codes:[^\n]*/.exec(c.description ?? '')?.[0];
      const documented = /Exit codes:[^\n]*/.exec(textOf(id) ?? '')?.[0];
      if (own === undefined) continue;
      assert.ok(documented, `${nameOf(id)}: its section says its exit codes`);
      const opening = own.split('(')[0]!.trim();
      assert.ok(documented.startsWith(opening), `${nameOf(id)}: "${documented}" does not open with "${opening}"`);
    }
  });

  it("every flag of mini-dockerd's help is in \"The daemon's flags\", with its short name", () => {
    const table = sectionOf(doc, "## The daemon's flags (`mini-dockerd`)") ?? '';
    const flags = [...DAEMON_USAGE.matchAll(/^ {2}(?:(-[a-zA-Z]), | {4})(--[a-z-]+)/gm)].map((m) => ({ short: m[1], long: m[2]! }));
    assert.ok(flags.length > 15, `the help was read (${flags.length} flags)`);
    for (const { short, long } of flags) {
      assert.match(table, new RegExp(`\`${short === undefined ? '' : `${short}, `}${escape(long)}[ \`]`), `mini-dockerd ${short ?? ''} ${long}`);
    }
  });
});
