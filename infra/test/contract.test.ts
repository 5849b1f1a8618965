// Contracts with the outside: logical ids an existing deployment depends on (a changed id replaces
// the resource: a new empty state bucket, a failed re-create of the named log bucket), and the
// Lambda environment table in docs/deploy.md (the Rust side reads exactly those names).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { FloodgateStackProps } from '../lib/floodgate-stack';
import { TMP, envOf, synth } from './helpers';

/** Logical ids of the resources the first release deployed (default and existing-bucket stacks). */
const LEGACY_IDS = [
  'IPv4Set', 'IPv6Set', 'WebAcl', 'WafLogging', 'LogBucketCC3B17E8', 'LogBucketPolicy900DBE48', 'LogBucketNotificationsF250B1AC',
  'StateBucket446E0578', 'StateBucketPolicyA0A44AF2', 'DeadLetterQueue9F481546', 'LogQueue827B732D', 'FunctionLogsAE28C13D',
  'FunctionRole111A5701', 'Function76856677', 'FunctionSqsEventSourceFloodgateLogQueue0493702219BF5EAD', 'Schedule83A77FD1',
  'MonitoringAlarmTopicAF62D4F1', 'MonitoringFunctionErrors40FB895E', 'MonitoringFunctionThrottles03791191',
  'MonitoringDlqNotEmptyE4E97E51', 'MonitoringQueueBacklog21384D4A', 'MonitoringSyncFailuresA51B4B7E',
];

const DOC = fs.readFileSync(path.resolve(__dirname, '..', '..', 'docs', 'deploy.md'), 'utf8');

describe('contract', () => {
  it('every resource of the first release keeps its logical id', () => {
    const ids = new Set(Object.keys(synth().toJSON().Resources));
    for (const id of LEGACY_IDS) assert.ok(ids.has(id), `logical id ${id} changed`);
    const existing = new Set(Object.keys(synth({ logBucketName: 'my-logs', logPrefixes: ['p/'], alarmEmail: 'a@example.com' }).toJSON().Resources));
    for (const id of ['LogBucketNotificationsF250B1AC', 'StateBucket446E0578', 'LogQueue827B732D', 'Function76856677']) assert.ok(existing.has(id), id);
  });

  it('docs/deploy.md "Lambda environment" lists every variable any variant sets', () => {
    const allow = path.join(TMP, 'contract-allow.txt');
    fs.writeFileSync(allow, '192.0.2.0/24\n');
    const big = path.join(TMP, 'contract-big.toml');
    fs.writeFileSync(big, `[ban]\nmax_entries = 10000\n${'# padding\n'.repeat(400)}`);
    const variants: [FloodgateStackProps, string?][] = [
      [{}],
      [{ configPath: big, allowlistFiles: [allow] }],
      [{ scope: 'CLOUDFRONT', sources: ['waf-cloudwatch', 'cloudfront-cloudwatch', 'cloudfront-realtime'], distributionId: 'E2ABC' }, 'us-east-1'],
    ];
    const names = new Set(variants.flatMap(([p, r]) => Object.keys(envOf(synth(p, r)))));
    const section = DOC.slice(DOC.indexOf('### Lambda environment'));
    const table = section.slice(0, section.indexOf('\n## '));
    for (const n of names) assert.ok(table.includes(`\`${n}\``), `docs/deploy.md Lambda environment table lacks ${n}`);
    assert.ok(names.size >= 20, [...names].join(','));
  });
});
