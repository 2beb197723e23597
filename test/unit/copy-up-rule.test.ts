// Unit: which volumes a copy-up fills from the image (core/engine/copy-up-rule.ts): never one
// backed by a device of the user's, whose undo (emptying the volume) would delete the user's files.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fillsFromImage } from '../../core/engine/copy-up-rule.js';

describe('unit: copy-up rule', () => {
  it('a plain volume (no options, or options without a device) is filled', () => {
    assert.equal(fillsFromImage({}, false), true);
    assert.equal(fillsFromImage({ o: 'ro' }, false), true);
  });

  it('a bound host folder, a block device or a named tmpfs (a device option) is not', () => {
    assert.equal(fillsFromImage({ type: 'none', o: 'bind', device: '/srv/data' }, false), false);
    assert.equal(fillsFromImage({ type: 'ext4', device: '/dev/loop7' }, true), false);
    assert.equal(fillsFromImage({ type: 'tmpfs', device: 'tmpfs' }, true), false);
    assert.equal(fillsFromImage({ device: '' }, false), false, 'an empty device is still one');
  });

  it('nor a volume its driver mounts only while a container runs (a tmpfs without device)', () => {
    assert.equal(fillsFromImage({ type: 'tmpfs', o: 'size=64m' }, true), false);
  });
});
