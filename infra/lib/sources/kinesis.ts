// The `cloudfront-realtime` source: CloudFront real-time logs → Kinesis data stream → the function.
// The user attaches the real-time log configuration to the distribution's cache behaviours (a
// distribution is not part of this stack).
import { Aws, CfnOutput, Duration, Fn } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { KinesisEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { RealtimeSettings } from '../resolve';
import { onlyWriters } from '../writers';

export interface RealtimeSourceProps {
  readonly fn: lambda.Function;
  readonly namePrefix: string;
  readonly settings: RealtimeSettings;
  /** Where batches that still fail after the retries are described (shard, sequence numbers). */
  readonly failureQueue: sqs.IQueue;
  /** May still put records (repairs by hand). */
  readonly breakGlassRoleArn?: string;
}

export interface RealtimeSource {
  readonly stream: kinesis.Stream;
  readonly config: cloudfront.CfnRealtimeLogConfig;
  readonly env: Record<string, string>;
}

/**
 * Bounded retries: a poisoned record is bisected out and reported, not retried for the stream's whole retention.
 * A batch is also bounded by Lambda's 6 MB payload: ~1,000 real-time records, or a few dozen subscription payloads.
 */
export const REALTIME_EVENT_SOURCE = {
  batchSize: 1000,
  maxBatchingWindowSeconds: 1,
  retryAttempts: 3,
  maxRecordAgeSeconds: 3600,
} as const;

/** An encrypted provisioned stream of `shards` shards, kept 24 hours. */
export function logStream(scope: Construct, id: string, shards: number): kinesis.Stream {
  return new kinesis.Stream(scope, id, {
    streamMode: kinesis.StreamMode.PROVISIONED,
    shardCount: shards,
    // aws/kinesis: the producers' roles and the function need no key policy.
    encryption: kinesis.StreamEncryption.MANAGED,
    retentionPeriod: Duration.hours(24),
  });
}

/**
 * Only `writer` (the role the log service assumes) and the break-glass role may put records into
 * `stream`: a Deny in the stream's resource policy, which no identity policy's Allow (on "*" or not) overrides.
 */
export function onlyWriterOf(stream: kinesis.Stream, writer: iam.IRole, breakGlassRoleArn?: string): void {
  stream.addToResourcePolicy(onlyWriters({
    sid: 'RecordsOnlyFromLogDelivery',
    actions: ['kinesis:PutRecord', 'kinesis:PutRecords'],
    resources: [stream.streamArn],
    writers: [writer.roleArn],
    breakGlassRoleArn,
  }));
}

/**
 * The function reads `stream` one batch per shard at a time (exactly-once counting reads a shard in
 * order), reporting partial failures the Kinesis way; batches still failing go to `failureQueue`.
 */
export function readStream(fn: lambda.Function, stream: kinesis.IStream, failureQueue: sqs.IQueue, parallelization = 1): void {
  fn.addEventSource(new KinesisEventSource(stream, {
    startingPosition: lambda.StartingPosition.LATEST,
    batchSize: REALTIME_EVENT_SOURCE.batchSize,
    maxBatchingWindow: Duration.seconds(REALTIME_EVENT_SOURCE.maxBatchingWindowSeconds),
    parallelizationFactor: parallelization,
    reportBatchItemFailures: true,
    bisectBatchOnError: true,
    retryAttempts: REALTIME_EVENT_SOURCE.retryAttempts,
    maxRecordAge: Duration.seconds(REALTIME_EVENT_SOURCE.maxRecordAgeSeconds),
    onFailure: new SqsDlq(failureQueue),
  }));
}

export function addRealtimeSource(scope: Construct, props: RealtimeSourceProps): RealtimeSource {
  const st = props.settings;
  const stream = logStream(scope, 'RealtimeStream', st.shards);

  // The role CloudFront assumes to put records: this stream only (the actions CloudFront documents).
  // Only CloudFront acting for this account may assume it: a real-time log configuration in another
  // account naming this role would otherwise write that account's records (or forged ones) into the
  // stream floodgate trusts. CloudFront's guide shows the trust policy without conditions and does not
  // say which source keys CloudFront sends when it assumes the role, so the account is checked whenever
  // CloudFront names one (IfExists): a plain StringEquals on a key CloudFront never sends would stop
  // every record, silently. aws:SourceArn is not used: AWS documents no value for it here.
  const role = new iam.Role(scope, 'RealtimeLogRole', {
    assumedBy: new iam.ServicePrincipal('cloudfront.amazonaws.com', {
      conditions: { StringEqualsIfExists: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
    }),
    description: 'CloudFront real-time logs: put records into the floodgate stream',
    inlinePolicies: {
      PutRecords: new iam.PolicyDocument({
        statements: [new iam.PolicyStatement({
          actions: ['kinesis:DescribeStreamSummary', 'kinesis:DescribeStream', 'kinesis:PutRecord', 'kinesis:PutRecords'],
          resources: [stream.streamArn],
        })],
      }),
    },
  });

  const config = new cloudfront.CfnRealtimeLogConfig(scope, 'RealtimeLogConfig', {
    // Real-time log configurations are global (per account), so the name carries the region.
    name: Fn.join('-', [props.namePrefix, Aws.REGION, 'realtime']),
    samplingRate: 100,
    fields: st.fields,
    endPoints: [{ streamType: 'Kinesis', kinesisStreamConfig: { roleArn: role.roleArn, streamArn: stream.streamArn } }],
  });
  config.node.addDependency(role);
  onlyWriterOf(stream, role, props.breakGlassRoleArn);

  readStream(props.fn, stream, props.failureQueue, st.parallelization);

  new CfnOutput(scope, 'RealtimeLogConfigArn', {
    value: config.attrArn,
    description: 'Attach to the cache behaviours of your distribution (CloudFront console → Behaviors → Edit → Real-time logs, ' +
      'or RealtimeLogConfigArn in the distribution config); nothing is streamed before',
  });
  new CfnOutput(scope, 'RealtimeStreamArn', { value: stream.streamArn });

  return {
    stream,
    config,
    env: {
      FLOODGATE_STREAM_ARNS: stream.streamArn,
      FLOODGATE_REALTIME_FIELDS: st.fields.join(','),
    },
  };
}
