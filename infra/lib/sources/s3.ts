// The `s3` source: log bucket (new `aws-waf-logs-` bucket logged into by WAF, or an existing one),
// S3 → SQS (bucket notifications or EventBridge) with a dead-letter queue, the SQS event source and
// the function's read access to the log prefixes.
//
// Resources are created directly in the stack so their logical ids (LogBucket…, LogQueue…,
// DeadLetterQueue…, WafLogging) are the ones deployed before the stack was split into modules.
import { Aws, CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { addWafLogging } from '../ipsets';
import { S3Settings } from '../resolve';
import { onlyWriters } from '../writers';

export interface S3SourceProps {
  readonly settings: S3Settings;
  readonly fn: lambda.Function;
  readonly timeoutSeconds: number;
  /** Web ACL logged into a new bucket (created or `webAclArn`). */
  readonly webAclArn?: string;
  /** Dead-letter queue of the EventBridge rule (eventbridge mode). */
  readonly failureQueue: sqs.IQueue;
  /** May still write into a new log bucket (repairs by hand). */
  readonly breakGlassRoleArn?: string;
}

export interface S3Source {
  readonly bucket: s3.IBucket;
  readonly queue: sqs.Queue;
  readonly dlq: sqs.Queue;
  readonly env: Record<string, string>;
}

/**
 * S3 → SQS destination whose queue policy names the bucket (aws:SourceArn) AND the account
 * (aws:SourceAccount): a bucket ARN carries no account, so without the latter a bucket of the same
 * name in another account, after this one is deleted, could write to the queue.
 */
export class QueueDestination implements s3.IBucketNotificationDestination {
  private readonly bound = new Set<string>();
  /** `sid`: the queue policy statement's id (the log queue's is `S3LogNotifications`). */
  constructor(private readonly queue: sqs.Queue, private readonly sid = 'S3LogNotifications') {}

  bind(_scope: Construct, bucket: s3.IBucket): s3.BucketNotificationDestinationConfig {
    if (!this.bound.has(bucket.node.addr)) {
      this.bound.add(bucket.node.addr);
      this.queue.addToResourcePolicy(new iam.PolicyStatement({
        sid: this.sid,
        principals: [new iam.ServicePrincipal('s3.amazonaws.com')],
        actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
        resources: [this.queue.queueArn],
        conditions: {
          ArnLike: { 'aws:SourceArn': bucket.bucketArn },
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
        },
      }));
    }
    return { arn: this.queue.queueArn, type: s3.BucketNotificationDestinationType.QUEUE, dependencies: [this.queue] };
  }
}

/** EventBridge `detail.object.key` patterns: one per prefix × suffix (wildcard), or per prefix without suffixes. */
export function objectKeyPatterns(prefixes: string[], suffixes: string[]): Record<string, string>[] {
  const esc = (s: string) => s.replace(/\\/g, '\\\\');
  if (suffixes.length === 0) return prefixes.map((p) => ({ prefix: p }));
  return prefixes.flatMap((p) => suffixes.map((s) => ({ wildcard: `${esc(p)}*${esc(s)}` })));
}

export function addS3Source(scope: Construct, props: S3SourceProps): S3Source {
  const st = props.settings;
  const eventBridge = st.events === 'eventbridge';

  // ---------------------------------------------------------------- log bucket
  let bucket: s3.IBucket;
  if (st.existingBucket !== undefined) {
    bucket = s3.Bucket.fromBucketName(scope, 'LogBucket', st.existingBucket);
  } else {
    const suffix = st.bucketSuffix ?? `floodgate-${Aws.ACCOUNT_ID}-${Aws.REGION}`;
    const created = new s3.Bucket(scope, 'LogBucket', {
      bucketName: `aws-waf-logs-${suffix}`,
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
      eventBridgeEnabled: eventBridge ? true : undefined,
      lifecycleRules: st.expirationDays > 0 ? [{ id: 'expire-raw-logs', expiration: Duration.days(st.expirationDays) }] : [],
    });
    // WAF delivers through the log delivery service; grant it explicitly (AWS would otherwise
    // edit the bucket policy behind CloudFormation's back).
    const delivery = new iam.ServicePrincipal('delivery.logs.amazonaws.com');
    const sourceConditions = {
      StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
      ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:*` },
    };
    created.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AWSLogDeliveryWrite',
      principals: [delivery],
      actions: ['s3:PutObject'],
      resources: [created.arnForObjects(`AWSLogs/${Aws.ACCOUNT_ID}/*`)],
      conditions: {
        ...sourceConditions,
        StringEquals: { ...sourceConditions.StringEquals, 's3:x-amz-acl': 'bucket-owner-full-control' },
      },
    }));
    // Only log delivery writes logs: any role of the account allowed s3:PutObject on "*" (administrators,
    // a Lambda with a broad policy) could otherwise put records of its choosing where floodgate reads.
    created.addToResourcePolicy(onlyWriters({
      sid: 'LogWritesOnlyByLogDelivery',
      actions: ['s3:PutObject', 's3:ReplicateObject'],
      resources: [created.arnForObjects('*')],
      awsServices: true,
      breakGlassRoleArn: props.breakGlassRoleArn,
    }));
    created.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AWSLogDeliveryAclCheck',
      principals: [delivery],
      actions: ['s3:GetBucketAcl'],
      resources: [created.bucketArn],
      conditions: sourceConditions,
    }));
    const logging = addWafLogging(scope, props.webAclArn!, created.bucketArn);
    if (created.policy) logging.node.addDependency(created.policy);
    bucket = created;
  }

  // ---------------------------------------------------------------- queue
  const dlq = new sqs.Queue(scope, 'DeadLetterQueue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  const queue = new sqs.Queue(scope, 'LogQueue', {
    // SSE-SQS (not KMS): S3 and EventBridge can send to it without a key policy.
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    // AWS's recommendation for a Lambda event source: 6 × the function timeout plus the batching
    // window, so a batch that is retried inside the function is not redelivered meanwhile.
    visibilityTimeout: Duration.seconds(6 * props.timeoutSeconds + st.windowSeconds),
    retentionPeriod: Duration.days(4),
    deadLetterQueue: { queue: dlq, maxReceiveCount: st.maxReceiveCount },
  });

  if (eventBridge) {
    // One rule; its key patterns are OR-ed. S3 sends "Object Created" for every creating API call.
    new events.Rule(scope, 'S3EventsRule', {
      description: 'floodgate: new log objects (S3 via EventBridge) to the log queue',
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: {
          bucket: { name: [bucket.bucketName] },
          object: { key: objectKeyPatterns(st.prefixes, st.suffixes) },
        },
      },
      targets: [new targets.SqsQueue(queue, { deadLetterQueue: props.failureQueue, retryAttempts: 185, maxEventAge: Duration.hours(24) })],
    });
    if (st.existingBucket !== undefined) {
      new CfnOutput(scope, 'EnableEventBridge', {
        value: `Enable "Send notifications to Amazon EventBridge" on bucket ${st.existingBucket} (S3 console → Properties → Event notifications); ` +
          'no log object reaches floodgate until it is on',
        description: 's3Events=eventbridge with an existing bucket: the stack does not change that bucket',
      });
    }
  } else {
    const dest = new QueueDestination(queue);
    for (const prefix of st.prefixes) {
      const suffixes: (string | undefined)[] = st.suffixes.length > 0 ? st.suffixes : [undefined];
      for (const suffix of suffixes) {
        bucket.addEventNotification(s3.EventType.OBJECT_CREATED, dest, {
          ...(prefix ? { prefix } : {}),
          ...(suffix ? { suffix } : {}),
        });
      }
    }
  }

  // ---------------------------------------------------------------- function access
  const allow = (sid: string, actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
    props.fn.addToRolePolicy(new iam.PolicyStatement({ sid, actions, resources, conditions }));
  // GetObjectVersion: S3 events carry the object's versionId, and floodgate reads exactly that version.
  allow('ReadLogObjects', ['s3:GetObject', 's3:GetObjectVersion'], st.prefixes.map((p) => bucket.arnForObjects(`${p}*`)));
  // Without ListBucket S3 answers 403 instead of 404 for an object deleted before floodgate read it;
  // floodgate reports a 404 as "gone" and moves on, but must treat a 403 as an error and retry.
  allow('ListLogBucket', ['s3:ListBucket'], [bucket.bucketArn]);
  if (st.kmsKeyArn) {
    allow('DecryptLogObjects', ['kms:Decrypt'], [st.kmsKeyArn], {
      StringEquals: { 'kms:ViaService': `s3.${Aws.REGION}.amazonaws.com` },
    });
  }

  props.fn.addEventSource(new SqsEventSource(queue, {
    batchSize: st.batchSize,
    maxBatchingWindow: st.windowSeconds > 0 ? Duration.seconds(st.windowSeconds) : undefined,
    reportBatchItemFailures: true,
    maxConcurrency: st.maxConcurrency,
  }));

  new CfnOutput(scope, 'LogBucketName', { value: bucket.bucketName });
  new CfnOutput(scope, 'QueueUrl', { value: queue.queueUrl });
  new CfnOutput(scope, 'DeadLetterQueueUrl', { value: dlq.queueUrl, description: 'S3 notifications that failed maxReceiveCount times; redrive to the queue after fixing the cause' });

  return {
    bucket,
    queue,
    dlq,
    env: {
      FLOODGATE_LOG_BUCKETS: bucket.bucketName,
      // The function refuses every object when this is empty (fail closed): an empty prefix
      // (the whole bucket) is said as `*`, "any key", on purpose.
      FLOODGATE_LOG_PREFIXES: st.prefixes.some((p) => p === '') ? '*' : st.prefixes.join(','),
      FLOODGATE_LOG_SUFFIXES: st.suffixes.join(','),
    },
  };
}
