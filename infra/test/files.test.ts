// Synth-time file checks: ban.max_entries from the TOML config, allowlist file validation, and the
// Lambda environment size estimate.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { App, Stack } from 'aws-cdk-lib';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { EnvBudget, UNKNOWN_TOKEN_LENGTH } from '../lib/env';
import { isAddressOrCidr, readBanMaxEntries, validateAllowlistFile } from '../lib/files';
import { TMP } from './helpers';

describe('readBanMaxEntries', () => {
  it('reads [ban] max_entries, with underscores and comments', () => {
    assert.equal(readBanMaxEntries('[ban]\nmax_entries = 30_000 # per version\n'), 30000);
    assert.equal(readBanMaxEntries('[engine]\nx = 1\n[ ban ]\n  max_entries=12\n[allow]\n'), 12);
  });

  it('ignores sub-tables, arrays of tables, other keys and comments', () => {
    assert.equal(readBanMaxEntries('[ban.ranges]\nmax_entries = 5\n'), undefined);
    assert.equal(readBanMaxEntries('[[rules]]\nmax_entries = 5\n[ban]\nduration = "1h"\n'), undefined);
    assert.equal(readBanMaxEntries('[ban]\n# max_entries = 5\nname = "max_entries = 7"\n'), undefined);
    assert.equal(readBanMaxEntries('max_entries = 5\n'), undefined);
  });

  it('understands dotted keys and inline tables', () => {
    assert.equal(readBanMaxEntries('ban.max_entries = 40000\n'), 40000);
    assert.equal(readBanMaxEntries('ban = { duration = "1h", max_entries = 20000 }\n'), 20000);
  });

  it('refuses a value that is not a positive integer', () => {
    assert.throws(() => readBanMaxEntries('[ban]\nmax_entries = "lots"\n', 'x.toml'), /x\.toml: ban\.max_entries must be a positive integer/);
    assert.throws(() => readBanMaxEntries('[ban]\nmax_entries = -1\n'), /positive integer/);
  });
});

describe('allowlist files', () => {
  it('accepts IPv4/IPv6 addresses and CIDRs', () => {
    for (const ok of ['192.0.2.1', '192.0.2.0/24', '0.0.0.0/0', '2001:db8::1', '2001:db8::/32', '::/0', '::ffff:192.0.2.1']) {
      assert.ok(isAddressOrCidr(ok), ok);
    }
    for (const bad of ['192.0.2.0/33', '2001:db8::/129', '192.0.2', 'example.com', '192.0.2.1/', '192.0.2.1/ 24', 'fe80::1%eth0', '10.0.0.0/8 # office']) {
      assert.ok(!isAddressOrCidr(bad), bad);
    }
  });

  it('skips blank lines and # comments (whole-line or trailing, as floodgate does) and counts entries', () => {
    const f = path.join(TMP, 'ok-allow.txt');
    fs.writeFileSync(f, '# CloudFront origin-facing\n\n  130.176.0.0/18\n2600:9000:1000::/36\r\n   # indented comment\n203.0.113.0/24 # office\n');
    assert.equal(validateAllowlistFile(f), 3);
  });

  it('a bad line is an error naming the file and the line number', () => {
    const f = path.join(TMP, 'bad-allow.txt');
    fs.writeFileSync(f, '# header\n10.0.0.0/8\n10.0.0.0/40\n');
    assert.throws(() => validateAllowlistFile(f), (e: Error) =>
      e.message.includes(f) && /line 3: "10\.0\.0\.0\/40" is not an IPv4\/IPv6 address or CIDR/.test(e.message));
  });

  it('a missing file is an error', () => {
    assert.throws(() => validateAllowlistFile(path.join(TMP, 'nope.txt')), /allowlist file not found/);
  });
});

describe('Lambda environment size estimate', () => {
  const stack = new Stack(new App({ outdir: path.join(TMP, 'env.out') }), 'Env');
  const set = new wafv2.CfnIPSet(stack, 'S', { scope: 'REGIONAL', ipAddressVersion: 'IPV4', addresses: [] });

  it('counts literals exactly, hinted tokens by their hint, other tokens generously', () => {
    const b = new EnvBudget();
    assert.equal(b.size({ A: 'xyz' }), 4);
    const v = `name:${set.attrId}`;
    assert.equal(b.length(v), 5 + UNKNOWN_TOKEN_LENGTH);
    b.hint(set.attrId, 36);
    assert.equal(b.length(v), 5 + 36);
    assert.equal(b.length(`${v},${v}`), 2 * 41 + 1);
  });

  it('refuses an environment over 4 KB, naming the largest variables', () => {
    const b = new EnvBudget();
    assert.doesNotThrow(() => b.assertFits({ A: 'x'.repeat(4000) }));
    assert.throws(() => b.assertFits({ BIG: 'x'.repeat(4000), SMALL: 'y'.repeat(100) }), /about 4108 bytes, over AWS's limit of 4096 .*BIG ~4003 B/);
  });
});
