// Rules AWS enforces at deploy or run time that a synth (or moto) does not: each test asserts the
// rule on the template, so the mistake it describes fails `npm test` instead of a real deployment.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { FloodgateStackProps } from '../lib/floodgate-stack';
import {
  ACCOUNT, TMP, asList, byPrefix, envOf, floodgateFunction, functionStatements, makeStack, only, policyDenies, policyStatements,
  queues, symbolicArn, synth,
} from './helpers';

const t = synth();
const EXISTING = { logBucketName: 'my-alb-logs', logPrefixes: ['alb/'] };
const ACL = `arn:aws:wafv2:eu-west-1:${ACCOUNT}:regional/webacl/site/abc`;
const joined = (v: any) => JSON.stringify(v);

describe('B1 alarm topic policy', () => {
  const statements = (tmpl: Template) => (Object.entries(tmpl.findResources('AWS::SNS::TopicPolicy')) as [string, any][])
    .filter(([id]) => id.startsWith('MonitoringAlarmTopic'))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);

  it('lets CloudWatch alarms of this account and region publish (the custom policy replaced the default one)', () => {
    const cw = statements(t).find((s) => s.Principal?.Service === 'cloudwatch.amazonaws.com');
    assert.ok(cw, 'no statement for cloudwatch.amazonaws.com');
    assert.equal(cw.Effect, 'Allow');
    assert.equal(cw.Action, 'sns:Publish');
    assert.deepEqual(cw.Condition.StringEquals, { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } });
    assert.deepEqual(cw.Condition.ArnLike['aws:SourceArn'], { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':alarm:*']] });
  });

  it('lets AWS Budgets of this account publish', () => {
    const b = statements(t).find((s) => s.Principal?.Service === 'budgets.amazonaws.com');
    assert.ok(b, 'no statement for budgets.amazonaws.com');
    assert.equal(b.Action, 'sns:Publish');
    assert.deepEqual(b.Condition.StringEquals, { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } });
    assert.deepEqual(b.Condition.ArnLike['aws:SourceArn'], { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':budgets::', { Ref: 'AWS::AccountId' }, ':*']] });
  });

  it('without alarmEmail synth fails; with alarmEmail=none the AlarmDestination output says alarms go nowhere (alarms.test.ts)', () => {
    assert.throws(() => makeStack({ alarmEmail: undefined }), /alarmEmail is required/);
    const stack = makeStack({ alarmEmail: null });
    Template.fromStack(stack).hasOutput('AlarmDestination', { Value: Match.stringLikeRegexp('^NONE .*go nowhere until you subscribe someone') });
  });

  it('with alarmEmail: no warning, the output names the address', () => {
    const stack = makeStack({ alarmEmail: 'ops@example.com' });
    assert.deepEqual(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('alarmEmail')), []);
    Template.fromStack(stack).hasOutput('AlarmDestination', { Value: Match.stringLikeRegexp('ops@example\\.com') });
  });
});

describe('B2/B5 log object permissions', () => {
  for (const [name, props] of [['new bucket', {}], ['existing bucket', EXISTING]] as const) {
    it(`${name}: s3:GetObjectVersion beside s3:GetObject (events carry a versionId) and s3:ListBucket on the bucket (404, not 403, for a deleted object)`, () => {
      const st = functionStatements(synth(props));
      const read = st.find((s) => s.Sid === 'ReadLogObjects');
      assert.deepEqual(asList(read.Action).sort(), ['s3:GetObject', 's3:GetObjectVersion']);
      const list = st.find((s) => s.Sid === 'ListLogBucket');
      assert.equal(list.Action, 's3:ListBucket');
      assert.equal(list.Condition, undefined);
      if (name === 'existing bucket') assert.deepEqual(list.Resource, { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::my-alb-logs']] });
    });
  }
});

describe('B3 concurrency', () => {
  it('is unreserved by default', () => {
    assert.equal(floodgateFunction(t)[1].Properties.ReservedConcurrentExecutions, undefined);
  });

  const cases: [string, object, number][] = [
    ['s3 (SQS max concurrency 2) + schedule', {}, 3],
    ['s3 with eventSourceMaxConcurrency 10', { eventSourceMaxConcurrency: 10 }, 11],
    ['realtime 8 shards', { sources: ['cloudfront-realtime'], realtimeShards: 8 }, 9],
    ['s3 + realtime 2 shards', { sources: ['s3', 'cloudfront-realtime'], realtimeShards: 2 }, 5],
    ['waf-cloudwatch only (subscription + schedule)', { sources: ['waf-cloudwatch'] }, 2],
  ];
  for (const [name, props, required] of cases) {
    it(`${name}: a reservation must be >= ${required}`, () => {
      assert.equal(makeStack(props).settings.requiredConcurrency, required);
      assert.throws(() => makeStack({ ...props, reservedConcurrency: required - 1 }),
        new RegExp(`reservedConcurrency=${required - 1} is below what the event sources may run at once: ${required} = `));
      const ok = floodgateFunction(synth({ ...props, reservedConcurrency: required }))[1];
      assert.equal(ok.Properties.ReservedConcurrentExecutions, required);
    });
  }

  it('the relation holds on the template: reserved >= SQS MaximumConcurrency + shards x ParallelizationFactor + 1', () => {
    const x = synth({ sources: ['s3', 'cloudfront-realtime'], realtimeShards: 6, eventSourceMaxConcurrency: 4, reservedConcurrency: 11 });
    const res = x.toJSON().Resources;
    const sqsMax = (Object.values(x.findResources('AWS::Lambda::EventSourceMapping')) as any[])
      .reduce((n, m) => n + (m.Properties.ScalingConfig?.MaximumConcurrency ?? 0), 0);
    const stream = res[byPrefix(x, 'AWS::Kinesis::Stream', 'RealtimeStream')].Properties.ShardCount;
    const pf = (Object.values(x.findResources('AWS::Lambda::EventSourceMapping')) as any[])
      .map((m) => m.Properties.ParallelizationFactor).find((v) => v !== undefined);
    assert.ok(floodgateFunction(x)[1].Properties.ReservedConcurrentExecutions >= sqsMax + stream * pf + 1);
    assert.equal(pf, 1, 'one batch per shard at a time: exactly-once counting reads a shard in order');
    assert.equal(sqsMax + stream * pf + 1, 11);
  });
});

describe('B4 queue visibility timeout = 6 x function timeout + batching window', () => {
  for (const [timeoutSeconds, maxBatchingWindowSeconds] of [[300, 30], [120, 60], [900, 300], [10, 0], [60, 1]] as const) {
    it(`timeout ${timeoutSeconds}s, window ${maxBatchingWindowSeconds}s`, () => {
      const batchSize = maxBatchingWindowSeconds === 0 ? 10 : 50;
      const x = synth({ timeoutSeconds, maxBatchingWindowSeconds, batchSize });
      const q = x.toJSON().Resources[queues(x).queue];
      assert.equal(q.Properties.VisibilityTimeout, 6 * timeoutSeconds + maxBatchingWindowSeconds);
      // AWS refuses an SQS event source whose queue visibility is below the function timeout.
      assert.ok(q.Properties.VisibilityTimeout >= floodgateFunction(x)[1].Properties.Timeout);
    });
  }
});

describe('B6 budget', () => {
  it('is created by default without any e-mail, notifying the alarm topic at 80% actual and 100% forecasted', () => {
    const [, b] = only(t, 'AWS::Budgets::Budget');
    const topic = byPrefix(t, 'AWS::SNS::Topic', 'MonitoringAlarmTopic');
    const n = b.Properties.NotificationsWithSubscribers;
    assert.deepEqual(n.map((x: any) => [x.Notification.NotificationType, x.Notification.Threshold, x.Notification.ThresholdType, x.Notification.ComparisonOperator]),
      [['ACTUAL', 80, 'PERCENTAGE', 'GREATER_THAN'], ['FORECASTED', 100, 'PERCENTAGE', 'GREATER_THAN']]);
    for (const x of n) assert.deepEqual(x.Subscribers, [{ SubscriptionType: 'SNS', Address: { Ref: topic } }]);
    t.hasOutput('Budget', { Value: Match.stringLikeRegexp('^monthly 20 USD .*alarm topic notified at 80% actual and 100% forecasted') });
  });

  it('has a name unique per stack prefix and region, and waits for the topic policy that lets it publish', () => {
    const [, b] = only(t, 'AWS::Budgets::Budget');
    assert.deepEqual(b.Properties.Budget.BudgetName, { 'Fn::Join': ['-', ['Floodgate', { Ref: 'AWS::Region' }, 'monthly']] });
    assert.ok(asList(b.DependsOn).includes(byPrefix(t, 'AWS::SNS::TopicPolicy', 'MonitoringAlarmTopicPolicy')));
  });

  it('adds the e-mail subscriber when given, and budget=false skips it', () => {
    const [, b] = only(synth({ alarmEmail: 'ops@example.com' }), 'AWS::Budgets::Budget');
    for (const x of b.Properties.NotificationsWithSubscribers) {
      assert.deepEqual(x.Subscribers.map((s: any) => s.SubscriptionType), ['SNS', 'EMAIL']);
    }
    const off = synth({ budget: false });
    off.resourceCountIs('AWS::Budgets::Budget', 0);
    off.hasOutput('Budget', { Value: 'skipped: budget=false' });
  });
});

describe('B7 existing bucket needs an explicit prefix', () => {
  it('refuses a missing or empty logPrefix, saying the function would read every object', () => {
    assert.throws(() => makeStack({ logBucketName: 'my-alb-logs' }), /needs an explicit logPrefix .*would read every object of the bucket/);
    assert.throws(() => makeStack({ logBucketName: 'my-alb-logs', logPrefixes: [''] }), /empty logPrefix is refused .*would read every object/);
    assert.throws(() => makeStack({ logBucketName: 'my-alb-logs', logPrefixes: ['alb/', ''] }), /empty logPrefix is refused/);
  });

  it('sets FLOODGATE_LOG_BUCKETS, and FLOODGATE_WEB_ACL_ARNS from webAclArn', () => {
    const env = envOf(synth({ ...EXISTING, webAclArn: ACL }));
    assert.equal(env.FLOODGATE_LOG_BUCKETS, 'my-alb-logs');
    assert.equal(env.FLOODGATE_WEB_ACL_ARNS, ACL);
    const created = envOf(synth({ ...EXISTING, createWebAcl: true }));
    assert.deepEqual(created.FLOODGATE_WEB_ACL_ARNS, { 'Fn::GetAtt': ['WebAcl', 'Arn'] });
  });
});

describe('B8 only the function writes the state', () => {
  const deny = (tmpl: Template) => policyStatements(tmpl, 'AWS::S3::BucketPolicy').find((s) => s.Sid === 'StateWritesOnlyByFloodgate');
  const roleArn = (tmpl: Template) => floodgateFunction(tmpl)[1].Properties.Role;

  it('denies Put/Delete(Version) on the state folder to every principal but the function role', () => {
    const s = deny(t);
    const stateId = byPrefix(t, 'AWS::S3::Bucket', 'StateBucket');
    assert.equal(s.Effect, 'Deny');
    assert.deepEqual(s.Principal, { AWS: '*' });
    assert.deepEqual(asList(s.Action).sort(), ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:PutObject']);
    assert.deepEqual(s.Resource, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [stateId, 'Arn'] }, '/state/*']] });
    assert.deepEqual(s.Condition, { ArnNotEquals: { 'aws:PrincipalArn': [roleArn(t)] } });
    // Reports stay writable by the function only through IAM; the deny does not touch them.
    assert.ok(!joined(s.Resource).includes('reports'));
  });

  it('lets the break-glass role through too, and follows the state key', () => {
    const bg = 'arn:aws:iam::123456789012:role/floodgate-break-glass';
    const x = synth({ breakGlassRoleArn: bg, stateKey: 'v2/shards/floodgate.state' });
    const s = deny(x);
    assert.deepEqual(s.Condition.ArnNotEquals['aws:PrincipalArn'], [roleArn(x), bg]);
    assert.match(joined(s.Resource), /\/v2\/shards\/\*/);
    assert.throws(() => makeStack({ breakGlassRoleArn: 'arn:aws:iam::123456789012:user/bob' }), /breakGlassRoleArn=.* is not an IAM role ARN/);
  });

  // operations.md, runbook "Reset the state" / "Roll back the state": what the break-glass role does.
  const RUNBOOK: [string, string][] = [
    ['s3:GetObject', 'state/floodgate.state'], // aws s3 cp (keep a copy)
    ['s3:ListBucketVersions', ''], // aws s3api list-object-versions
    ['s3:GetObjectVersion', 'state/floodgate.state'], // copy-object --copy-source …?versionId=
    ['s3:PutObject', 'state/floodgate.state'], // copy-object (restore a version)
    ['s3:DeleteObject', 'state/floodgate.state'], // aws s3 rm (reset: a delete marker)
  ];
  it('the bucket policy lets the break-glass role do what the runbook does, and denies the same to an administrator', () => {
    const bg = 'arn:aws:iam::123456789012:role/floodgate-break-glass';
    const admin = 'arn:aws:iam::123456789012:role/Admin';
    const x = synth({ breakGlassRoleArn: bg });
    const statements = policyStatements(x, 'AWS::S3::BucketPolicy');
    const bucket = `arn:aws:${byPrefix(x, 'AWS::S3::Bucket', 'StateBucket')}`;
    const req = (principalArn: string, [action, key]: [string, string]) =>
      ({ principalArn, action, resource: key ? `${bucket}/${key}` : bucket });
    for (const step of RUNBOOK) {
      assert.equal(policyDenies(statements, req(bg, step)), undefined, `${step[0]} denied to the break-glass role`);
      assert.equal(policyDenies(statements, req(symbolicArn(roleArn(x)), step)), undefined, `${step[0]} denied to the function`);
    }
    for (const step of RUNBOOK.filter(([a]) => ['s3:PutObject', 's3:DeleteObject'].includes(a))) {
      assert.equal(policyDenies(statements, req(admin, step))?.Sid, 'StateWritesOnlyByFloodgate', `${step[0]} allowed to an administrator`);
    }
    // Without a break-glass role nobody but the function gets through (the runbook says to deploy one first).
    const none = policyStatements(t, 'AWS::S3::BucketPolicy');
    const tBucket = `arn:aws:${byPrefix(t, 'AWS::S3::Bucket', 'StateBucket')}`;
    assert.ok(policyDenies(none, { principalArn: bg, action: 's3:DeleteObject', resource: `${tBucket}/state/floodgate.state` }));
    // Plain HTTP is refused to everyone, the break-glass role included.
    assert.ok(policyDenies(statements, { ...req(bg, RUNBOOK[4]), secureTransport: false }));
  });
});

describe('B9 WAF logging redacts credentials', () => {
  const variants: [string, FloodgateStackProps][] = [['S3 logging', {}], ['CloudWatch logging', { sources: ['waf-cloudwatch'] }]];
  for (const [name, props] of variants) {
    it(`${name}: authorization and cookie headers are redacted`, () => {
      const [, l] = only(synth(props), 'AWS::WAFv2::LoggingConfiguration');
      assert.deepEqual(l.Properties.RedactedFields, [{ SingleHeader: { Name: 'authorization' } }, { SingleHeader: { Name: 'cookie' } }]);
    });
  }
});

describe('B11 queue policies, schedule DLQ, state versions', () => {
  it('S3 may send to the log queue only for this bucket AND this account', () => {
    const s = policyStatements(t, 'AWS::SQS::QueuePolicy').find((x) => x.Principal?.Service === 's3.amazonaws.com');
    assert.deepEqual(s.Condition.StringEquals, { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } });
    assert.deepEqual(s.Condition.ArnLike, { 'aws:SourceArn': { 'Fn::GetAtt': [byPrefix(t, 'AWS::S3::Bucket', 'LogBucket'), 'Arn'] } });
    assert.deepEqual(s.Resource, { 'Fn::GetAtt': [queues(t).queue, 'Arn'] });
    assert.equal(policyStatements(t, 'AWS::SQS::QueuePolicy').filter((x) => x.Principal?.Service === 's3.amazonaws.com').length, 1);
  });

  it('the schedule target has a dead-letter queue, bounded retries and event age; the DLQ admits only that rule', () => {
    const [ruleId, rule] = only(t, 'AWS::Events::Rule', { ScheduleExpression: Match.anyValue() });
    const target = rule.Properties.Targets[0];
    const failure = queues(t).failure;
    assert.deepEqual(target.DeadLetterConfig, { Arn: { 'Fn::GetAtt': [failure, 'Arn'] } });
    assert.deepEqual(target.RetryPolicy, { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 });
    const s = policyStatements(t, 'AWS::SQS::QueuePolicy').find((x) => x.Principal?.Service === 'events.amazonaws.com');
    assert.equal(s.Action, 'sqs:SendMessage');
    assert.deepEqual(s.Resource, { 'Fn::GetAtt': [failure, 'Arn'] });
    assert.deepEqual(s.Condition, { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleId, 'Arn'] } } });
  });

  it('asynchronous invocations are bounded and their failures kept in the failure queue', () => {
    const [, c] = only(t, 'AWS::Lambda::EventInvokeConfig');
    assert.equal(c.Properties.MaximumRetryAttempts, 2);
    assert.equal(c.Properties.MaximumEventAgeInSeconds, 3600);
    assert.deepEqual(c.Properties.DestinationConfig.OnFailure.Destination, { 'Fn::GetAtt': [queues(t).failure, 'Arn'] });
  });

  const stateRules = (tmpl: Template) =>
    tmpl.toJSON().Resources[byPrefix(tmpl, 'AWS::S3::Bucket', 'StateBucket')].Properties.LifecycleConfiguration.Rules as any[];

  it('replaced state versions: the newest 100 kept, older ones deleted after stateVersionDays (default 1)', () => {
    const r = stateRules(t).find((x) => x.Id === 'expire-old-state-versions');
    // S3 deletes a version once it is NoncurrentDays old AND NewerNoncurrentVersions newer ones exist: at one
    // commit a second that bounds the versions to a day of commits, not 30 days (terabytes of state).
    assert.deepEqual(r.NoncurrentVersionExpiration, { NoncurrentDays: 1, NewerNoncurrentVersions: 100 });
    assert.equal(r.Status, 'Enabled');
    assert.equal(r.Prefix, 'state/');
    assert.equal(r.ExpirationInDays, undefined, 'the current state never expires');
    const x = stateRules(synth({ stateVersionDays: 30, stateKey: 'v2/floodgate.state' })).find((y) => y.Id === 'expire-old-state-versions');
    assert.deepEqual([x.Prefix, x.NoncurrentVersionExpiration], ['v2/', { NoncurrentDays: 30, NewerNoncurrentVersions: 100 }]);
    const flat = stateRules(synth({ stateKey: 'floodgate.state' })).find((y) => y.Id === 'expire-old-state-versions');
    assert.equal(flat.Prefix, 'floodgate.state');
    assert.throws(() => makeStack({ stateVersionDays: 0 }), /stateVersionDays must be an integer in 1\.\.365/);
  });

  it('reports: replaced latest/ versions go after a day, expired delete markers are removed, the state has neither', () => {
    const rules = stateRules(t);
    const reports = rules.find((x) => x.Id === 'expire-reports');
    assert.deepEqual([reports.Prefix, reports.ExpirationInDays, reports.NoncurrentVersionExpiration], ['reports/', 90, { NoncurrentDays: 1 }]);
    const markers = rules.find((x) => x.Id === 'remove-report-delete-markers');
    assert.deepEqual([markers.Prefix, markers.ExpiredObjectDeleteMarker], ['reports/', true]);
    // Every rule that deletes anything is confined to reports/ or the state's old versions.
    for (const r of rules.filter((x) => x.ExpirationInDays !== undefined || x.ExpiredObjectDeleteMarker)) assert.equal(r.Prefix, 'reports/', r.Id);
    for (const r of rules.filter((x) => x.NoncurrentVersionExpiration)) assert.ok(['reports/', 'state/'].includes(r.Prefix), r.Id);
  });
});

describe('B12 allowlist files', () => {
  const write = (name: string, text: string) => {
    const f = path.join(TMP, name);
    fs.writeFileSync(f, text);
    return f;
  };

  it('each file becomes an asset in FLOODGATE_ALLOW_FILES, readable by exactly its object key', () => {
    const a = write('cloudfront.txt', '# CLOUDFRONT_ORIGIN_FACING\n130.176.0.0/18\n');
    const b = write('office.txt', '203.0.113.7\n2001:db8::/48\n');
    const x = synth({ allowlistFiles: [a, b] });
    const env = envOf(x);
    const urls = joined(env.FLOODGATE_ALLOW_FILES);
    assert.equal((urls.match(/s3:\/\//g) ?? []).length, 2);
    assert.equal((urls.match(/\.txt/g) ?? []).length, 2);
    const read = functionStatements(x).find((s) => s.Sid === 'ReadAllowFiles');
    assert.equal(read.Action, 's3:GetObject');
    assert.equal(asList(read.Resource).length, 2);
    for (const r of asList(read.Resource)) assert.match(joined(r), /\/[0-9a-f]{64}\.txt"/);
    assert.equal(envOf(t).FLOODGATE_ALLOW_FILES, undefined);
  });

  it('a bad line fails synth naming the file and line', () => {
    const bad = write('bad.txt', '130.176.0.0/18\nnot-an-ip\n');
    assert.throws(() => makeStack({ allowlistFiles: [bad] }), /allowlist file .*bad\.txt line 2: "not-an-ip"/);
  });
});

describe('B13 S3 events through EventBridge', () => {
  const eb = synth({ s3Events: 'eventbridge', logSuffixes: ['.gz', '.log'] });

  it('the new bucket sends events to EventBridge and has no queue notifications', () => {
    const [, n] = only(eb, 'Custom::S3BucketNotifications');
    assert.deepEqual(n.Properties.NotificationConfiguration.EventBridgeConfiguration, {});
    assert.equal(n.Properties.NotificationConfiguration.QueueConfigurations, undefined);
    assert.equal(policyStatements(eb, 'AWS::SQS::QueuePolicy').filter((x) => x.Principal?.Service === 's3.amazonaws.com').length, 0);
  });

  it('a rule matches Object Created of this bucket under each prefix x suffix and targets the log queue', () => {
    const [ruleId, rule] = only(eb, 'AWS::Events::Rule', { EventPattern: Match.anyValue() });
    const p = rule.Properties.EventPattern;
    assert.deepEqual(p.source, ['aws.s3']);
    assert.deepEqual(p['detail-type'], ['Object Created']);
    assert.deepEqual(p.detail.bucket.name, [{ Ref: byPrefix(eb, 'AWS::S3::Bucket', 'LogBucket') }]);
    assert.deepEqual(p.detail.object.key, [{ wildcard: 'AWSLogs/*.gz' }, { wildcard: 'AWSLogs/*.log' }]);
    const target = rule.Properties.Targets[0];
    assert.deepEqual(target.Arn, { 'Fn::GetAtt': [queues(eb).queue, 'Arn'] });
    assert.deepEqual(target.DeadLetterConfig, { Arn: { 'Fn::GetAtt': [queues(eb).failure, 'Arn'] } });
    const s = policyStatements(eb, 'AWS::SQS::QueuePolicy').find((x) => x.Principal?.Service === 'events.amazonaws.com' &&
      joined(x.Resource).includes(queues(eb).queue));
    assert.deepEqual(s.Condition, { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleId, 'Arn'] } } });
  });

  it('without suffixes, prefixes match as prefixes', () => {
    const x = synth({ s3Events: 'eventbridge', logSuffixes: [], logPrefixes: ['a/', 'b/'] });
    const [, rule] = only(x, 'AWS::Events::Rule', { EventPattern: Match.anyValue() });
    assert.deepEqual(rule.Properties.EventPattern.detail.object.key, [{ prefix: 'a/' }, { prefix: 'b/' }]);
  });

  it('an existing bucket is left alone: no notification resource, an output says to enable EventBridge', () => {
    const x = synth({ ...EXISTING, s3Events: 'eventbridge' });
    x.resourceCountIs('Custom::S3BucketNotifications', 0);
    x.hasOutput('EnableEventBridge', { Value: Match.stringLikeRegexp('my-alb-logs') });
    const [, rule] = only(x, 'AWS::Events::Rule', { EventPattern: Match.anyValue() });
    assert.deepEqual(rule.Properties.EventPattern.detail.bucket.name, ['my-alb-logs']);
  });

  it('notification mode (the default) creates no EventBridge rule for S3', () => {
    t.resourceCountIs('AWS::Events::Rule', 1);
  });
});
