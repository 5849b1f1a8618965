// cdk-nag (AwsSolutions): test/nag.test.ts requires zero unsuppressed findings. Each finding that
// does not apply is acknowledged here, on the narrowest construct, with the reason
// (docs/deploy.md "cdk-nag").
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';

export interface NagProps {
  readonly role: iam.IRole;
  readonly stateBucket: s3.Bucket;
  readonly stateScope: string;
  readonly reportsPrefix: string;
  /** `partials=true`: the partials' prefix in the state bucket. */
  readonly partialsPrefix?: string;
  /** The s3 source: its bucket (a created one is suppressed for S1), the existing bucket's name, the log prefixes. */
  readonly logBucket?: s3.IBucket;
  readonly existingLogBucket?: string;
  readonly logPrefixes: string[];
  readonly failureQueue: sqs.IQueue;
}

/** A cdk-nag `appliesTo` regex matching `s` literally. */
function literal(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

export function applyNagSuppressions(stack: Stack, p: NagProps): void {
  const s3AccessLogsReason = 'Server access logs would need a further bucket (which could not log itself). ' +
    'Writes come only from the floodgate role and the WAF log delivery service; use CloudTrail S3 data events for an audit trail.';
  if (p.logBucket instanceof s3.Bucket) {
    NagSuppressions.addResourceSuppressions(p.logBucket, [{
      id: 'AwsSolutions-S1',
      reason: `This bucket is itself a log sink (WAF log delivery). ${s3AccessLogsReason}`,
    }]);
  }
  NagSuppressions.addResourceSuppressions(p.stateBucket, [{
    id: 'AwsSolutions-S1',
    reason: `Private, versioned state/report bucket. ${s3AccessLogsReason}`,
  }]);
  NagSuppressions.addResourceSuppressions(p.failureQueue, [{
    id: 'AwsSolutions-SQS3',
    reason: 'This queue IS a dead-letter queue: of the schedule target, of the function\'s asynchronous invocations and of ' +
      'the Kinesis event source (they name it directly instead of through a redrive policy, which SQS3 looks for).',
  }]);

  const arnRef = (logicalPrefix: string) => `<${logicalPrefix}[0-9A-F]{8}\\.Arn>`;
  const logBucketArn = p.existingLogBucket !== undefined ? literal(`arn:<AWS::Partition>:s3:::${p.existingLogBucket}`) : arnRef('LogBucket');
  const wildcard = (bucketArn: string, keyPattern: string) => ({ regex: `/^Resource::${bucketArn}\\/${literal(keyPattern)}$/` });
  NagSuppressions.addResourceSuppressions(p.role, [{
    id: 'AwsSolutions-IAM5',
    reason: 'Object-key wildcards scoped to one prefix each: ' +
      (p.logPrefixes.length > 0
        ? `s3:GetObject/GetObjectVersion on the configured log prefixes (${p.logPrefixes.map((x) => `${x}*`).join(', ')}; log object keys are not known in advance), and `
        : '') +
      `s3:GetObject/PutObject on ${p.stateScope} (the state object's folder, for state shards) and ${p.reportsPrefix}* (one report per run) in the state bucket` +
      (p.partialsPrefix !== undefined
        ? `, and s3:GetObject/PutObject/DeleteObject on ${p.partialsPrefix}* (partials: one object per reading invocation, named at write time, deleted once merged).`
        : '.'),
    appliesTo: [
      ...p.logPrefixes.map((x) => wildcard(logBucketArn, `${x}*`)),
      wildcard(arnRef('StateBucket'), p.stateScope),
      wildcard(arnRef('StateBucket'), `${p.reportsPrefix}*`),
      ...(p.partialsPrefix !== undefined ? [wildcard(arnRef('StateBucket'), `${p.partialsPrefix}*`)] : []),
    ],
  }], true);
  // CDK's singleton handler that configures the bucket notifications (a CloudFormation custom resource).
  for (const handler of stack.node.children.filter((c) => c.node.id.startsWith('BucketNotificationsHandler'))) {
    NagSuppressions.addResourceSuppressions(handler, [{
      id: 'AwsSolutions-IAM4',
      reason: 'CDK-managed custom resource that sets the S3 bucket notifications at deploy time; its role uses ' +
        'AWSLambdaBasicExecutionRole (CloudWatch Logs only) and is not configurable. It never handles log data.',
      appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
    }], true);
  }
}
