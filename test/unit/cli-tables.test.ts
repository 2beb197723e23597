// Unit: the table renderers (docker's tabwriter layout, ps and images columns, formats).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerSummary, ImageSummary } from '../../cli/lib/api-types.js';
import { ellipsis, humanSize, shortId, timeAgo } from '../../cli/lib/human.js';
import { renderImages } from '../../cli/lib/images-view.js';
import { portsText, renderPs } from '../../cli/lib/ps-view.js';
import { cpuPercent, memoryUsage, renderStats, statsContext } from '../../cli/lib/stats-view.js';
import { renderTable } from '../../cli/lib/table.js';
import { renderTemplate } from '../../cli/lib/template.js';

const NOW = Date.parse('2026-11-28T16:10:00Z');
const ID1 = '26992886d8d94ab6bc3b5a9668afd46f'.repeat(2);
const ID2 = '9195b42c32f54b39a682b3294d188e12'.repeat(2);

const containers: ContainerSummary[] = [
  { Id: ID1, Names: ['/linux'], Image: 'linux', Command: '/bin/sh -c while true; do sleep 1; done', Created: NOW / 1000 - 8 * 60, State: 'running', Status: 'Up 8 minutes' },
  { Id: ID2, Names: ['/busybox'], Image: `sha256:${'b'.repeat(64)}`, Command: 'top -b', Created: NOW / 1000 - 3, State: 'exited', Status: 'Exited (0) 2 seconds ago', Labels: { a: '1' } },
];

describe('renderTable', () => {
  it('pads every column but the last to max(10, widest + 3)', () => {
    const out = renderTable([['A', 'LONGER HEADER', 'LAST'], ['x', 'y', 'z']]);
    assert.equal(out, 'A         LONGER HEADER   LAST\nx         y               z\n');
  });

  it('counts characters, not bytes (the ellipsis is one column)', () => {
    const out = renderTable([['"sleep 1000 1000 10…"', 'B'], ['é', 'C']]);
    assert.equal(out.split('\n')[1], `é${' '.repeat(23)}C`);
  });
});

describe('ps table', () => {
  it('has docker\'s columns, 12-hex ids and docker\'s cell texts', () => {
    const lines = renderPs(containers, { now: NOW }).split('\n');
    assert.equal(lines[0], 'CONTAINER ID   IMAGE          COMMAND                  CREATED         STATUS                     PORTS     NAMES');
    assert.equal(lines[1], '26992886d8d9   linux          "/bin/sh -c while tr…"   8 minutes ago   Up 8 minutes                         linux');
    assert.equal(lines[2], '9195b42c32f5   bbbbbbbbbbbb   "top -b"                 3 seconds ago   Exited (0) 2 seconds ago             busybox');
    assert.equal(lines[3], '');
  });

  it('shows published ports as docker does in PORTS ("0.0.0.0:8080->80/tcp, 443/tcp")', () => {
    assert.equal(portsText([{ IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }, { IP: '127.0.0.1', PrivatePort: 53, PublicPort: 5353, Type: 'udp' }, { PrivatePort: 443, Type: 'tcp' }]),
      '0.0.0.0:8080->80/tcp, 127.0.0.1:5353->53/udp, 443/tcp');
    const withPorts = renderPs([{ ...containers[0]!, Ports: [{ IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }] }], { now: NOW, format: 'table {{.Names}}\t{{.Ports}}' });
    assert.equal(withPorts, 'NAMES     PORTS\nlinux     0.0.0.0:8080->80/tcp\n');
  });

  it('prints only 12-char ids with -q, full ones with --no-trunc', () => {
    assert.equal(renderPs(containers, { now: NOW, quiet: true }), '26992886d8d9\n9195b42c32f5\n');
    assert.equal(renderPs(containers, { now: NOW, quiet: true, noTrunc: true }), `${ID1}\n${ID2}\n`);
    assert.match(renderPs(containers, { now: NOW, noTrunc: true }), /"\/bin\/sh -c while true; do sleep 1; done"/);
  });

  it('supports --format json, templates and table templates', () => {
    const json = renderPs(containers, { now: NOW, format: 'json' }).trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    assert.equal(json[0]!.ID, '26992886d8d9');
    assert.equal(json[1]!.Names, 'busybox');
    assert.equal(json[1]!.Labels, 'a=1');
    assert.equal(renderPs(containers, { now: NOW, format: '{{.ID}} {{.Names}} {{.State}}' }), '26992886d8d9 linux running\n9195b42c32f5 busybox exited\n');
    assert.equal(renderPs(containers, { now: NOW, format: 'table {{.ID}}\\t{{.Names}}' }), 'CONTAINER ID   NAMES\n26992886d8d9   linux\n9195b42c32f5   busybox\n');
  });

  it('prints just the header for no containers', () => {
    assert.equal(renderPs([], { now: NOW }), 'CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n');
  });
});

describe('images table', () => {
  const images: ImageSummary[] = [
    { Id: `sha256:${'5d785028d057'.padEnd(64, '0')}`, RepoTags: ['busybox:latest', 'mybox:v1'], Created: NOW / 1000 - 3 * 7 * 86400, Size: 2_130_000 },
    { Id: `sha256:${'2b8c'.padEnd(64, '1')}`, RepoTags: [], Created: NOW / 1000 - 7200, Size: 999 },
  ];

  it('shows one row per tag, <none> for untagged images, newest first, sizes like docker', () => {
    assert.equal(renderImages(images, { now: NOW }), [
      'REPOSITORY   TAG       IMAGE ID       CREATED       SIZE',
      '<none>       <none>    2b8c11111111   2 hours ago   999B',
      'busybox      latest    5d785028d057   3 weeks ago   2.13MB',
      'mybox        v1        5d785028d057   3 weeks ago   2.13MB',
      '',
    ].join('\n'));
  });

  it('lists each image id once with -q', () => {
    assert.equal(renderImages(images, { now: NOW, quiet: true }), '2b8c11111111\n5d785028d057\n');
  });
});

describe('stats rows', () => {
  it('computes CPU % from two readings and memory without the cache, like docker', () => {
    const sample = {
      id: ID1,
      name: '/web',
      cpu_stats: { cpu_usage: { total_usage: 3_000_000_000 }, system_cpu_usage: 20_000_000_000, online_cpus: 2 },
      precpu_stats: { cpu_usage: { total_usage: 2_000_000_000 }, system_cpu_usage: 10_000_000_000 },
      memory_stats: { usage: 40 * 1024 * 1024, limit: 128 * 1024 * 1024, stats: { cache: 8 * 1024 * 1024 } },
      pids_stats: { current: 3 },
      blkio_stats: { io_service_bytes_recursive: [{ op: 'read', value: 1_500_000 }, { op: 'write', value: 2000 }] },
    };
    assert.equal(cpuPercent(sample), 20);
    assert.equal(memoryUsage(sample), 32 * 1024 * 1024);
    const row = statsContext(sample, 'web');
    assert.deepEqual({ ...row }, {
      Container: 'web', ID: '26992886d8d9', Name: 'web', CPUPerc: '20.00%', MemUsage: '32MiB / 128MiB', MemPerc: '25.00%',
      NetIO: '0B / 0B', BlockIO: '1.5MB / 2kB', PIDs: '3',
    });
    assert.equal(renderStats([row]).split('\n')[0], 'CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O   BLOCK I/O     PIDS');
  });

  it('shows 0.00% when there is no previous reading', () => {
    assert.equal(cpuPercent({ cpu_stats: { cpu_usage: { total_usage: 5 }, system_cpu_usage: 10 } , precpu_stats: {} }), 0);
  });
});

describe('units and templates', () => {
  it('formats like go-units', () => {
    assert.equal(humanSize(0), '0B');
    assert.equal(humanSize(1234), '1.23kB');
    assert.equal(humanSize(4_261_000), '4.26MB');
    assert.equal(ellipsis('abcdef', 4), 'abc…');
    assert.equal(shortId(`sha256:${'ab'.repeat(32)}`), 'abababababab');
    assert.equal(timeAgo(NOW - 90_000, NOW), 'About a minute ago');
  });

  it('reads field paths, json and missing keys like Go templates', () => {
    const data = { State: { Running: true, ExitCode: 0 }, Config: { Cmd: ['sh', '-c'], Labels: { a: 'b' } } };
    assert.equal(renderTemplate('{{.State.Running}}', data), 'true');
    assert.equal(renderTemplate('{{ .State.ExitCode }}/{{.Config.Cmd}}', data), '0/[sh -c]');
    assert.equal(renderTemplate('{{json .Config.Cmd}}', data), '["sh","-c"]');
    assert.equal(renderTemplate('{{.Config.Labels}}', data), 'map[a:b]');
    assert.equal(renderTemplate('{{index .Config.Labels "a"}} {{join .Config.Cmd ","}} {{upper "x"}}', data), 'b sh,-c X');
    assert.equal(renderTemplate('{{.Nope}}', data), '<no value>');
    assert.equal(renderTemplate('json', { a: 1 }), '{"a":1}', 'json alone is {{json .}}, as docker info --format json');
    assert.throws(() => renderTemplate('{{.State', data), /unclosed action/);
  });

  it('runs range, if, with, else and eq like Go templates', () => {
    const data = {
      Config: { Env: ['A=1', 'B=2'], Labels: { z: '26', a: '1' } },
      Mounts: [{ Source: '/h', Destination: '/c' }],
      State: { Running: false, ExitCode: 0 },
      Empty: [],
    };
    assert.equal(renderTemplate('{{range .Config.Env}}{{.}};{{end}}', data), 'A=1;B=2;');
    assert.equal(renderTemplate('{{range .Config.Env}}{{println .}}{{end}}', data), 'A=1\nB=2\n');
    assert.equal(renderTemplate('{{range .Mounts}}{{.Source}}:{{.Destination}}{{end}}', data), '/h:/c');
    assert.equal(renderTemplate('{{range .Config.Labels}}{{.}} {{end}}', data), '1 26 ', 'a map\'s values in key order');
    assert.equal(renderTemplate('{{range .Empty}}x{{else}}none{{end}}', data), 'none');
    assert.equal(renderTemplate('{{if .State.Running}}up{{else}}down ({{.State.ExitCode}}){{end}}', data), 'down (0)');
    assert.equal(renderTemplate('{{if eq .State.ExitCode 0}}ok{{end}}|{{if ne .State.ExitCode 0}}bad{{end}}', data), 'ok|');
    assert.equal(renderTemplate('{{with .State}}{{.ExitCode}}{{end}}{{with .Nope}}x{{else}}-{{end}}', data), '0-');
    assert.equal(renderTemplate('{{range .Mounts}}{{if .Source}}{{.Source}}{{end}}{{end}}', data), '/h', 'nested blocks');
    assert.throws(() => renderTemplate('{{range .Mounts}}x', data), /has no \{\{end\}\}/);
    assert.throws(() => renderTemplate('x{{end}}', data), /unexpected \{\{end\}\}/);
  });
});
