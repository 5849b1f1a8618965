// What the stack deploys: one test per item of the deployment contract (docs/deploy.md).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { Match, Template } from 'aws-cdk-lib/assertions';
import {
  ACCOUNT, CONFIG_PATH, TMP, asList, floodgateFunction, functionStatements, only, synth,
} from './helpers';

const ENV_NAMES = [
  'FLOODGATE_STATE_BUCKET', 'FLOODGATE_STATE_KEY', 'FLOODGATE_REPORTS_PREFIX', 'FLOODGATE_IPV4_SET',
  'FLOODGATE_IPV6_SET', 'FLOODGATE_SCOPE', 'FLOODGATE_CONFIG_TOML', 'FLOODGATE_DRY_RUN',
  'FLOODGATE_LOG_PREFIXES', 'FLOODGATE_LOG_SUFFIXES', 'FLOODGATE_METRICS_NAMESPACE', 'RUST_LOG',
].sort();

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
  it('creates an IPV4 and an IPV6 IP set with the requested scope', () => {
    t.resourceCountIs('AWS::WAFv2::IPSet', 2);
    t.hasResourceProperties('AWS::WAFv2::IPSet', { Name: 'Floodgate-ipv4', IPAddressVersion: 'IPV4', Scope: 'REGIONAL', Addresses: [] });
    t.hasResourceProperties('AWS::WAFv2::IPSet', { Name: 'Floodgate-ipv6', IPAddressVersion: 'IPV6', Scope: 'REGIONAL', Addresses: [] });
    const cf = synth({ scope: 'CLOUDFRONT' }, 'us-east-1');
    cf.resourceCountIs('AWS::WAFv2::IPSet', 2);
    for (const v of ['IPV4', 'IPV6']) cf.hasResourceProperties('AWS::WAFv2::IPSet', { IPAddressVersion: v, Scope: 'CLOUDFRONT' });
    cf.hasResourceProperties('AWS::WAFv2::WebACL', { Scope: 'CLOUDFRONT' });
  });

  it('creates a web ACL (default allow) whose blocking rule references both IP sets', () => {
    t.resourceCountIs('AWS::WAFv2::WebACL', 1);
    t.hasResourceProperties('AWS::WAFv2::WebACL', {
      DefaultAction: { Allow: {} },
      Scope: 'REGIONAL',
      Rules: [Match.objectLike({
        Action: { Block: {} },
        Statement: {
          OrStatement: {
            Statements: [
              { IPSetReferenceStatement: { Arn: { 'Fn::GetAtt': ['IPv4Set', 'Arn'] } } },
              { IPSetReferenceStatement: { Arn: { 'Fn::GetAtt': ['IPv6Set', 'Arn'] } } },
            ],
          },
        },
      })],
    });
    t.hasOutput('WebAclArn', {});
  });

  it('without a web ACL, outputs the IP set ARNs to attach to an existing one', () => {
    existing.resourceCountIs('AWS::WAFv2::WebACL', 0);
    existing.hasOutput('IPv4SetArn', { Value: { 'Fn::GetAtt': ['IPv4Set', 'Arn'] } });
    existing.hasOutput('IPv6SetArn', { Value: { 'Fn::GetAtt': ['IPv6Set', 'Arn'] } });
    existing.hasOutput('AttachIpSets', {});
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
    assert.deepEqual(q[0].QueueArn, { 'Fn::GetAtt': [only(t, 'AWS::SQS::Queue', { RedrivePolicy: Match.anyValue() })[0], 'Arn'] });
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
  it('main queue and DLQ use SSE, the main queue redrives to the DLQ after 5 receives', () => {
    t.resourceCountIs('AWS::SQS::Queue', 2);
    const [dlqId, dlq] = only(t, 'AWS::SQS::Queue', { RedrivePolicy: Match.absent() });
    const [, q] = only(t, 'AWS::SQS::Queue', { RedrivePolicy: Match.anyValue() });
    assert.equal(dlq.Properties.SqsManagedSseEnabled, true);
    assert.equal(q.Properties.SqsManagedSseEnabled, true);
    assert.deepEqual(q.Properties.RedrivePolicy, { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 5 });
    assert.equal(q.Properties.VisibilityTimeout, 6 * 300);
    const [, q2] = only(existing, 'AWS::SQS::Queue', { RedrivePolicy: Match.anyValue() });
    assert.equal(q2.Properties.VisibilityTimeout, 6 * 120);
    assert.equal(q2.Properties.RedrivePolicy.maxReceiveCount, 7);
  });

  it('both queues deny non-TLS access (enforceSSL)', () => {
    const policies = Object.values(t.findResources('AWS::SQS::QueuePolicy')) as any[];
    assert.equal(policies.length, 2);
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
    assert.equal(p.ReservedConcurrentExecutions, 1);
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
    assert.deepEqual(env.FLOODGATE_IPV4_SET, { 'Fn::Join': ['', ['Floodgate-ipv4:', { 'Fn::GetAtt': ['IPv4Set', 'Id'] }]] });
    assert.deepEqual(env.FLOODGATE_IPV6_SET, { 'Fn::Join': ['', ['Floodgate-ipv6:', { 'Fn::GetAtt': ['IPv6Set', 'Id'] }]] });
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

  it('wafv2 Get/UpdateIPSet on the two IP set ARNs only', () => {
    const st = functionStatements(t).filter((s) => asList(s.Action).some((a: string) => a.startsWith('wafv2:')));
    assert.equal(st.length, 1);
    assert.deepEqual(asList(st[0].Action).sort(), ['wafv2:GetIPSet', 'wafv2:UpdateIPSet']);
    assert.deepEqual(st[0].Resource, [{ 'Fn::GetAtt': ['IPv4Set', 'Arn'] }, { 'Fn::GetAtt': ['IPv6Set', 'Arn'] }]);
  });

  it('s3 object access: GetObject on log prefixes, Get/PutObject on state and reports prefixes', () => {
    const [logId] = only(t, 'AWS::S3::Bucket', { BucketName: Match.anyValue() });
    const [stateId] = only(t, 'AWS::S3::Bucket', { BucketName: Match.absent() });
    const s3 = functionStatements(t).filter((s) => asList(s.Action).some((a: string) => a.startsWith('s3:')));
    const byActions = new Map(s3.map((s) => [asList(s.Action).sort().join(','), s.Resource]));
    assert.deepEqual([...byActions.keys()].sort(), ['s3:GetObject', 's3:GetObject,s3:PutObject', 's3:ListBucket']);
    assert.deepEqual(byActions.get('s3:GetObject'), arnJoin(logId, '/AWSLogs/*'));
    assert.deepEqual(byActions.get('s3:GetObject,s3:PutObject'), [arnJoin(stateId, '/state/*'), arnJoin(stateId, '/reports/*')]);
    assert.deepEqual(byActions.get('s3:ListBucket'), { 'Fn::GetAtt': [stateId, 'Arn'] });

    const e = functionStatements(existing).find((s) => s.Sid === 'ReadLogObjects');
    assert.deepEqual(e.Action, 's3:GetObject');
    const resources = JSON.stringify(e.Resource);
    assert.ok(resources.includes(':s3:::my-alb-logs/alb/AWSLogs/*') && resources.includes(':s3:::my-alb-logs/cf/*'), resources);
  });

  it('SQS consume permissions on the queue only (from the event source)', () => {
    const [qId] = only(t, 'AWS::SQS::Queue', { RedrivePolicy: Match.anyValue() });
    const sqs = functionStatements(t).filter((s) => asList(s.Action).some((a: string) => a.startsWith('sqs:')));
    assert.equal(sqs.length, 1);
    assert.ok(asList(sqs[0].Action).includes('sqs:DeleteMessage'));
    assert.deepEqual(sqs[0].Resource, { 'Fn::GetAtt': [qId, 'Arn'] });
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
    const st = functionStatements(synth({ logBucketName: 'kms-logs', logBucketKmsKeyArn: key })).find((s) => s.Sid === 'DecryptLogObjects');
    assert.deepEqual([st.Action, st.Resource], ['kms:Decrypt', key]);
  });
});

describe('alarms and budget', () => {
  const metricOf = (tmpl: Template, metricName: string) => {
    const found = Object.values(tmpl.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: metricName } })) as any[];
    assert.equal(found.length, 1, `one alarm on ${metricName}`);
    return found[0].Properties;
  };

  it('alarms on errors, throttles, DLQ depth, queue age and the SyncFailures EMF metric, all to the SNS topic', () => {
    t.resourceCountIs('AWS::CloudWatch::Alarm', 5);
    const [topicId] = only(t, 'AWS::SNS::Topic');
    const [fnId] = floodgateFunction(t);
    const [dlqId] = only(t, 'AWS::SQS::Queue', { RedrivePolicy: Match.absent() });
    const [qId] = only(t, 'AWS::SQS::Queue', { RedrivePolicy: Match.anyValue() });

    const errors = metricOf(t, 'Errors');
    assert.equal(errors.Namespace, 'AWS/Lambda');
    assert.deepEqual(errors.Dimensions, [{ Name: 'FunctionName', Value: { Ref: fnId } }]);
    assert.equal(metricOf(t, 'Throttles').Namespace, 'AWS/Lambda');

    const dlq = metricOf(t, 'ApproximateNumberOfMessagesVisible');
    assert.deepEqual(dlq.Dimensions, [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }]);
    assert.equal(dlq.ComparisonOperator, 'GreaterThanThreshold');
    assert.equal(dlq.Threshold, 0);

    const age = metricOf(t, 'ApproximateAgeOfOldestMessage');
    assert.deepEqual(age.Dimensions, [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [qId, 'QueueName'] } }]);
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

  it('subscribes the alarm email and creates a monthly budget notifying at 80% actual', () => {
    existing.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    existing.resourceCountIs('AWS::Budgets::Budget', 1);
    existing.hasResourceProperties('AWS::Budgets::Budget', {
      Budget: { BudgetType: 'COST', TimeUnit: 'MONTHLY', BudgetLimit: { Amount: 50, Unit: 'USD' } },
      NotificationsWithSubscribers: [{
        Notification: { NotificationType: 'ACTUAL', ComparisonOperator: 'GREATER_THAN', Threshold: 80, ThresholdType: 'PERCENTAGE' },
        Subscribers: [{ SubscriptionType: 'EMAIL', Address: 'ops@example.com' }],
      }],
    });
    const b = synth({ budgetEmail: 'billing@example.com' });
    b.hasResourceProperties('AWS::Budgets::Budget', {
      Budget: { BudgetLimit: { Amount: 20, Unit: 'USD' } },
      NotificationsWithSubscribers: [Match.objectLike({ Subscribers: [{ SubscriptionType: 'EMAIL', Address: 'billing@example.com' }] })],
    });
  });

  it('skips the budget without an email and says so in an output', () => {
    t.resourceCountIs('AWS::Budgets::Budget', 0);
    t.hasOutput('Budget', { Value: Match.stringLikeRegexp('^skipped') });
    existing.hasOutput('Budget', { Value: Match.stringLikeRegexp('^monthly 50 USD') });
  });
});

describe('outputs', () => {
  it('tells whether the deployment is a dry run', () => {
    t.hasOutput('DryRun', { Value: 'true' });
    existing.hasOutput('DryRun', { Value: 'false' });
    t.hasOutput('IPv4SetNameId', {});
    t.hasOutput('StateUri', {});
  });
});
