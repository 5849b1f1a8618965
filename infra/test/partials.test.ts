// `partials=true` (lib/partials.ts; FLOODGATE_PARTIALS_PREFIX in crates/floodgate-lambda): reading
// invocations write partials under a prefix of the state bucket, whose notifications start the
// reducer through a queue of its own. Off by default, and then none of it exists.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Template } from 'aws-cdk-lib/assertions';
import { DEFAULTS, settingsFromContext } from '../lib/config';
import {
  asList, byPrefix, envOf, floodgateFunction, functionStatements, makeStack, policyDenies, policyStatements, symbolicArn, synth,
} from './helpers';

const BREAK_GLASS = 'arn:aws:iam::123456789012:role/floodgate-break-glass';
const ADMIN = 'arn:aws:iam::123456789012:role/Admin';
const S3_WRITES = ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'];

const ids = (t: Template, type: string, prefix: string) => Object.keys(t.findResources(type)).filter((id) => id.startsWith(prefix));
const stateBucketArn = (t: Template) => `arn:aws:${byPrefix(t, 'AWS::S3::Bucket', 'StateBucket')}`;
const lifecycle = (t: Template): any[] => t.toJSON().Resources[byPrefix(t, 'AWS::S3::Bucket', 'StateBucket')].Properties.LifecycleConfiguration.Rules;
const eventSourceOf = (t: Template, queueId: string): any => {
  const found = (Object.values(t.findResources('AWS::Lambda::EventSourceMapping')) as any[])
    .filter((m) => m.Properties.EventSourceArn['Fn::GetAtt']?.[0] === queueId);
  assert.equal(found.length, 1, `one event source mapping of ${queueId}`);
  return found[0].Properties;
};
const stateNotifications = (t: Template): any[] => (Object.entries(t.findResources('Custom::S3BucketNotifications')) as [string, any][])
  .filter(([, r]) => r.Properties.BucketName.Ref === byPrefix(t, 'AWS::S3::Bucket', 'StateBucket'))
  .map(([, r]) => r.Properties.NotificationConfiguration);

describe('partials=false (the default): nothing of it exists', () => {
  const variants: [string, object][] = [['default', {}], ['partials=false', { partials: false }], ['waf-cloudwatch', { sources: ['waf-cloudwatch'] }]];
  for (const [name, props] of variants) {
    it(`${name}: no FLOODGATE_PARTIALS_PREFIX, reducer queue, notification of the state bucket, grant, lifecycle rule or alarm`, () => {
      const t = synth(props);
      assert.equal(DEFAULTS.partials, false);
      assert.equal(envOf(t).FLOODGATE_PARTIALS_PREFIX, undefined);
      assert.deepEqual(ids(t, 'AWS::SQS::Queue', 'Partials'), []);
      assert.deepEqual(stateNotifications(t), []);
      assert.equal(functionStatements(t).find((s) => s.Sid === 'ReadWriteDeletePartials'), undefined);
      assert.ok(!functionStatements(t).some((s) => asList(s.Action).includes('s3:DeleteObject')), 'the function deletes nothing');
      assert.ok(!JSON.stringify(lifecycle(t)).includes('partials'));
      assert.ok(!JSON.stringify(policyStatements(t, 'AWS::S3::BucketPolicy')).includes('partials'));
      assert.deepEqual(ids(t, 'AWS::CloudWatch::Alarm', 'MonitoringPartials'), []);
      assert.equal(t.findOutputs('PartialsUri')['PartialsUri'], undefined);
    });
  }

  it('partialsPrefix without partials=true is refused', () => {
    assert.throws(() => makeStack({ partialsPrefix: 'merge/' }), /partialsPrefix is where partials=true writes the partials: set partials=true/);
  });
});

describe('partials=true', () => {
  const t = synth({ partials: true, timeoutSeconds: 120 });
  const queue = byPrefix(t, 'AWS::SQS::Queue', 'PartialsQueue');
  const dlq = byPrefix(t, 'AWS::SQS::Queue', 'PartialsDeadLetterQueue');

  it('sets FLOODGATE_PARTIALS_PREFIX to the default prefix partials/', () => {
    assert.equal(DEFAULTS.partialsPrefix, 'partials/');
    assert.equal(envOf(t).FLOODGATE_PARTIALS_PREFIX, 'partials/');
  });

  it('the state bucket notifies the reducer queue of objects created under the prefix, and of nothing else', () => {
    const [config, ...more] = stateNotifications(t);
    assert.deepEqual(more, [], 'one notification resource for the state bucket');
    assert.deepEqual(config, {
      QueueConfigurations: [{
        Events: ['s3:ObjectCreated:*'],
        Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'partials/' }] } },
        QueueArn: { 'Fn::GetAtt': [queue, 'Arn'] },
      }],
    });
    // S3 may send to the queue for the state bucket of this account only.
    const s = policyStatements(t, 'AWS::SQS::QueuePolicy').find((x) => x.Sid === 'S3PartialNotifications');
    assert.deepEqual(s.Principal, { Service: 's3.amazonaws.com' });
    assert.deepEqual(s.Resource, { 'Fn::GetAtt': [queue, 'Arn'] });
    assert.deepEqual(s.Condition.ArnLike['aws:SourceArn'], { 'Fn::GetAtt': [byPrefix(t, 'AWS::S3::Bucket', 'StateBucket'), 'Arn'] });
    assert.deepEqual(s.Condition.StringEquals['aws:SourceAccount'], { Ref: 'AWS::AccountId' });
  });

  it('the reducer queue: SSE-SQS, TLS only, visibility 6 × the timeout, a DLQ after maxReceiveCount', () => {
    t.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 6 * 120,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] }, maxReceiveCount: DEFAULTS.maxReceiveCount },
    });
    assert.deepEqual(t.toJSON().Resources[dlq].Properties, { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 86400 });
    for (const q of [queue, dlq]) {
      const tls = policyStatements(t, 'AWS::SQS::QueuePolicy').find((s) =>
        s.Effect === 'Deny' && s.Resource['Fn::GetAtt']?.[0] === q && s.Condition?.Bool?.['aws:SecureTransport'] === 'false');
      assert.ok(tls, `${q} refuses plain HTTP`);
    }
    synth({ partials: true, maxReceiveCount: 3 }).hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [byPrefix(t, 'AWS::SQS::Queue', 'PartialsDeadLetterQueue'), 'Arn'] }, maxReceiveCount: 3 },
    });
  });

  it('the function reads the queue: batch size 10, no batching window, ReportBatchItemFailures, at most 2 reducers', () => {
    const m = eventSourceOf(t, queue);
    assert.equal(m.BatchSize, 10);
    assert.equal(m.MaximumBatchingWindowInSeconds, undefined);
    assert.deepEqual(m.FunctionResponseTypes, ['ReportBatchItemFailures']);
    assert.deepEqual(m.ScalingConfig, { MaximumConcurrency: 2 });
    assert.deepEqual(m.FunctionName, { Ref: floodgateFunction(t)[0] });
  });

  it('the function may get, put and delete objects under the prefix, and delete nothing else', () => {
    const bucket = stateBucketArn(t);
    const st = functionStatements(t);
    const s = st.find((x) => x.Sid === 'ReadWriteDeletePartials');
    assert.deepEqual(asList(s.Action).sort(), ['s3:DeleteObject', 's3:GetObject', 's3:PutObject']);
    assert.deepEqual(asList(s.Resource).map(symbolicArn), [`${bucket}/partials/*`]);
    for (const x of st.filter((y) => asList(y.Action).some((a: string) => /^s3:(Delete|\*)/.test(a)))) {
      assert.deepEqual(asList(x.Resource).map(symbolicArn), [`${bucket}/partials/*`], `statement ${x.Sid} deletes outside partials/`);
    }
    // ListBucket (the reducer LISTs the prefix) is the existing grant on the bucket.
    assert.deepEqual(asList(st.find((x) => x.Sid === 'ListStateBucket').Resource).map(symbolicArn), [bucket]);
  });

  it('the bucket policy keeps everyone but the function (and the break-glass role) from writing or deleting partials', () => {
    for (const breakGlass of [undefined, BREAK_GLASS]) {
      const x = synth({ partials: true, breakGlassRoleArn: breakGlass });
      const statements = policyStatements(x, 'AWS::S3::BucketPolicy');
      const partial = `${stateBucketArn(x)}/partials/0001767225600000-abc.part`;
      const role = symbolicArn(floodgateFunction(x)[1].Properties.Role);
      for (const action of S3_WRITES) {
        assert.equal(policyDenies(statements, { principalArn: ADMIN, action, resource: partial })?.Sid, 'StateWritesOnlyByFloodgate', action);
        assert.equal(policyDenies(statements, { principalArn: role, action, resource: partial }), undefined, `${action} denied to the function`);
        const bg = policyDenies(statements, { principalArn: BREAK_GLASS, action, resource: partial });
        assert.equal(bg === undefined, breakGlass !== undefined, 'the break-glass role passes only when configured');
      }
      // The state stays protected as before, and reading partials is not denied.
      assert.ok(policyDenies(statements, { principalArn: ADMIN, action: 's3:PutObject', resource: `${stateBucketArn(x)}/state/floodgate.state` }));
      assert.equal(policyDenies(statements, { principalArn: ADMIN, action: 's3:GetObject', resource: partial }), undefined);
    }
  });

  it('partials expire after 7 days, their replaced versions after 1, and their delete markers are removed', () => {
    const rules = lifecycle(t);
    assert.deepEqual(rules.find((r) => r.Id === 'expire-partials'), {
      Id: 'expire-partials', Prefix: 'partials/', Status: 'Enabled', ExpirationInDays: 7, NoncurrentVersionExpiration: { NoncurrentDays: 1 },
    });
    assert.deepEqual(rules.find((r) => r.Id === 'remove-partial-delete-markers'),
      { Id: 'remove-partial-delete-markers', Prefix: 'partials/', Status: 'Enabled', ExpiredObjectDeleteMarker: true });
    // The state's own rule is untouched: the current state never expires.
    assert.ok(!rules.some((r) => r.Prefix === 'state/' && r.ExpirationInDays !== undefined));
  });

  it('alarms on the reducer queue\'s age and on its DLQ', () => {
    const alarm = (prefix: string) => t.toJSON().Resources[byPrefix(t, 'AWS::CloudWatch::Alarm', prefix)].Properties;
    const backlog = alarm('MonitoringPartialsQueueBacklog');
    assert.equal(backlog.MetricName, 'ApproximateAgeOfOldestMessage');
    assert.deepEqual(backlog.Dimensions, [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }]);
    assert.equal(backlog.Threshold, DEFAULTS.queueAgeAlarmSeconds);
    const dlqAlarm = alarm('MonitoringPartialsDlqNotEmpty');
    assert.equal(dlqAlarm.MetricName, 'ApproximateNumberOfMessagesVisible');
    assert.deepEqual(dlqAlarm.Dimensions, [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq, 'QueueName'] } }]);
    assert.equal(dlqAlarm.ComparisonOperator, 'GreaterThanThreshold');
    assert.equal(dlqAlarm.Threshold, 0);
  });

  it('the log source is unchanged (its own queue, notification and event source)', () => {
    const plain = synth({ timeoutSeconds: 120 });
    const logQueue = byPrefix(t, 'AWS::SQS::Queue', 'LogQueue');
    assert.deepEqual(eventSourceOf(t, logQueue), eventSourceOf(plain, logQueue));
    assert.deepEqual(t.toJSON().Resources[logQueue], plain.toJSON().Resources[logQueue]);
  });

  it('works without the s3 source, and with another prefix', () => {
    const x = synth({ partials: true, partialsPrefix: 'merge/', sources: ['waf-cloudwatch'] });
    assert.equal(envOf(x).FLOODGATE_PARTIALS_PREFIX, 'merge/');
    assert.deepEqual(stateNotifications(x)[0].QueueConfigurations[0].Filter.Key.FilterRules, [{ Name: 'prefix', Value: 'merge/' }]);
    const s = functionStatements(x).find((y) => y.Sid === 'ReadWriteDeletePartials');
    assert.deepEqual(asList(s.Resource).map(symbolicArn), [`${stateBucketArn(x)}/merge/*`]);
    assert.ok(lifecycle(x).some((r) => r.Id === 'expire-partials' && r.Prefix === 'merge/'));
  });

  it('reserved concurrency must cover the two reducers too', () => {
    assert.doesNotThrow(() => makeStack({ reservedConcurrency: 3 }));
    assert.throws(() => makeStack({ partials: true, reservedConcurrency: 4 }),
      /reservedConcurrency=4 is below what the event sources may run at once: 5 = .*2 \(partials: the reducer queue's event source\)/);
    assert.doesNotThrow(() => makeStack({ partials: true, reservedConcurrency: 5 }));
  });
});

describe('partialsPrefix must stay apart from the state and the reports', () => {
  const refused: [string, object, RegExp][] = [
    ['the reports prefix itself', { reportsPrefix: 'partials/' }, /partialsPrefix=partials\/ overlaps reportsPrefix=partials\//],
    ['a folder of the reports', { partialsPrefix: 'reports/partials/' }, /overlaps reportsPrefix=reports\//],
    ['a folder holding the reports', { reportsPrefix: 'partials/reports/' }, /overlaps reportsPrefix/],
    ['the state key\'s folder', { partialsPrefix: 'state/' }, /partialsPrefix=state\/ overlaps the state \(stateKey=state\/floodgate\.state/],
    ['a folder under the state\'s', { partialsPrefix: 'state/partials/' }, /overlaps the state/],
    ['a folder holding the state key', { stateKey: 'partials/v2/floodgate.state' }, /overlaps the state/],
    ['the state key\'s folder, moved', { stateKey: 'p/x', partialsPrefix: 'p/' }, /overlaps the state \(stateKey=p\/x/],
    ['no trailing /', { partialsPrefix: 'partials' }, /partialsPrefix must be a folder/],
    ['a leading /', { partialsPrefix: '/partials/' }, /partialsPrefix must be a folder/],
    ['a wildcard', { partialsPrefix: 'part*/' }, /partialsPrefix must be a folder/],
  ];
  for (const [name, props, message] of refused) {
    it(`refuses ${name}`, () => {
      assert.throws(() => makeStack({ partials: true, ...props }), message);
    });
  }

  it('accepts prefixes beside them', () => {
    assert.doesNotThrow(() => makeStack({ partials: true, partialsPrefix: 'state-partials/' }));
    assert.doesNotThrow(() => makeStack({ partials: true, stateKey: 'shards/v2/floodgate.state', reportsPrefix: 'runs/', partialsPrefix: 'shards/p/' }));
  });
});

describe('context', () => {
  const from = (ctx: Record<string, unknown>) => settingsFromContext((k) => ctx[k]);

  it('reads partials and partialsPrefix', () => {
    assert.equal(from({ partials: 'true' }).partials, true);
    assert.equal(from({ partials: 'no' }).partials, false);
    assert.equal(from({}).partials, undefined);
    assert.equal(from({ partialsPrefix: 'merge/' }).partialsPrefix, 'merge/');
    assert.throws(() => from({ partials: 'sometimes' }), /context partials=sometimes: expected true or false/);
    const set = Object.fromEntries(Object.entries(from({ partials: 'true', partialsPrefix: 'merge/' })).filter(([, v]) => v !== undefined));
    assert.equal(envOf(synth(set)).FLOODGATE_PARTIALS_PREFIX, 'merge/');
  });
});
