// Unit: -e NAME resolution and --env-file parsing, as docker does them.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { environmentFrom, parseEnvFile, resolveEnv } from '../../cli/lib/env-flags.js';

describe('-e resolution', () => {
  const env = { FOO: 'bar', EMPTY: '' };

  it('keeps NAME=value as given, with = in the value', () => {
    assert.deepEqual(resolveEnv(['A=1', 'B=x=y', 'C='], env), ['A=1', 'B=x=y', 'C=']);
  });

  it('takes a bare NAME from the CLI environment, empty values included', () => {
    assert.deepEqual(resolveEnv(['FOO', 'EMPTY'], env), ['FOO=bar', 'EMPTY=']);
  });

  it('leaves out a bare NAME the CLI does not have', () => {
    assert.deepEqual(resolveEnv(['MISSING', 'A=1'], env), ['A=1']);
  });

  it('rejects an entry without a name', () => {
    assert.throws(() => resolveEnv(['=x'], env), /invalid environment variable: =x/);
  });
});

describe('--env-file', () => {
  it('skips blank lines and comments and resolves bare names', () => {
    assert.deepEqual(parseEnvFile('# comment\n\nA=1\n  B=2\r\nFOO\n#C=3\n', { FOO: 'bar' }), ['A=1', 'B=2', 'FOO=bar']);
    assert.deepEqual(parseEnvFile('SPACE=a b c\n', {}), ['SPACE=a b c'], 'spaces in a value are fine');
    assert.throws(() => parseEnvFile('export D=4\n', {}, 'envf'), /^Error: invalid env file \(envf\): variable 'export D' contains whitespaces$/);
  });

  it('puts env files before -e flags (later entries win in the container)', () => {
    const dir = mkdtempSync(join(process.env.TINY_DOCKER_TEST_SCRATCH ?? tmpdir(), 'cli-env-'));
    try {
      const file = join(dir, 'env');
      writeFileSync(file, 'A=from-file\nB=2\n');
      assert.deepEqual(environmentFrom([file], ['A=from-flag'], {}), ['A=from-file', 'B=2', 'A=from-flag']);
      assert.throws(() => environmentFrom([join(dir, 'nope')], [], {}), /no such file or directory/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
