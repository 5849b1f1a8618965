// cdk-nag AwsSolutions pack: every finding is either fixed in the stack or acknowledged there with a
// reason (lib/nag.ts). A new resource or permission that trips a rule
// fails this test until it is fixed or consciously suppressed.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { Aspects } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FloodgateStackProps } from '../lib/floodgate-stack';
import { TMP, makeStack } from './helpers';

const NAG = Match.stringLikeRegexp('AwsSolutions-.*');

function findings(props: FloodgateStackProps, region?: string): string[] {
  const stack = makeStack(props, region);
  Aspects.of(stack).add(new AwsSolutionsChecks({ verbose: true }));
  const a = Annotations.fromStack(stack); // synthesizes the stack, running the checks
  return [...a.findError('*', NAG), ...a.findWarning('*', NAG)]
    .map((m) => `${m.entry.type} ${m.id}: ${String(m.entry.data).split('\n')[0]}`);
}

function assertClean(props: FloodgateStackProps, region?: string): void {
  const found = findings(props, region);
  assert.deepEqual(found, [], `unsuppressed cdk-nag AwsSolutions findings:\n${found.join('\n')}`);
}

describe('cdk-nag AwsSolutions', () => {
  it('default deployment (new log bucket, new web ACL, REGIONAL) has no unsuppressed findings', () => {
    assertClean({});
  });

  it('existing log bucket with several prefixes, KMS, email alarms and budget has no unsuppressed findings', () => {
    assertClean({
      logBucketName: 'my-alb-logs',
      logPrefixes: ['alb/AWSLogs/', 'cf/'],
      sources: ['s3', 'cloudfront-realtime'],
      logBucketKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      alarmEmail: 'ops@example.com',
      stateKey: 'shards/v2/floodgate.state',
      reportsPrefix: 'runs/',
    });
  });

  it('CLOUDFRONT scope in us-east-1 has no unsuppressed findings', () => {
    assertClean({ scope: 'CLOUDFRONT' }, 'us-east-1');
  });

  it('every streaming source at once (CLOUDFRONT, us-east-1) has no unsuppressed findings', () => {
    assertClean({
      scope: 'CLOUDFRONT', sources: ['waf-cloudwatch', 'cloudfront-cloudwatch', 'cloudfront-realtime'],
      distributionId: 'E2ABCDEF123456', realtimeShards: 2, reservedConcurrency: 10,
    }, 'us-east-1');
  });

  it('the CloudWatch Logs sources delivering into a Kinesis stream have no unsuppressed findings', () => {
    assertClean({
      scope: 'CLOUDFRONT', sources: ['waf-cloudwatch', 'cloudfront-cloudwatch'], logsDelivery: 'kinesis', logsShards: 2,
      distributionId: 'E2ABCDEF123456', reservedConcurrency: 10,
    }, 'us-east-1');
  });

  it('S3 events through EventBridge, allowlist files, existing notification topic, break-glass role: no unsuppressed findings', () => {
    const allow = path.join(TMP, 'nag-allow.txt');
    fs.writeFileSync(allow, '130.176.0.0/18\n');
    assertClean({
      s3Events: 'eventbridge', allowlistFiles: [allow], ipSetsPerVersion: 5,
      notifyTopicArn: 'arn:aws:sns:eu-west-1:123456789012:ops', breakGlassRoleArn: 'arn:aws:iam::123456789012:role/admin',
    });
    assertClean({ logBucketName: 'alb-logs', logPrefixes: ['alb/'], s3Events: 'eventbridge', notifications: false, budget: false });
  });

  it('partials=true (reducer queue, state bucket notification, partials grant) has no unsuppressed findings', () => {
    assertClean({ partials: true });
    // Without the s3 source the state bucket's notification is the only one (CDK's handler appears for it alone).
    assertClean({ partials: true, partialsPrefix: 'merge/', sources: ['waf-cloudwatch'], breakGlassRoleArn: 'arn:aws:iam::123456789012:role/admin' });
  });

  it('the check is live: a wildcard outside the acknowledged prefixes is reported', () => {
    // Guards against suppressions that match everything (or an aspect that never runs).
    const stack = makeStack({});
    stack.fn.addToRolePolicy(new iam.PolicyStatement({
      actions: ['s3:GetObject'], resources: [stack.stateBucket.arnForObjects('other/*')],
    }));
    Aspects.of(stack).add(new AwsSolutionsChecks());
    const errors = Annotations.fromStack(stack).findError('*', NAG).map((m) => String(m.entry.data));
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.match(errors[0], /AwsSolutions-IAM5\[Resource::<StateBucket[0-9A-F]{8}\.Arn>\/other\/\*\]/);
  });
});
