// Settings the stack refuses with a clear message, and the context → settings mapping.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { App } from 'aws-cdk-lib';
import { CONTEXT_KEYS, settingsFromContext } from '../lib/config';
import { FloodgateStack } from '../lib/floodgate-stack';
import { TMP, makeStack } from './helpers';

describe('guards', () => {
  it('CLOUDFRONT scope outside us-east-1 throws a clear error', () => {
    assert.throws(() => makeStack({ scope: 'CLOUDFRONT' }, 'eu-west-1'),
      /scope CLOUDFRONT requires the stack region to be us-east-1.*region is eu-west-1/);
  });

  it('CLOUDFRONT scope in an environment-agnostic stack throws too', () => {
    const app = new App({ outdir: path.join(TMP, 'agnostic') });
    assert.throws(() => new FloodgateStack(app, 'Floodgate', { scope: 'CLOUDFRONT', lambdaZip: path.join(TMP, 'bootstrap.zip') }),
      /requires the stack region to be us-east-1.*unresolved/);
  });

  it('CLOUDFRONT scope in us-east-1 is accepted', () => {
    assert.doesNotThrow(() => makeStack({ scope: 'CLOUDFRONT' }, 'us-east-1'));
  });

  it('a missing Lambda zip fails synth and says how to build it', () => {
    assert.throws(() => makeStack({ lambdaZip: path.join(TMP, 'nope', 'bootstrap.zip') }),
      /Lambda zip not found at .*nope.*bash scripts\/build-lambda\.sh.*lambdaZip/);
  });

  it('a missing config file fails synth', () => {
    assert.throws(() => makeStack({ configPath: path.join(TMP, 'missing.toml') }), /config not found/);
  });

  it('a new log bucket needs a web ACL to log', () => {
    assert.throws(() => makeStack({ createWebAcl: false }), /needs a web ACL to log/);
  });

  it('webAclArn and createWebAcl are exclusive', () => {
    assert.throws(() => makeStack({ createWebAcl: true, webAclArn: 'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/x/y' }),
      /either webAclArn .* or createWebAcl/);
  });

  it('needs at least one source and a valid web ACL ARN', () => {
    assert.throws(() => makeStack({ sources: [] }), /sources must name at least one/);
    assert.throws(() => makeStack({ webAclArn: 'arn:aws:wafv2:eu-west-1:123456789012:regional/ipset/x/y' }), /is not a WAFv2 web ACL ARN/);
  });

  it('rejects out-of-range numbers and bad prefixes', () => {
    assert.throws(() => makeStack({ timeoutSeconds: 901 }), /timeoutSeconds must be an integer in 10\.\.900/);
    assert.throws(() => makeStack({ reservedConcurrency: 0 }), /reservedConcurrency/);
    assert.throws(() => makeStack({ batchSize: 100, maxBatchingWindowSeconds: 0 }), /batchSize above 10 needs/);
    assert.throws(() => makeStack({ eventSourceMaxConcurrency: 1 }), /eventSourceMaxConcurrency/);
    assert.throws(() => makeStack({ functionLogRetentionDays: 31 }), /not a CloudWatch Logs retention/);
    assert.throws(() => makeStack({ reportsPrefix: 'reports' }), /reportsPrefix must end with \//);
    assert.throws(() => makeStack({ stateKey: 'reports/state' }), /must not be under reportsPrefix/);
    assert.throws(() => makeStack({ logPrefixes: ['logs/*'] }), /must not contain \*/);
    assert.throws(() => makeStack({ logPrefixes: ['a/', 'a/'] }), /must not repeat/);
    assert.throws(() => makeStack({ sources: ['cloudfront-realtime'], realtimeShards: 0 }), /realtimeShards must be an integer in 1\.\.500/);
    assert.throws(() => makeStack({ sources: ['cloudfront-realtime'], realtimeParallelization: 11 }), /realtimeParallelization must be an integer in 1\.\.10/);
    assert.throws(() => makeStack({ sources: ['cloudfront-realtime'], realtimeParallelization: 2 }), /realtimeParallelization=2: must be 1\. floodgate counts each Kinesis record once/);
    assert.throws(() => makeStack({ budgetAmount: 0 }), /budgetAmount must be a positive number/);
    assert.throws(() => makeStack({ alarmEmail: 'ops' }), /alarmEmail=ops is not an e-mail address/);
  });

  it('the committed config stays small enough to travel inline', () => {
    const size = fs.statSync(path.resolve(__dirname, '..', 'config', 'floodgate.toml')).size;
    assert.ok(size < 3072, `config is ${size} bytes`);
  });
});

describe('context', () => {
  const from = (ctx: Record<string, unknown>) => settingsFromContext((k) => ctx[k]);

  it('leaves everything unset without context (stack defaults apply)', () => {
    const s = from({});
    assert.deepEqual(Object.entries(s).filter(([, v]) => v !== undefined), []);
  });

  it('parses strings from -c key=value', () => {
    const s = from({
      scope: 'cloudfront', logBucketName: 'logs', logPrefix: 'a/, b/', logSuffix: '.gz,.log', createWebAcl: 'false',
      architecture: 'arm64', memorySize: '2048', timeoutSeconds: '120', reservedConcurrency: 'none', dryRun: 'false',
      batchSize: '100', maxBatchingWindowSeconds: '20', budgetAmount: '35.5', alarmEmail: 'ops@example.com',
    });
    assert.equal(s.scope, 'CLOUDFRONT');
    assert.deepEqual(s.logPrefixes, ['a/', 'b/']);
    assert.deepEqual(s.logSuffixes, ['.gz', '.log']);
    assert.equal(s.createWebAcl, false);
    assert.equal(s.architecture, 'arm64');
    assert.equal(s.memorySize, 2048);
    assert.equal(s.timeoutSeconds, 120);
    assert.equal(s.reservedConcurrency, null);
    assert.equal(s.dryRun, false);
    assert.equal(s.budgetAmount, 35.5);
    assert.equal(s.alarmEmail, 'ops@example.com');
  });

  it('an empty logSuffix disables the suffix filter; an empty logPrefix is kept so the stack can refuse it with its reason', () => {
    const s = from({ logSuffix: '', logPrefix: '' });
    assert.deepEqual(s.logSuffixes, []);
    assert.deepEqual(s.logPrefixes, ['']);
    assert.throws(() => makeStack({ logBucketName: 'b', logPrefixes: s.logPrefixes }), /would read every object of the bucket/);
  });

  it('parses the source, IP set, streaming, notification and hardening keys', () => {
    const s = from({
      sources: 'S3, cloudfront-realtime', ipSetsPerVersion: '5', s3Events: 'EventBridge', streamLogRetentionDays: '14',
      distributionId: 'E2ABC', realtimeShards: '2', realtimeParallelization: '3', realtimeFields: 'timestamp,c-ip',
      logsDelivery: 'Kinesis', logsShards: '3', allowlistFiles: 'a.txt, b.txt', breakGlassRoleArn: 'arn:aws:iam::123456789012:role/x', notifications: 'false',
      notifyEmail: 'n@example.com', notifyTopicArn: 'arn:aws:sns:eu-west-1:123456789012:t', budget: 'no',
    });
    assert.deepEqual(s.sources, ['s3', 'cloudfront-realtime']);
    assert.equal(s.ipSetsPerVersion, 5);
    assert.equal(s.s3Events, 'eventbridge');
    assert.equal(s.streamLogRetentionDays, 14);
    assert.equal(s.distributionId, 'E2ABC');
    assert.equal(s.realtimeShards, 2);
    assert.equal(s.realtimeParallelization, 3);
    assert.deepEqual(s.realtimeFields, ['timestamp', 'c-ip']);
    assert.equal(s.logsDelivery, 'kinesis');
    assert.equal(s.logsShards, 3);
    assert.deepEqual(s.allowlistFiles, ['a.txt', 'b.txt']);
    assert.equal(s.breakGlassRoleArn, 'arn:aws:iam::123456789012:role/x');
    assert.equal(s.notifications, false);
    assert.equal(s.notifyEmail, 'n@example.com');
    assert.equal(s.notifyTopicArn, 'arn:aws:sns:eu-west-1:123456789012:t');
    assert.equal(s.budget, false);
    assert.equal(from({ reservedConcurrency: '7' }).reservedConcurrency, 7);
    assert.throws(() => from({ sources: 's3,kafka' }), /context sources=kafka: expected a comma-separated list of s3, waf-cloudwatch/);
    assert.throws(() => from({ s3Events: 'sns' }), /context s3Events=sns: expected one of notification, eventbridge/);
    assert.throws(() => from({ logsDelivery: 'firehose' }), /context logsDelivery=firehose: expected one of lambda, kinesis/);
  });

  it('rejects bad values with the key name', () => {
    assert.throws(() => from({ scope: 'GLOBAL' }), /context scope=GLOBAL: expected one of REGIONAL, CLOUDFRONT/);
    assert.throws(() => from({ dryRun: 'maybe' }), /context dryRun=maybe/);
    assert.throws(() => from({ memorySize: 'lots' }), /context memorySize=lots: expected a number/);
  });

  it('every documented context key is read', () => {
    const seen = new Set<string>();
    settingsFromContext((k) => { seen.add(k); return undefined; });
    assert.deepEqual([...seen].sort(), [...CONTEXT_KEYS].sort());
    const doc = fs.readFileSync(path.resolve(__dirname, '..', '..', 'docs', 'deploy.md'), 'utf8');
    for (const k of [...CONTEXT_KEYS, 'stackName', 'account', 'region']) {
      assert.ok(doc.includes(`\`${k}\``), `docs/deploy.md does not document context key ${k}`);
    }
  });
});
