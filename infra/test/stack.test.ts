// What the stack deploys: one test per item of the deployment contract (docs/deploy.md).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { Match, Template } from 'aws-cdk-lib/assertions';
import {
  ACCOUNT, CONFIG_PATH, TMP, asList, byPrefix, floodgateFunction, functionStatements, only, queues, synth,
} from './helpers';

const ENV_NAMES = [
  'FLOODGATE_STATE_BUCKET', 'FLOODGATE_STATE_KEY', 'FLOODGATE_REPORTS_PREFIX', 'FLOODGATE_IPV4_SET',
  'FLOODGATE_IPV6_SET', 'FLOODGATE_SCOPE', 'FLOODGATE_CONFIG_TOML', 'FLOODGATE_DRY_RUN',
  'FLOODGATE_LOG_BUCKETS', 'FLOODGATE_LOG_PREFIXES', 'FLOODGATE_LOG_SUFFIXES', 'FLOODGATE_WEB_ACL_ARNS',
  'FLOODGATE_NOTIFY_TOPIC_ARN', 'FLOODGATE_METRICS_NAMESPACE', 'RUST_LOG',
].sort();
const SETS = ['IPv4Set', 'IPv4Set2', 'IPv4Set3', 'IPv6Set', 'IPv6Set2', 'IPv6Set3'];

// Default deployment: new aws-waf-logs- bucket, new web ACL, REGIONAL, no email.
const t = synth();
// Existing bucket + prefix, no web ACL, all the knobs turned.
const existing = synth({
  logBucketName: 'my-alb-logs',
  logPrefixes: ['alb/AWSLogs/', 'cf/'],
  logSuffixes: ['.gz', '.log'],
  architecture: 'arm64',
  timeoutSeconds: 120,
  memorySize: 2048,
  reservedConcurrency: 3,
  batchSize: 200,
  maxBatchingWindowSeconds: 60,
  maxReceiveCount: 7,
  functionLogRetentionDays: 14,
  scheduleExpression: 'rate(10 minutes)',
  reportRetentionDays: 30,
  dryRun: false,
  alarmEmail: 'ops@example.com',
  budgetAmount: 50,
});

describe('WAF', () => {
  it('creates IPV4 and IPV6 IP sets (first ones under their original names) with the requested scope', () => {
    t.resourceCountIs('AWS::WAFv2::IPSet', 6);
    t.hasResourceProperties('AWS::WAFv2::IPSet', { Name: 'Floodgate-ipv4', IPAddressVersion: 'IPV4', Scope: 'REGIONAL', Addresses: [] });
    t.hasResourceProperties('AWS::WAFv2::IPSet', { Name: 'Floodgate-ipv6', IPAddressVersion: 'IPV6', Scope: 'REGIONAL', Addresses: [] });
    const cf = synth({ scope: 'CLOUDFRONT' }, 'us-east-1');
    cf.resourceCountIs('AWS::WAFv2::IPSet', 6);
    for (const v of ['IPV4', 'IPV6']) cf.hasResourceProperties('AWS::WAFv2::IPSet', { IPAddressVersion: v, Scope: 'CLOUDFRONT' });
    cf.hasResourceProperties('AWS::WAFv2::WebACL', { Scope: 'CLOUDFRONT' });
  });

  it('creates a web ACL (default allow) whose blocking rule references every IP set', () => {
    t.resourceCountIs('AWS::WAFv2::WebACL', 1);
    t.hasResourceProperties('AWS::WAFv2::WebACL', {
      DefaultAction: { Allow: {} },
      Scope: 'REGIONAL',
      Rules: [Match.objectLike({
        Action: { Block: {} },
        Statement: {
          OrStatement: {
            Statements: SETS.map((id) => ({ IPSetReferenceStatement: { Arn: { 'Fn::GetAtt': [id, 'Arn'] } } })),
          },
        },
      })],
    });
    t.hasOutput('WebAclArn', {});
  });

  it('without a web ACL, outputs the IP set ARNs to attach to an existing one', () => {
    existing.resourceCountIs('AWS::WAFv2::WebACL', 0);
    existing.hasOutput('IPv4SetArns', { Value: { 'Fn::Join': [',', SETS.slice(0, 3).map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] }))] } });
    existing.hasOutput('IPv6SetArns', { Value: { 'Fn::Join': [',', SETS.slice(3).map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] }))] } });
    existing.hasOutput('AttachIpSets', {});
    t.resourceCountIs('AWS::WAFv2::WebACL', 1);
    assert.equal(t.findOutputs('AttachIpSets').AttachIpSets, undefined);
  });

  it('COUNT rule action is configurable', () => {
    synth({ webAclRuleAction: 'COUNT' }).hasResourceProperties('AWS::WAFv2::WebACL', {
      Rules: [Match.objectLike({ Action: { Count: {} } })],
    });
  });
});

describe('log source', () => {
  it('new-bucket mode creates an aws-waf-logs- bucket and a WAF logging configuration to it', () => {
    const [bucketId, bucket] = only(t, 'AWS::S3::Bucket', { BucketName: Match.anyValue() });
    const name = JSON.stringify(bucket.Properties.BucketName);
    assert.match(name, /aws-waf-logs-floodgate-/);
    assert.deepEqual(bucket.Properties.LifecycleConfiguration.Rules[0].ExpirationInDays, 30);
    t.resourceCountIs('AWS::WAFv2::LoggingConfiguration', 1);
    t.hasResourceProperties('AWS::WAFv2::LoggingConfiguration', {
      ResourceArn: { 'Fn::GetAtt': ['WebAcl', 'Arn'] },
      LogDestinationConfigs: [{ 'Fn::GetAtt': [bucketId, 'Arn'] }],
    });
    // Log delivery may write under AWSLogs/<account>/ only.
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({
        Sid: 'AWSLogDeliveryWrite', Action: 's3:PutObject', Principal: { Service: 'delivery.logs.amazonaws.com' },
      })]) },
    });
  });

  it('new-bucket mode can log an existing web ACL instead of creating one', () => {
    const arn = `arn:aws:wafv2:eu-west-1:${ACCOUNT}:regional/webacl/site/abc`;
    const x = synth({ webAclArn: arn });
    x.resourceCountIs('AWS::WAFv2::WebACL', 0);
    x.hasResourceProperties('AWS::WAFv2::LoggingConfiguration', { ResourceArn: arn });
  });

  it('existing-bucket mode creates no log bucket and no logging configuration', () => {
    existing.resourceCountIs('AWS::WAFv2::LoggingConfiguration', 0);
    existing.resourceCountIs('AWS::S3::Bucket', 1); // the state bucket only
    assert.ok(!JSON.stringify(existing.toJSON()).includes('aws-waf-logs-'));
  });

  it('notifies the queue of ObjectCreated under the log prefix with the .gz suffix', () => {
    const [, n] = only(t, 'Custom::S3BucketNotifications');
    const q = n.Properties.NotificationConfiguration.QueueConfigurations;
    assert.equal(q.length, 1);
    assert.deepEqual(q[0].Events, ['s3:ObjectCreated:*']);
    assert.deepEqual(q[0].Filter.Key.FilterRules, [{ Name: 'suffix', Value: '.gz' }, { Name: 'prefix', Value: 'AWSLogs/' }]);
    assert.deepEqual(q[0].QueueArn, { 'Fn::GetAtt': [queues(t).queue, 'Arn'] });
  });

  it('existing-bucket mode notifies every prefix x suffix and keeps existing notifications', () => {
    const [, n] = only(existing, 'Custom::S3BucketNotifications');
    assert.equal(n.Properties.BucketName, 'my-alb-logs');
    assert.equal(n.Properties.Managed, false);
    const filters = n.Properties.NotificationConfiguration.QueueConfigurations
      .map((c: any) => c.Filter.Key.FilterRules.map((r: any) => `${r.Name}=${r.Value}`).sort().join(' '));
    assert.deepEqual(filters.sort(), [
      'prefix=alb/AWSLogs/ suffix=.gz', 'prefix=alb/AWSLogs/ suffix=.log', 'prefix=cf/ suffix=.gz', 'prefix=cf/ suffix=.log',
    ]);
  });

  it('no suffix filter when logSuffixes is empty', () => {
    const x = synth({ logSuffixes: [] });
    const [, n] = only(x, 'Custom::S3BucketNotifications');
    assert.deepEqual(n.Properties.NotificationConfiguration.QueueConfigurations[0].Filter.Key.FilterRules, [{ Name: 'prefix', Value: 'AWSLogs/' }]);
  });
});

describe('queue', () => {
  it('log queue, DLQ and failure queue use SSE, the log queue redrives to the DLQ after 5 receives', () => {
    t.resourceCountIs('AWS::SQS::Queue', 3);
    const ids = queues(t);
    const res = t.toJSON().Resources;
    for (const id of [ids.queue, ids.dlq, ids.failure]) assert.equal(res[id].Properties.SqsManagedSseEnabled, true);
    const q = res[ids.queue];
    assert.deepEqual(q.Properties.RedrivePolicy, { deadLetterTargetArn: { 'Fn::GetAtt': [ids.dlq, 'Arn'] }, maxReceiveCount: 5 });
    assert.equal(res[ids.failure].Properties.RedrivePolicy, undefined);
    const q2 = existing.toJSON().Resources[queues(existing).queue];
    assert.equal(q2.Properties.RedrivePolicy.maxReceiveCount, 7);
  });

  it('every queue denies non-TLS access (enforceSSL)', () => {
    const policies = Object.values(t.findResources('AWS::SQS::QueuePolicy')) as any[];
    assert.equal(policies.length, 3);
    for (const p of policies) {
      assert.ok(p.Properties.PolicyDocument.Statement.some((s: any) =>
        s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false'), 'missing SSL deny');
    }
  });
});

describe('function', () => {
  it('is a provided.al2023 bootstrap with timeout, memory, architecture and reserved concurrency', () => {
    const [, fn] = floodgateFunction(t);
    const p = fn.Properties;
    assert.equal(p.Runtime, 'provided.al2023');
    assert.deepEqual(p.Architectures, ['x86_64']);
    assert.equal(p.Timeout, 300);
    assert.equal(p.MemorySize, 1024);
    assert.equal(p.ReservedConcurrentExecutions, undefined, 'unreserved by default');
    const e = floodgateFunction(existing)[1].Properties;
    assert.deepEqual(e.Architectures, ['arm64']);
    assert.equal(e.Timeout, 120);
    assert.equal(e.MemorySize, 2048);
    assert.equal(e.ReservedConcurrentExecutions, 3);
    assert.equal(floodgateFunction(synth({ reservedConcurrency: null }))[1].Properties.ReservedConcurrentExecutions, undefined);
  });

  it('logs to an explicit log group with retention', () => {
    const [lgId, lg] = only(t, 'AWS::Logs::LogGroup');
    assert.equal(lg.Properties.RetentionInDays, 30);
    assert.deepEqual(floodgateFunction(t)[1].Properties.LoggingConfig, { LogGroup: { Ref: lgId } });
    existing.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 14 });
  });

  it('consumes the queue in batches with partial batch failures', () => {
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 50,
      MaximumBatchingWindowInSeconds: 30,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    existing.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 200, MaximumBatchingWindowInSeconds: 60 });
  });

  it('is invoked on a schedule for expiry and reconcile', () => {
    const [fnId] = floodgateFunction(t);
    t.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [fnId, 'Arn'] } })],
    });
    t.hasResourceProperties('AWS::Lambda::Permission', { Principal: 'events.amazonaws.com', FunctionName: { 'Fn::GetAtt': [fnId, 'Arn'] } });
    existing.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(10 minutes)' });
  });

  it('gets exactly the contract environment', () => {
    const env = floodgateFunction(t)[1].Properties.Environment.Variables;
    assert.deepEqual(Object.keys(env).sort(), ENV_NAMES);
    const [stateId] = only(t, 'AWS::S3::Bucket', { BucketName: Match.absent() });
    assert.deepEqual(env.FLOODGATE_STATE_BUCKET, { Ref: stateId });
    assert.equal(env.FLOODGATE_STATE_KEY, 'state/floodgate.state');
    assert.equal(env.FLOODGATE_REPORTS_PREFIX, 'reports/');
    const nameIds = (v: string, ids: string[]) => ({ 'Fn::Join': ['', ids.flatMap((id, i) =>
      [`${i ? ',' : ''}Floodgate-${v}${i ? `-${i + 1}` : ''}:`, { 'Fn::GetAtt': [id, 'Id'] }])] });
    assert.deepEqual(env.FLOODGATE_IPV4_SET, nameIds('ipv4', SETS.slice(0, 3)));
    assert.deepEqual(env.FLOODGATE_IPV6_SET, nameIds('ipv6', SETS.slice(3)));
    assert.deepEqual(env.FLOODGATE_LOG_BUCKETS, { Ref: byPrefix(t, 'AWS::S3::Bucket', 'LogBucket') });
    assert.deepEqual(env.FLOODGATE_WEB_ACL_ARNS, { 'Fn::GetAtt': ['WebAcl', 'Arn'] });
    assert.deepEqual(env.FLOODGATE_NOTIFY_TOPIC_ARN, { Ref: byPrefix(t, 'AWS::SNS::Topic', 'NotificationTopic') });
    assert.equal(env.FLOODGATE_SCOPE, 'REGIONAL');
    assert.equal(env.FLOODGATE_CONFIG_TOML, fs.readFileSync(CONFIG_PATH, 'utf8'));
    assert.equal(env.FLOODGATE_DRY_RUN, 'true');
    assert.equal(env.FLOODGATE_LOG_PREFIXES, 'AWSLogs/');
    assert.equal(env.FLOODGATE_LOG_SUFFIXES, '.gz');
    assert.equal(env.FLOODGATE_METRICS_NAMESPACE, 'floodgate');
    assert.equal(env.RUST_LOG, 'info');
    const e = floodgateFunction(existing)[1].Properties.Environment.Variables;
    assert.equal(e.FLOODGATE_DRY_RUN, 'false');
    assert.equal(e.FLOODGATE_LOG_PREFIXES, 'alb/AWSLogs/,cf/');
    assert.equal(e.FLOODGATE_LOG_SUFFIXES, '.gz,.log');
    assert.equal(e.FLOODGATE_LOG_BUCKETS, 'my-alb-logs');
    // the function refuses every object when the prefix list is empty: a whole bucket is `*`
    const whole = floodgateFunction(synth({ logPrefixes: [''] }))[1].Properties.Environment.Variables;
    assert.equal(whole.FLOODGATE_LOG_PREFIXES, '*');
    assert.equal(e.FLOODGATE_WEB_ACL_ARNS, undefined, 'no web ACL known: WAF records are not filtered by ACL');
    const cf = floodgateFunction(synth({ scope: 'CLOUDFRONT' }, 'us-east-1'))[1].Properties.Environment.Variables;
    assert.equal(cf.FLOODGATE_SCOPE, 'CLOUDFRONT');
  });

  it('a config over 3 KB ships as an S3 asset (FLOODGATE_CONFIG_S3) readable by the function only by key', () => {
    const big = path.join(TMP, 'big.toml');
    fs.writeFileSync(big, fs.readFileSync(CONFIG_PATH, 'utf8') + `# ${'x'.repeat(100)}\n`.repeat(40));
    const x = synth({ configPath: big });
    const env = floodgateFunction(x)[1].Properties.Environment.Variables;
    assert.equal(env.FLOODGATE_CONFIG_TOML, undefined);
    assert.match(JSON.stringify(env.FLOODGATE_CONFIG_S3), /s3:\/\/.*\.toml/);
    const read = functionStatements(x).find((s) => s.Sid === 'ReadConfig');
    assert.equal(read.Action, 's3:GetObject');
    assert.match(JSON.stringify(read.Resource), /\.toml"?\]?\]?\}?$/);
  });
});

describe('state and reports bucket', () => {
  it('is encrypted, private, TLS-only, versioned', () => {
    const [id, b] = only(t, 'AWS::S3::Bucket', { BucketName: Match.absent() });
    assert.equal(b.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm, 'AES256');
    assert.deepEqual(b.Properties.PublicAccessBlockConfiguration, {
      BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true,
    });
    assert.equal(b.Properties.VersioningConfiguration.Status, 'Enabled');
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('expires reports after 90 days (configurable) and never the state', () => {
    for (const [tmpl, days] of [[t, 90], [existing, 30]] as const) {
      const [, b] = only(tmpl, 'AWS::S3::Bucket', { BucketName: Match.absent() });
      const rules = b.Properties.LifecycleConfiguration.Rules as any[];
      const expiring = rules.filter((r) => r.ExpirationInDays !== undefined);
      assert.deepEqual(expiring.map((r) => [r.Prefix, r.ExpirationInDays]), [['reports/', days]]);
      // Rules without a prefix must not expire current objects (state lives there).
      for (const r of rules.filter((r) => !r.Prefix)) assert.equal(r.ExpirationInDays, undefined);
    }
  });
});

describe('least-privilege IAM', () => {
  const arnJoin = (bucketId: string, suffix: string) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, suffix]] });

  for (const [name, tmpl] of [['default', t], ['existing bucket', existing]] as const) {
    it(`${name}: no wildcard actions, no "*" resources`, () => {
      const st = functionStatements(tmpl);
      assert.ok(st.length >= 5);
      for (const s of st) {
        assert.equal(s.Effect, 'Allow');
        for (const a of asList(s.Action)) assert.ok(!String(a).includes('*'), `wildcard action ${a}`);
        for (const r of asList(s.Resource)) assert.notEqual(r, '*', `"*" resource for ${s.Action}`);
      }
    });
  }

  it('wafv2 Get/UpdateIPSet on the IP set ARNs only', () => {
    const st = functionStatements(t).filter((s) => asList(s.Action).some((a: string) => a.startsWith('wafv2:')));
    assert.equal(st.length, 1);
    assert.deepEqual(asList(st[0].Action).sort(), ['wafv2:GetIPSet', 'wafv2:UpdateIPSet']);
    assert.deepEqual(st[0].Resource, SETS.map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] })));
  });

  it('s3 object access: Get(Version) on log prefixes, Get/PutObject on state and reports prefixes, ListBucket on both buckets', () => {
    const [logId] = only(t, 'AWS::S3::Bucket', { BucketName: Match.anyValue() });
    const [stateId] = only(t, 'AWS::S3::Bucket', { BucketName: Match.absent() });
    const s3 = functionStatements(t).filter((s) => asList(s.Action).some((a: string) => a.startsWith('s3:')));
    const byActions = new Map(s3.map((s) => [asList(s.Action).sort().join(','), s.Resource]));
    assert.deepEqual(s3.map((s) => s.Sid).sort(), ['ListLogBucket', 'ListStateBucket', 'ReadLogObjects', 'ReadWriteStateAndReports']);
    assert.deepEqual(byActions.get('s3:GetObject,s3:GetObjectVersion'), arnJoin(logId, '/AWSLogs/*'));
    assert.deepEqual(byActions.get('s3:GetObject,s3:PutObject'), [arnJoin(stateId, '/state/*'), arnJoin(stateId, '/reports/*')]);
    const list = new Map(s3.filter((s) => s.Action === 's3:ListBucket').map((s) => [s.Sid, s.Resource]));
    assert.deepEqual(list.get('ListStateBucket'), { 'Fn::GetAtt': [stateId, 'Arn'] });
    assert.deepEqual(list.get('ListLogBucket'), { 'Fn::GetAtt': [logId, 'Arn'] });

    const e = functionStatements(existing).find((s) => s.Sid === 'ReadLogObjects');
    assert.deepEqual(e.Action, ['s3:GetObject', 's3:GetObjectVersion']);
    const resources = JSON.stringify(e.Resource);
    assert.ok(resources.includes(':s3:::my-alb-logs/alb/AWSLogs/*') && resources.includes(':s3:::my-alb-logs/cf/*'), resources);
  });

  it('SQS: consume the log queue only (event source), send only to the failure queue (async destination)', () => {
    const ids = queues(t);
    const sqs = functionStatements(t).filter((s) => asList(s.Action).some((a: string) => a.startsWith('sqs:')));
    assert.equal(sqs.length, 2);
    const consume = sqs.find((s) => asList(s.Action).includes('sqs:ReceiveMessage'));
    assert.ok(asList(consume.Action).includes('sqs:DeleteMessage'));
    assert.deepEqual(consume.Resource, { 'Fn::GetAtt': [ids.queue, 'Arn'] });
    const send = sqs.find((s) => asList(s.Action).includes('sqs:SendMessage'));
    assert.ok(!asList(send.Action).includes('sqs:ReceiveMessage'));
    assert.deepEqual(send.Resource, { 'Fn::GetAtt': [ids.failure, 'Arn'] });
  });

  it('logs: write to its own log group only, no managed policy', () => {
    const [lgId] = only(t, 'AWS::Logs::LogGroup');
    const lg = functionStatements(t).filter((s) => asList(s.Action).some((a: string) => a.startsWith('logs:')));
    assert.equal(lg.length, 1);
    assert.deepEqual(lg[0].Resource, { 'Fn::GetAtt': [lgId, 'Arn'] });
    const [, fn] = floodgateFunction(t);
    const role = t.toJSON().Resources[fn.Properties.Role['Fn::GetAtt'][0]];
    assert.equal(role.Properties.ManagedPolicyArns, undefined);
  });

  it('kms:Decrypt only on the given key for an SSE-KMS log bucket', () => {
    const key = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234`;
    const st = functionStatements(synth({ logBucketName: 'kms-logs', logPrefixes: ['AWSLogs/'], logBucketKmsKeyArn: key })).find((s) => s.Sid === 'DecryptLogObjects');
    assert.deepEqual([st.Action, st.Resource], ['kms:Decrypt', key]);
  });
});

describe('alarms and budget', () => {
  const metricOf = (tmpl: Template, metricName: string) => {
    const found = Object.values(tmpl.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: metricName } })) as any[];
    assert.equal(found.length, 1, `one alarm on ${metricName}`);
    return found[0].Properties;
  };

  it('alarms on errors, throttles, DLQ depth, queue age, failure queue and the EMF metrics, all to the SNS topic', () => {
    // 5 on the function and its queues, 6 on its EMF metrics (alarms.test.ts)
    t.resourceCountIs('AWS::CloudWatch::Alarm', 11);
    const topicId = byPrefix(t, 'AWS::SNS::Topic', 'MonitoringAlarmTopic');
    const [fnId] = floodgateFunction(t);
    const ids = queues(t);

    const errors = metricOf(t, 'Errors');
    assert.equal(errors.Namespace, 'AWS/Lambda');
    assert.deepEqual(errors.Dimensions, [{ Name: 'FunctionName', Value: { Ref: fnId } }]);
    assert.equal(metricOf(t, 'Throttles').Namespace, 'AWS/Lambda');

    const visible = Object.values(t.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'ApproximateNumberOfMessagesVisible' } }))
      .map((a: any) => a.Properties);
    assert.deepEqual(visible.map((a) => a.Dimensions[0].Value['Fn::GetAtt'][0]).sort(), [ids.dlq, ids.failure].sort());
    for (const a of visible) {
      assert.equal(a.ComparisonOperator, 'GreaterThanThreshold');
      assert.equal(a.Threshold, 0);
    }

    const age = metricOf(t, 'ApproximateAgeOfOldestMessage');
    assert.deepEqual(age.Dimensions, [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [ids.queue, 'QueueName'] } }]);
    assert.equal(age.Threshold, 900);

    const sync = metricOf(t, 'SyncFailures');
    assert.equal(sync.Namespace, 'floodgate');
    assert.equal(sync.Dimensions, undefined, 'dimensionless EMF metric');
    assert.equal(sync.Threshold, 1);

    for (const a of Object.values(t.findResources('AWS::CloudWatch::Alarm')) as any[]) {
      assert.deepEqual(a.Properties.AlarmActions, [{ Ref: topicId }]);
      assert.equal(a.Properties.TreatMissingData, 'notBreaching');
    }
    t.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('SyncFailures alarm follows a custom metrics namespace', () => {
    const x = synth({ metricsNamespace: 'acme/floodgate' });
    assert.equal(metricOf(x, 'SyncFailures').Namespace, 'acme/floodgate');
    assert.equal(floodgateFunction(x)[1].Properties.Environment.Variables.FLOODGATE_METRICS_NAMESPACE, 'acme/floodgate');
  });

  it('subscribes the alarm email, which the budget notifies too', () => {
    existing.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    existing.resourceCountIs('AWS::Budgets::Budget', 1);
    existing.hasResourceProperties('AWS::Budgets::Budget', {
      Budget: { BudgetType: 'COST', TimeUnit: 'MONTHLY', BudgetLimit: { Amount: 50, Unit: 'USD' } },
      NotificationsWithSubscribers: Match.arrayWith([Match.objectLike({
        Subscribers: Match.arrayWith([{ SubscriptionType: 'EMAIL', Address: 'ops@example.com' }]),
      })]),
    });
    const b = synth({ budgetEmail: 'billing@example.com' });
    b.hasResourceProperties('AWS::Budgets::Budget', {
      Budget: { BudgetLimit: { Amount: 20, Unit: 'USD' } },
      NotificationsWithSubscribers: Match.arrayWith([Match.objectLike({ Subscribers: Match.arrayWith([{ SubscriptionType: 'EMAIL', Address: 'billing@example.com' }]) })]),
    });
  });
});

describe('outputs', () => {
  it('tells whether the deployment is a dry run and names what floodgate sync needs', () => {
    t.hasOutput('DryRun', { Value: 'true' });
    existing.hasOutput('DryRun', { Value: 'false' });
    for (const o of ['IPv4Sets', 'IPv6Sets', 'IPv4SetArns', 'IPv6SetArns', 'StateUri', 'FailureQueueUrl', 'QueueUrl', 'DeadLetterQueueUrl']) t.hasOutput(o, {});
    t.hasOutput('IPv4Sets', { Value: floodgateFunction(t)[1].Properties.Environment.Variables.FLOODGATE_IPV4_SET });
  });
});
