// Streaming sources (context `sources`): waf-cloudwatch, cloudfront-cloudwatch, cloudfront-realtime.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { DEFAULTS } from '../lib/config';
import { ACCOUNT, asList, byPrefix, envOf, floodgateFunction, functionStatements, makeStack, only, synth } from './helpers';

const ACL = `arn:aws:wafv2:eu-west-1:${ACCOUNT}:regional/webacl/site/abc`;
const joined = (v: unknown) => JSON.stringify(v);
/** The group's own ARN, no ":*" (CloudFormation's Arn attribute ends in ":*", which WAF and log deliveries refuse). */
const logGroupArn = (name: string, region = 'eu-west-1') => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:logs:${region}:${ACCOUNT}:log-group:${name}`]] });

describe('source selection', () => {
  it('default is s3 only: no log groups besides the function\'s, no stream', () => {
    const t = synth();
    t.resourceCountIs('AWS::Logs::LogGroup', 1);
    t.resourceCountIs('AWS::Logs::SubscriptionFilter', 0);
    t.resourceCountIs('AWS::Kinesis::Stream', 0);
    assert.deepEqual(DEFAULTS.sources, ['s3']);
    for (const k of ['FLOODGATE_LOG_GROUPS', 'FLOODGATE_STREAM_ARNS', 'FLOODGATE_REALTIME_FIELDS']) assert.equal(envOf(t)[k], undefined, k);
  });

  it('without s3 there is no log bucket, no queue, no notifications and no S3 env', () => {
    const t = synth({ sources: ['waf-cloudwatch'] });
    t.resourceCountIs('AWS::S3::Bucket', 1); // state
    t.resourceCountIs('Custom::S3BucketNotifications', 0);
    t.resourceCountIs('AWS::SQS::Queue', 1); // failure queue
    byPrefix(t, 'AWS::SQS::Queue', 'FailureQueue');
    t.resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
    const env = envOf(t);
    for (const k of ['FLOODGATE_LOG_BUCKETS', 'FLOODGATE_LOG_PREFIXES', 'FLOODGATE_LOG_SUFFIXES']) assert.equal(env[k], undefined, k);
    assert.equal(functionStatements(t).find((s) => s.Sid === 'ReadLogObjects'), undefined);
    assert.deepEqual(Object.keys(t.findOutputs('*')).filter((o) => ['QueueUrl', 'LogBucketName', 'DeadLetterQueueUrl'].includes(o)), []);
    for (const a of ['DlqNotEmpty', 'QueueBacklog']) assert.equal(Object.keys(t.findResources('AWS::CloudWatch::Alarm')).some((id) => id.includes(a)), false, a);
  });

  it('refuses a logBucketName without the s3 source', () => {
    assert.throws(() => makeStack({ sources: ['waf-cloudwatch'], logBucketName: 'x', logPrefixes: ['a/'] }), /logBucketName is an S3 log source: add s3 to sources/);
  });
});

describe('waf-cloudwatch', () => {
  const t = synth({ sources: ['waf-cloudwatch'] });

  it('creates the aws-waf-logs-<prefix> log group with the stream retention (default 7 days)', () => {
    t.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: 'aws-waf-logs-Floodgate', RetentionInDays: 7 });
    synth({ sources: ['waf-cloudwatch'], streamLogRetentionDays: 14 }).hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: 'aws-waf-logs-Floodgate', RetentionInDays: 14 });
    assert.throws(() => makeStack({ sources: ['waf-cloudwatch'], streamLogRetentionDays: 8 }), /streamLogRetentionDays=8 is not a CloudWatch Logs retention/);
  });

  it('logs the web ACL to the group by its ARN without ":*" (WAF refuses the Arn attribute)', () => {
    const [, l] = only(t, 'AWS::WAFv2::LoggingConfiguration');
    assert.deepEqual(l.Properties.ResourceArn, { 'Fn::GetAtt': ['WebAcl', 'Arn'] });
    assert.deepEqual(l.Properties.LogDestinationConfigs, [logGroupArn('aws-waf-logs-Floodgate')]);
    assert.ok(asList(l.DependsOn).includes(byPrefix(t, 'AWS::Logs::ResourcePolicy', 'StreamLogDeliveryPolicy')));
    const x = synth({ sources: ['waf-cloudwatch'], webAclArn: ACL });
    x.hasResourceProperties('AWS::WAFv2::LoggingConfiguration', { ResourceArn: ACL });
    assert.equal(envOf(x).FLOODGATE_WEB_ACL_ARNS, ACL);
  });

  it('a resource policy lets only log delivery of this account write into the group', () => {
    const [, p] = only(t, 'AWS::Logs::ResourcePolicy');
    const text = joined(p.Properties.PolicyDocument);
    assert.match(text, /delivery\.logs\.amazonaws\.com/);
    assert.match(text, /logs:CreateLogStream/);
    assert.match(text, /logs:PutLogEvents/);
    assert.match(text, /aws:SourceAccount/);
    assert.match(text, /log-group:aws-waf-logs-Floodgate:log-stream:\*/);
  });

  it('subscribes the function to all events of the group, invokable by logs.amazonaws.com for that group only', () => {
    const [fnId] = floodgateFunction(t);
    const [, f] = only(t, 'AWS::Logs::SubscriptionFilter');
    assert.equal(f.Properties.FilterPattern, '');
    assert.deepEqual(f.Properties.LogGroupName, { Ref: byPrefix(t, 'AWS::Logs::LogGroup', 'WafLogGroup') });
    assert.deepEqual(f.Properties.DestinationArn, { 'Fn::GetAtt': [fnId, 'Arn'] });
    const [, perm] = only(t, 'AWS::Lambda::Permission', { Principal: 'logs.amazonaws.com' });
    assert.deepEqual(perm.Properties.SourceArn, { 'Fn::GetAtt': [byPrefix(t, 'AWS::Logs::LogGroup', 'WafLogGroup'), 'Arn'] });
    assert.equal(perm.Properties.Action, 'lambda:InvokeFunction');
  });

  it('sets FLOODGATE_LOG_GROUPS and outputs the groups', () => {
    assert.equal(envOf(t).FLOODGATE_LOG_GROUPS, 'aws-waf-logs-Floodgate');
    t.hasOutput('LogGroups', { Value: 'aws-waf-logs-Floodgate' });
  });

  it('needs a web ACL', () => {
    assert.throws(() => makeStack({ sources: ['waf-cloudwatch'], createWebAcl: false }), /waf-cloudwatch needs a web ACL to log/);
  });

  it('cannot be combined with s3 on a new log bucket (one logging destination per web ACL), but can with an existing bucket', () => {
    assert.throws(() => makeStack({ sources: ['s3', 'waf-cloudwatch'] }), /a web ACL has exactly ONE logging destination/);
    const x = synth({ sources: ['s3', 'waf-cloudwatch'], logBucketName: 'alb-logs', logPrefixes: ['alb/'], createWebAcl: true });
    x.resourceCountIs('AWS::WAFv2::LoggingConfiguration', 1);
    x.hasResourceProperties('AWS::WAFv2::LoggingConfiguration', { LogDestinationConfigs: [logGroupArn('aws-waf-logs-Floodgate')] });
    assert.equal(envOf(x).FLOODGATE_LOG_BUCKETS, 'alb-logs');
  });
});

describe('cloudfront-cloudwatch', () => {
  const props = { sources: ['cloudfront-cloudwatch' as const], distributionId: 'E2ABCDEF123456', scope: 'CLOUDFRONT' as const };
  const t = synth(props, 'us-east-1');
  const group = '/aws/vendedlogs/floodgate/Floodgate-cloudfront';

  it('requires distributionId and us-east-1', () => {
    assert.throws(() => makeStack({ sources: ['cloudfront-cloudwatch'] }, 'us-east-1'), /needs -c distributionId=/);
    assert.throws(() => makeStack({ sources: ['cloudfront-cloudwatch'], distributionId: 'E2ABCDEF123456' }, 'eu-west-1'),
      /cloudfront-cloudwatch requires the stack region to be us-east-1.*eu-west-1/);
    assert.throws(() => makeStack({ ...props, distributionId: 'd111.cloudfront.net' }, 'us-east-1'), /not a CloudFront distribution id/);
  });

  it('delivers ACCESS_LOGS of the distribution as JSON into a log group', () => {
    const [srcId, src] = only(t, 'AWS::Logs::DeliverySource');
    assert.equal(src.Properties.LogType, 'ACCESS_LOGS');
    assert.deepEqual(src.Properties.ResourceArn, { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudfront::', { Ref: 'AWS::AccountId' }, ':distribution/E2ABCDEF123456']] });
    const [dstId, dst] = only(t, 'AWS::Logs::DeliveryDestination');
    assert.equal(dst.Properties.OutputFormat, 'json');
    assert.deepEqual(dst.Properties.DestinationResourceArn, logGroupArn(group, 'us-east-1'));
    const [, d] = only(t, 'AWS::Logs::Delivery');
    assert.equal(d.Properties.DeliverySourceName, src.Properties.Name);
    assert.deepEqual(d.Properties.DeliveryDestinationArn, { 'Fn::GetAtt': [dstId, 'Arn'] });
    for (const dep of [srcId, dstId, byPrefix(t, 'AWS::Logs::ResourcePolicy', 'StreamLogDeliveryPolicy')]) assert.ok(asList(d.DependsOn).includes(dep), dep);
    t.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: group, RetentionInDays: 7 });
  });

  it('subscribes the function and sets FLOODGATE_LOG_GROUPS', () => {
    t.resourceCountIs('AWS::Logs::SubscriptionFilter', 1);
    assert.equal(envOf(t).FLOODGATE_LOG_GROUPS, group);
    t.hasResourceProperties('AWS::Lambda::Permission', { Principal: 'logs.amazonaws.com' });
  });

  it('with waf-cloudwatch too: both groups, one resource policy, both in FLOODGATE_LOG_GROUPS', () => {
    const x = synth({ ...props, sources: ['waf-cloudwatch', 'cloudfront-cloudwatch'] }, 'us-east-1');
    x.resourceCountIs('AWS::Logs::SubscriptionFilter', 2);
    x.resourceCountIs('AWS::Logs::ResourcePolicy', 1);
    assert.equal(envOf(x).FLOODGATE_LOG_GROUPS, `aws-waf-logs-Floodgate,${group}`);
  });
});

describe('cloudfront-realtime', () => {
  const t = synth({ sources: ['cloudfront-realtime'] });

  it('creates an encrypted, provisioned Kinesis stream (1 shard by default)', () => {
    const [, s] = only(t, 'AWS::Kinesis::Stream');
    assert.equal(s.Properties.ShardCount, 1);
    assert.deepEqual(s.Properties.StreamModeDetails, { StreamMode: 'PROVISIONED' });
    assert.deepEqual(s.Properties.StreamEncryption, { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' });
    const [, s3] = only(synth({ sources: ['cloudfront-realtime'], realtimeShards: 3 }), 'AWS::Kinesis::Stream');
    assert.equal(s3.Properties.ShardCount, 3);
  });

  it('a real-time log config samples 100% with the default fields, through a role CloudFront assumes', () => {
    const [, c] = only(t, 'AWS::CloudFront::RealtimeLogConfig');
    const streamId = byPrefix(t, 'AWS::Kinesis::Stream', 'RealtimeStream');
    const roleId = byPrefix(t, 'AWS::IAM::Role', 'RealtimeLogRole');
    assert.equal(c.Properties.SamplingRate, 100);
    assert.deepEqual(c.Properties.Fields, ['timestamp', 'c-ip', 'cs-method', 'cs-host', 'x-host-header', 'cs-uri-stem', 'cs-uri-query',
      'sc-status', 'cs-user-agent', 'x-forwarded-for', 'c-country']);
    assert.deepEqual(c.Properties.EndPoints, [{ StreamType: 'Kinesis', KinesisStreamConfig: { RoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] }, StreamArn: { 'Fn::GetAtt': [streamId, 'Arn'] } } }]);
    assert.deepEqual(c.Properties.Name, { 'Fn::Join': ['-', ['Floodgate', { Ref: 'AWS::Region' }, 'realtime']] });
    const role = t.toJSON().Resources[roleId];
    assert.deepEqual(role.Properties.AssumeRolePolicyDocument.Statement[0].Principal, { Service: 'cloudfront.amazonaws.com' });
    const st = role.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement);
    assert.equal(st.length, 1);
    assert.deepEqual(asList(st[0].Action).sort(), ['kinesis:DescribeStream', 'kinesis:DescribeStreamSummary', 'kinesis:PutRecord', 'kinesis:PutRecords']);
    assert.deepEqual(st[0].Resource, { 'Fn::GetAtt': [streamId, 'Arn'] });
    t.hasOutput('RealtimeLogConfigArn', { Value: { 'Fn::GetAtt': [byPrefix(t, 'AWS::CloudFront::RealtimeLogConfig', 'RealtimeLogConfig'), 'Arn'] }, Description: Match.stringLikeRegexp('Attach to the cache behaviours') });
  });

  it('only CloudFront acting for this account may assume the role (aws:SourceAccount, checked whenever CloudFront sends it)', () => {
    const trust = t.toJSON().Resources[byPrefix(t, 'AWS::IAM::Role', 'RealtimeLogRole')].Properties.AssumeRolePolicyDocument.Statement;
    assert.equal(trust.length, 1);
    assert.deepEqual(trust[0].Action, 'sts:AssumeRole');
    assert.deepEqual(trust[0].Principal, { Service: 'cloudfront.amazonaws.com' });
    assert.deepEqual(trust[0].Condition, { StringEqualsIfExists: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } });
  });

  it('a Kinesis event source: LATEST, partial batch failures, bisect, bounded retries and age, failures to the failure queue', () => {
    const [, m] = only(t, 'AWS::Lambda::EventSourceMapping');
    const p = m.Properties;
    assert.equal(p.StartingPosition, 'LATEST');
    assert.deepEqual(p.FunctionResponseTypes, ['ReportBatchItemFailures']);
    assert.equal(p.BisectBatchOnFunctionError, true);
    assert.equal(p.MaximumRetryAttempts, 3);
    assert.equal(p.MaximumRecordAgeInSeconds, 3600);
    assert.equal(p.ParallelizationFactor, 1);
    assert.deepEqual(p.DestinationConfig.OnFailure.Destination, { 'Fn::GetAtt': [byPrefix(t, 'AWS::SQS::Queue', 'FailureQueue'), 'Arn'] });
    assert.deepEqual(p.EventSourceArn, { 'Fn::GetAtt': [byPrefix(t, 'AWS::Kinesis::Stream', 'RealtimeStream'), 'Arn'] });
  });

  it('the function may read that stream only', () => {
    const streamArn = { 'Fn::GetAtt': [byPrefix(t, 'AWS::Kinesis::Stream', 'RealtimeStream'), 'Arn'] };
    const k = functionStatements(t).filter((s) => asList(s.Action).some((a: string) => a.startsWith('kinesis:')));
    assert.ok(k.length >= 1);
    for (const s of k) {
      assert.deepEqual(s.Resource, streamArn);
      for (const a of asList(s.Action)) assert.ok(!/Put|Create|Delete|Update/.test(a), `write action ${a}`);
    }
    assert.ok(k.some((s) => asList(s.Action).includes('kinesis:GetRecords')));
  });

  it('sets FLOODGATE_STREAM_ARNS and FLOODGATE_REALTIME_FIELDS (the config\'s Fields, in order)', () => {
    const env = envOf(t);
    assert.deepEqual(env.FLOODGATE_STREAM_ARNS, { 'Fn::GetAtt': [byPrefix(t, 'AWS::Kinesis::Stream', 'RealtimeStream'), 'Arn'] });
    const [, c] = only(t, 'AWS::CloudFront::RealtimeLogConfig');
    assert.equal(env.FLOODGATE_REALTIME_FIELDS, c.Properties.Fields.join(','));
    const x = synth({ sources: ['cloudfront-realtime'], realtimeFields: ['c-ip', 'timestamp', 'cs-uri-stem'] });
    assert.equal(envOf(x).FLOODGATE_REALTIME_FIELDS, 'c-ip,timestamp,cs-uri-stem');
    assert.deepEqual(only(x, 'AWS::CloudFront::RealtimeLogConfig')[1].Properties.Fields, ['c-ip', 'timestamp', 'cs-uri-stem']);
  });

  it('refuses fields without timestamp or c-ip, repeated or malformed fields', () => {
    assert.throws(() => makeStack({ sources: ['cloudfront-realtime'], realtimeFields: ['c-ip', 'cs-uri-stem'] }), /must include timestamp and c-ip/);
    assert.throws(() => makeStack({ sources: ['cloudfront-realtime'], realtimeFields: ['timestamp', 'c-ip', 'c-ip'] }), /must not repeat/);
    assert.throws(() => makeStack({ sources: ['cloudfront-realtime'], realtimeFields: ['timestamp', 'c ip'] }), /field names/);
  });

  it('alarms on the iterator age of the stream', () => {
    const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'IteratorAge' } })) as any[];
    assert.equal(alarms.length, 1);
    assert.equal(alarms[0].Properties.Threshold, 900_000);
  });

  it('with scope REGIONAL, warns that the IP sets cannot block at the distribution', () => {
    Annotations.fromStack(makeStack({ sources: ['cloudfront-realtime'] }))
      .hasWarning('/Floodgate', Match.stringLikeRegexp('scope REGIONAL: the IP sets can block only at a regional'));
    assert.deepEqual(Annotations.fromStack(makeStack({ sources: ['cloudfront-realtime'], scope: 'CLOUDFRONT' }, 'us-east-1'))
      .findWarning('/Floodgate', Match.stringLikeRegexp('scope REGIONAL')), []);
  });
});

describe('logsDelivery=kinesis (the subscriptions deliver into a stream read in batches)', () => {
  const t = synth({ sources: ['waf-cloudwatch'], logsDelivery: 'kinesis', logsShards: 2 });
  const streamArn = () => ({ 'Fn::GetAtt': [byPrefix(t, 'AWS::Kinesis::Stream', 'LogsStream'), 'Arn'] });

  it('default is one invocation per delivery: no stream', () => {
    const x = synth({ sources: ['waf-cloudwatch'] });
    x.resourceCountIs('AWS::Kinesis::Stream', 0);
    x.resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
    assert.equal(DEFAULTS.logsDelivery, 'lambda');
  });

  it('creates an encrypted provisioned stream of logsShards shards', () => {
    const [, s] = only(t, 'AWS::Kinesis::Stream');
    assert.equal(s.Properties.ShardCount, 2);
    assert.deepEqual(s.Properties.StreamEncryption, { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' });
  });

  it('the subscription filter delivers into the stream through a role only CloudWatch Logs of these groups assumes', () => {
    const [, f] = only(t, 'AWS::Logs::SubscriptionFilter');
    const roleId = byPrefix(t, 'AWS::IAM::Role', 'LogsSubscriptionRole');
    assert.deepEqual(f.Properties.DestinationArn, streamArn());
    assert.deepEqual(f.Properties.RoleArn, { 'Fn::GetAtt': [roleId, 'Arn'] });
    assert.deepEqual(t.findResources('AWS::Lambda::Permission', { Properties: { Principal: 'logs.amazonaws.com' } }), {}, 'CloudWatch Logs does not invoke the function');
    const role = t.toJSON().Resources[roleId];
    const trust = role.Properties.AssumeRolePolicyDocument.Statement[0];
    assert.deepEqual(trust.Principal, { Service: 'logs.amazonaws.com' });
    assert.match(joined(trust.Condition.StringLike['aws:SourceArn']), /log-group:aws-waf-logs-Floodgate:\*/);
    const policies = Object.values(t.findResources('AWS::IAM::Policy')) as any[];
    const mine = policies.filter((p) => asList(p.Properties.Roles).some((r: any) => joined(r).includes(roleId)));
    const st = mine.flatMap((p) => p.Properties.PolicyDocument.Statement);
    const kinesisActions = st.flatMap((s: any) => asList(s.Action)).filter((a: string) => a.startsWith('kinesis:'));
    assert.ok(kinesisActions.includes('kinesis:PutRecord'), joined(kinesisActions));
    for (const s of st.filter((s: any) => asList(s.Action).some((a: string) => a.startsWith('kinesis:')))) {
      assert.deepEqual(s.Resource, streamArn());
    }
  });

  it('the function reads the stream like the real-time one (LATEST, partial failures, bisect, parallelization 1)', () => {
    const [, m] = only(t, 'AWS::Lambda::EventSourceMapping');
    const p = m.Properties;
    assert.deepEqual(p.EventSourceArn, streamArn());
    assert.equal(p.ParallelizationFactor, 1);
    assert.deepEqual(p.FunctionResponseTypes, ['ReportBatchItemFailures']);
    assert.equal(p.BisectBatchOnFunctionError, true);
    assert.equal(p.MaximumBatchingWindowInSeconds, 1);
    assert.deepEqual(p.DestinationConfig.OnFailure.Destination, { 'Fn::GetAtt': [byPrefix(t, 'AWS::SQS::Queue', 'FailureQueue'), 'Arn'] });
    const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'IteratorAge' } }));
    assert.equal(alarms.length, 1);
  });

  it('names the stream and the groups to the function; with the real-time stream too, both ARNs', () => {
    const env = envOf(t);
    assert.deepEqual(env.FLOODGATE_STREAM_ARNS, streamArn());
    assert.equal(env.FLOODGATE_LOG_GROUPS, 'aws-waf-logs-Floodgate');
    const x = synth({ sources: ['waf-cloudwatch', 'cloudfront-realtime'], logsDelivery: 'kinesis' });
    const arns = joined(envOf(x).FLOODGATE_STREAM_ARNS);
    assert.match(arns, /LogsStream/);
    assert.match(arns, /RealtimeStream/);
    x.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
  });

  it('counts one invocation per shard toward reservedConcurrency, and refuses settings without a CloudWatch Logs source', () => {
    assert.throws(() => makeStack({ sources: ['waf-cloudwatch'], logsDelivery: 'kinesis', logsShards: 4, reservedConcurrency: 4 }),
      /reservedConcurrency=4 is below .*: 5 = 4 \(logsShards/);
    makeStack({ sources: ['waf-cloudwatch'], logsDelivery: 'kinesis', logsShards: 4, reservedConcurrency: 5 });
    assert.throws(() => makeStack({ sources: ['s3'], logsDelivery: 'kinesis' }), /logsDelivery and logsShards configure the CloudWatch Logs sources/);
    assert.throws(() => makeStack({ sources: ['waf-cloudwatch'], logsShards: 2 }), /set logsDelivery=kinesis/);
    assert.throws(() => makeStack({ sources: ['waf-cloudwatch'], logsDelivery: 'kinesis', logsShards: 0 }), /logsShards must be an integer in 1\.\.500/);
  });
});
