// `partials=true` (FLOODGATE_PARTIALS_PREFIX; crates/floodgate-aws/src/partials.rs): invocations that
// read logs write their counts as one immutable object under the prefix of the state bucket
// instead of committing to the state; each such object's S3 notification, through a queue of its
// own, starts the reducer (the same function), which LISTs the prefix, merges every partial into
// the state with one conditional PUT, syncs the IP sets, writes the reports and DELETEs what it
// merged. The schedule reduces leftovers (a lost notification, a failed reducer).
//
//   reading invocations ──PUT──▶ <state bucket>/partials/…  ──ObjectCreated──▶ PartialsQueue ──▶ reducer
//
// Created only with `partials=true`; nothing here exists otherwise (test/partials.test.ts).
import { CfnOutput, Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULTS } from './config';
import { PartialsSettings } from './resolve';
import { QueueDestination } from './sources/s3';

export interface PartialsProps {
  readonly settings: PartialsSettings;
  readonly fn: lambda.Function;
  readonly stateBucket: s3.Bucket;
  readonly timeoutSeconds: number;
}

export interface PartialsResources {
  /** The reducer's queue (the state bucket's notifications of the prefix) and its DLQ. */
  readonly queue: sqs.Queue;
  readonly dlq: sqs.Queue;
  /** ARN pattern of the partials (`<state bucket>/<prefix>*`): the function's grant and the bucket policy's deny. */
  readonly objectsArn: string;
  readonly env: Record<string, string>;
}

export function addPartials(scope: Construct, props: PartialsProps): PartialsResources {
  const { prefix, maxReceiveCount } = props.settings;
  const bucket = props.stateBucket;
  const objectsArn = bucket.arnForObjects(`${prefix}*`);

  // ---------------------------------------------------------------- lifecycle
  // A merged partial is deleted by the reducer; one still there after a week was not mergeable
  // (damaged: the reducer logs it and leaves it for a person to look at) and goes then. The bucket
  // is versioned, so each delete leaves the partial as a noncurrent version (nothing to roll back
  // to: gone after a day) and a delete marker, removed once nothing is under it (LIST skips delete
  // markers but still walks them, and the reducer LISTs this prefix every cycle).
  bucket.addLifecycleRule({
    id: 'expire-partials', prefix,
    expiration: Duration.days(DEFAULTS.partialsExpirationDays),
    noncurrentVersionExpiration: Duration.days(1),
  });
  bucket.addLifecycleRule({ id: 'remove-partial-delete-markers', prefix, expiredObjectDeleteMarker: true });

  // ---------------------------------------------------------------- queue
  const dlq = new sqs.Queue(scope, 'PartialsDeadLetterQueue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  const queue = new sqs.Queue(scope, 'PartialsQueue', {
    // SSE-SQS (not KMS): S3 can send to it without a key policy.
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    // As the log queue: 6 × the function timeout (no batching window here), AWS's recommendation.
    visibilityTimeout: Duration.seconds(6 * props.timeoutSeconds),
    retentionPeriod: Duration.days(4),
    deadLetterQueue: { queue: dlq, maxReceiveCount },
  });
  bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new QueueDestination(queue, 'S3PartialNotifications'), { prefix });

  // ---------------------------------------------------------------- function
  // A notification only says "partials are pending": the reducer LISTs the prefix and merges what
  // it finds (the oldest first, a bounded number per cycle), so a batch of 10 is as good as one
  // and no batching window is needed (it would only delay the bans).
  //
  // maxConcurrency 2 is AWS's minimum for an SQS event source, so two reducers may run at once.
  // That is safe: the state is written with a conditional PUT (If-Match on its ETag), so the
  // second reducer's write fails, it re-reads the state, finds the partials' ids already
  // processed and merges nothing twice; deleting a partial the other one deleted is harmless.
  props.fn.addEventSource(new SqsEventSource(queue, {
    batchSize: DEFAULTS.partialsBatchSize,
    reportBatchItemFailures: true,
    maxConcurrency: DEFAULTS.partialsMaxConcurrency,
  }));
  // Write its partials, read them back, delete them once merged (DeleteObjects is s3:DeleteObject
  // per key). ListBucket on the bucket is already granted (ListStateBucket). Nothing outside the
  // prefix may be deleted: the state's old versions are the rollback.
  props.fn.addToRolePolicy(new iam.PolicyStatement({
    sid: 'ReadWriteDeletePartials',
    actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
    resources: [objectsArn],
  }));

  new CfnOutput(scope, 'PartialsUri', {
    value: `s3://${bucket.bucketName}/${prefix}`,
    description: 'partials=true: counts of reading invocations waiting for the reducer; one still here after minutes was not mergeable (the function logs why)',
  });
  new CfnOutput(scope, 'PartialsDeadLetterQueueUrl', {
    value: dlq.queueUrl,
    description: 'Reducer notifications that failed maxReceiveCount times; their partials stay under the prefix and the schedule merges them',
  });

  return { queue, dlq, objectsArn, env: { FLOODGATE_PARTIALS_PREFIX: prefix } };
}
