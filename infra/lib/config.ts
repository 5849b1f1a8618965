// Typed settings of the floodgate stack and the mapping from CDK context (`-c key=value`).
//
// Every context key documented in docs/deploy.md is read here and nowhere else, so the table in
// the docs, this file and test/guards.test.ts ("context") describe the same thing.

export type WafScope = 'REGIONAL' | 'CLOUDFRONT';
export type LambdaArch = 'x86_64' | 'arm64';
export type RuleAction = 'BLOCK' | 'COUNT';
/** Where the function gets its log records from (context `sources`). */
export type LogSource = 's3' | 'waf-cloudwatch' | 'cloudfront-cloudwatch' | 'cloudfront-realtime';
export const LOG_SOURCES: readonly LogSource[] = ['s3', 'waf-cloudwatch', 'cloudfront-cloudwatch', 'cloudfront-realtime'];
/** How the CloudWatch Logs subscriptions deliver (context `logsDelivery`): an asynchronous invocation per
 * delivery, or records in a Kinesis stream the function reads in batches (an attack's volume). */
export type LogsDelivery = 'lambda' | 'kinesis';
/** How S3 tells the queue about a new log object (context `s3Events`). */
export type S3EventDelivery = 'notification' | 'eventbridge';

/** Settings of FloodgateStack. Every field is optional; defaults are listed on each one. */
export interface FloodgateSettings {
  /** WAF scope of the IP sets (and web ACL). CLOUDFRONT requires the stack in us-east-1. Default REGIONAL. */
  readonly scope?: WafScope;
  /** Prefix of the IP set / web ACL names (`<prefix>-ipv4`, `<prefix>-ipv6`, `<prefix>-acl`). Default: stack name. */
  readonly namePrefix?: string;
  /** Log sources the stack wires to the function. Default `["s3"]`. */
  readonly sources?: LogSource[];

  // ---- log source ----
  /** Existing bucket that already receives WAF / CloudFront / ALB logs. When unset a new `aws-waf-logs-<suffix>` bucket is created. */
  readonly logBucketName?: string;
  /** Suffix of the new log bucket name (`aws-waf-logs-<suffix>`). Default `floodgate-<account>-<region>`. */
  readonly logBucketSuffix?: string;
  /** Key prefixes holding logs. Default `["AWSLogs/"]` for a new bucket; required (non-empty) for an existing one. */
  readonly logPrefixes?: string[];
  /** Key suffixes of log objects (S3 notification filter). `[]` = no suffix filter. Default `[".gz"]`. */
  readonly logSuffixes?: string[];
  /** Days after which raw logs in the NEW log bucket expire; 0 = never. Default 30. */
  readonly logExpirationDays?: number;
  /** KMS key of an existing log bucket encrypted with SSE-KMS (grants kms:Decrypt on that key only). */
  readonly logBucketKmsKeyArn?: string;
  /** How S3 reports new log objects to the queue: bucket notifications or EventBridge. Default `notification`. */
  readonly s3Events?: S3EventDelivery;

  // ---- streaming sources ----
  /** Retention (days) of the log groups the streaming sources deliver to. Default 7. */
  readonly streamLogRetentionDays?: number;
  /** How the subscriptions of `waf-cloudwatch` / `cloudfront-cloudwatch` deliver: `lambda` (one invocation per delivery, one
   * state commit each) or `kinesis` (into a stream read in batches of many deliveries, one commit per batch). Default `lambda`. */
  readonly logsDelivery?: LogsDelivery;
  /** Shards of the subscriptions' Kinesis stream (`logsDelivery=kinesis`). Default 1. */
  readonly logsShards?: number;
  /** CloudFront distribution id whose standard logs (v2) go to CloudWatch Logs (`cloudfront-cloudwatch`). */
  readonly distributionId?: string;
  /** Shards of the real-time log stream (`cloudfront-realtime`). Default 1. */
  readonly realtimeShards?: number;
  /** Concurrent batches per shard of the Kinesis event source: must be 1 (exactly-once counting reads a shard in order). */
  readonly realtimeParallelization?: number;
  /** CloudFront real-time log fields, in order. Default: see DEFAULTS.realtimeFields. */
  readonly realtimeFields?: string[];

  // ---- WAF ----
  /** IP sets per IP version (1-20); their capacity (10,000 each) must cover `ban.max_entries`. Default 3. */
  readonly ipSetsPerVersion?: number;
  /** Create a web ACL (default action allow) with a rule referencing both IP sets. Default: true when neither `webAclArn` nor `logBucketName` is given. */
  readonly createWebAcl?: boolean;
  /** Existing web ACL to send logs from (new-bucket mode only). */
  readonly webAclArn?: string;
  /** Action of the blocking rule in the created web ACL. Default BLOCK. */
  readonly webAclRuleAction?: RuleAction;

  // ---- function ----
  /** Path of the Lambda zip (contains `bootstrap`). Default `<repo>/target/lambda/bootstrap.zip`. */
  readonly lambdaZip?: string;
  /** CPU architecture the zip was built for. Default x86_64. */
  readonly architecture?: LambdaArch;
  /** Default 1024. */
  readonly memorySize?: number;
  /** Default 300 (5 min). The queue visibility timeout is 6x this. */
  readonly timeoutSeconds?: number;
  /** Reserved concurrency; `null` (context `none`) leaves it unreserved. Default: unreserved. */
  readonly reservedConcurrency?: number | null;
  /** Retention of the function's log group in days. Default 30. */
  readonly functionLogRetentionDays?: number;
  /** Path of the floodgate TOML config. Default `infra/config/floodgate.toml`. */
  readonly configPath?: string;
  /** Local allowlist files (one CIDR or address a line, `#` comment lines), validated and uploaded as assets. */
  readonly allowlistFiles?: string[];
  /** FLOODGATE_DRY_RUN: decide and report but never touch the IP sets. Default true. */
  readonly dryRun?: boolean;
  /** FLOODGATE_METRICS_NAMESPACE of the EMF metrics. Default `floodgate`. */
  readonly metricsNamespace?: string;
  /** RUST_LOG. Default `info`. */
  readonly rustLog?: string;

  // ---- queue / event source / schedule ----
  /** SQS batch size. Default 50. */
  readonly batchSize?: number;
  /** Maximum batching window in seconds (0-300). Default 30. */
  readonly maxBatchingWindowSeconds?: number;
  /** Receives before a message goes to the DLQ. Default 5. */
  readonly maxReceiveCount?: number;
  /** Maximum concurrent invocations the SQS event source may start (2-1000). Default 2. */
  readonly eventSourceMaxConcurrency?: number;
  /** Schedule of the expiry/reconcile run. Default `rate(5 minutes)`. */
  readonly scheduleExpression?: string;

  // ---- state / reports ----
  /** Key of the state object. Default `state/floodgate.state`. Write access covers its whole folder (`state/*`) for future shards. */
  readonly stateKey?: string;
  /** Prefix of report objects. Default `reports/`. */
  readonly reportsPrefix?: string;
  /** Days after which report objects expire. Default 90. State never expires. */
  readonly reportRetentionDays?: number;
  /** Days a replaced version of the state is kept (S3 NoncurrentDays, 1-365); S3 deletes it only once it is that old AND
   * the 100 newest replaced versions are newer. Default 1: at one commit a second a day of versions is already large. */
  readonly stateVersionDays?: number;
  /** IAM role that may overwrite or delete the state besides the function's role (break-glass). */
  readonly breakGlassRoleArn?: string;
  /** FLOODGATE_PARTIALS_PREFIX: invocations that read logs write their counts as partials under `partialsPrefix` of the
   * state bucket, and a reducer (started by those objects' S3 notifications through a queue of its own) commits them
   * to the state. For when one state object cannot keep up with the commits. Default false. */
  readonly partials?: boolean;
  /** Prefix of the partials in the state bucket (`partials=true`); apart from the state key's folder and the reports.
   * Default `partials/`. */
  readonly partialsPrefix?: string;

  // ---- notifications (ban notifications, the first sink) ----
  /** Publish ban notifications to SNS. Default true. */
  readonly notifications?: boolean;
  /** Email subscribed to the created notification topic. Default: `alarmEmail`; `null` (context `none`): no subscription. */
  readonly notifyEmail?: string | null;
  /** Existing SNS topic to publish to instead of creating one. */
  readonly notifyTopicArn?: string;

  // ---- monitoring / cost ----
  /** Email subscribed to the alarm topic (confirmation mail is sent on deploy). REQUIRED: synth fails without it.
   * `null` (context `none`) is the explicit opt-out: the stack subscribes nobody, you subscribe someone yourself. */
  readonly alarmEmail?: string | null;
  /** Create the monthly cost budget (notifies the alarm topic, plus budgetEmail). Default true. */
  readonly budget?: boolean;
  /** Email notified by the monthly budget besides the alarm topic. Default: alarmEmail. */
  readonly budgetEmail?: string;
  /** Monthly cost budget in USD (whole account). Default 20. */
  readonly budgetAmount?: number;
  /** Alarm threshold on the queue's ApproximateAgeOfOldestMessage in seconds. Default 900. */
  readonly queueAgeAlarmSeconds?: number;
  /** Alarm when the encoded state of an invocation (EMF `StateBytes`) exceeds this many bytes.
   * Default: memorySize MB × 1 MiB / 8 (an invocation holds a decoded copy of the state plus its encodings). */
  readonly stateSizeAlarmBytes?: number;
}

export const DEFAULTS = {
  scope: 'REGIONAL' as WafScope,
  sources: ['s3'] as LogSource[],
  newBucketLogPrefixes: ['AWSLogs/'],
  s3Events: 'notification' as S3EventDelivery,
  ipSetsPerVersion: 3,
  /** Addresses/CIDRs one WAF IP set holds (AWS quota, not adjustable). */
  ipSetCapacity: 10000,
  streamLogRetentionDays: 7,
  realtimeShards: 1,
  logsDelivery: 'lambda' as LogsDelivery,
  logsShards: 1,
  realtimeParallelization: 1,
  realtimeFields: ['timestamp', 'c-ip', 'cs-method', 'cs-host', 'x-host-header', 'cs-uri-stem', 'cs-uri-query',
    'sc-status', 'cs-user-agent', 'x-forwarded-for', 'c-country'],
  logSuffixes: ['.gz'],
  logExpirationDays: 30,
  webAclRuleAction: 'BLOCK' as RuleAction,
  architecture: 'x86_64' as LambdaArch,
  memorySize: 1024,
  timeoutSeconds: 300,
  functionLogRetentionDays: 30,
  dryRun: true,
  metricsNamespace: 'floodgate',
  rustLog: 'info',
  batchSize: 50,
  maxBatchingWindowSeconds: 30,
  maxReceiveCount: 5,
  eventSourceMaxConcurrency: 2,
  scheduleExpression: 'rate(5 minutes)',
  stateKey: 'state/floodgate.state',
  reportsPrefix: 'reports/',
  reportRetentionDays: 90,
  stateVersionDays: 1,
  /** Replaced state versions always kept, whatever their age (S3 NewerNoncurrentVersions; AWS's maximum is 100). */
  stateVersionsToRetain: 100,
  partials: false,
  partialsPrefix: 'partials/',
  /** Days a partial stays when no reducer deletes it (a damaged one, kept for a person to look at). */
  partialsExpirationDays: 7,
  /** The reducer's SQS event source: a notification only says "partials are pending" (the reducer LISTs them), so
   * 10 of them at once and no batching window; 2 concurrent reducers is AWS's minimum MaximumConcurrency. */
  partialsBatchSize: 10,
  partialsMaxConcurrency: 2,
  notifications: true,
  budget: true,
  budgetAmount: 20,
  queueAgeAlarmSeconds: 900,
  /** Default `stateSizeAlarmBytes` = memorySize (MB) × 1 MiB ÷ this. */
  stateSizeAlarmMemoryDivisor: 8,
  /** FLOODGATE_CONFIG_TOML is used up to this size (and while the whole environment stays within 4 KB); larger configs go to S3. */
  inlineConfigMaxBytes: 3072,
  /** AWS Lambda: all environment variables together (keys and values) at most 4 KB. */
  lambdaEnvMaxBytes: 4096,
} as const;

/** Reads a context value the way `-c key=value` delivers it (always a string) or as JSON from cdk.json. */
export type ContextReader = (key: string) => unknown;

/** Context keys understood by `settingsFromContext`, besides `stackName`, `account` and `region`. */
export const CONTEXT_KEYS = [
  'scope', 'namePrefix', 'sources', 'logBucketName', 'logBucketSuffix', 'logPrefix', 'logSuffix',
  'logExpirationDays', 'logBucketKmsKeyArn', 's3Events', 'streamLogRetentionDays', 'logsDelivery', 'logsShards', 'distributionId',
  'realtimeShards', 'realtimeParallelization', 'realtimeFields', 'ipSetsPerVersion',
  'createWebAcl', 'webAclArn', 'webAclRuleAction',
  'lambdaZip', 'architecture', 'memorySize', 'timeoutSeconds', 'reservedConcurrency',
  'functionLogRetentionDays', 'configPath', 'allowlistFiles', 'dryRun', 'metricsNamespace', 'rustLog', 'batchSize',
  'maxBatchingWindowSeconds', 'maxReceiveCount', 'eventSourceMaxConcurrency', 'scheduleExpression',
  'stateKey', 'reportsPrefix', 'reportRetentionDays', 'stateVersionDays', 'breakGlassRoleArn', 'partials', 'partialsPrefix', 'notifications', 'notifyEmail',
  'notifyTopicArn', 'alarmEmail', 'budget', 'budgetEmail', 'budgetAmount', 'queueAgeAlarmSeconds',
  'stateSizeAlarmBytes',
] as const;

function str(ctx: ContextReader, key: string): string | undefined {
  const v = ctx(key);
  if (v === undefined || v === null) return undefined;
  return String(v);
}

function nonEmpty(ctx: ContextReader, key: string): string | undefined {
  const v = str(ctx, key)?.trim();
  return v ? v : undefined;
}

/** An e-mail address, or `null` for `none` (the explicit "no subscription"). */
function emailOrNone(ctx: ContextReader, key: string): string | null | undefined {
  const v = nonEmpty(ctx, key);
  return v?.toLowerCase() === 'none' ? null : v;
}

function num(ctx: ContextReader, key: string): number | undefined {
  const v = nonEmpty(ctx, key);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`context ${key}=${v}: expected a number`);
  return n;
}

function bool(ctx: ContextReader, key: string): boolean | undefined {
  const v = nonEmpty(ctx, key)?.toLowerCase();
  if (v === undefined) return undefined;
  if (['true', '1', 'yes'].includes(v)) return true;
  if (['false', '0', 'no'].includes(v)) return false;
  throw new Error(`context ${key}=${v}: expected true or false`);
}

/** Comma-separated list (or JSON array from cdk.json). An explicit empty string gives []. */
function list(ctx: ContextReader, key: string): string[] | undefined {
  const v = ctx(key);
  if (v === undefined || v === null) return undefined;
  const items = Array.isArray(v) ? v.map(String) : String(v).split(',');
  return items.map((s) => s.trim()).filter((s) => s.length > 0);
}

function oneOf<T extends string>(ctx: ContextReader, key: string, allowed: readonly T[]): T | undefined {
  const v = nonEmpty(ctx, key);
  if (v === undefined) return undefined;
  const hit = allowed.find((a) => a.toLowerCase() === v.toLowerCase());
  if (!hit) throw new Error(`context ${key}=${v}: expected one of ${allowed.join(', ')}`);
  return hit;
}

function sourceList(ctx: ContextReader): LogSource[] | undefined {
  const items = list(ctx, 'sources');
  if (items === undefined) return undefined;
  return items.map((v) => {
    const hit = LOG_SOURCES.find((s) => s === v.toLowerCase());
    if (!hit) throw new Error(`context sources=${v}: expected a comma-separated list of ${LOG_SOURCES.join(', ')}`);
    return hit;
  });
}

/** Builds stack settings from CDK context; unset keys keep the stack defaults. */
export function settingsFromContext(ctx: ContextReader): FloodgateSettings {
  const reserved = nonEmpty(ctx, 'reservedConcurrency');
  const logPrefixes = list(ctx, 'logPrefix');
  return {
    scope: oneOf(ctx, 'scope', ['REGIONAL', 'CLOUDFRONT'] as const),
    namePrefix: nonEmpty(ctx, 'namePrefix'),
    sources: sourceList(ctx),
    logBucketName: nonEmpty(ctx, 'logBucketName'),
    logBucketSuffix: nonEmpty(ctx, 'logBucketSuffix'),
    // `-c logPrefix=` (empty) is kept as [""] so that the stack can refuse it with its reason.
    logPrefixes: logPrefixes && logPrefixes.length === 0 ? [''] : logPrefixes,
    logSuffixes: list(ctx, 'logSuffix'),
    logExpirationDays: num(ctx, 'logExpirationDays'),
    logBucketKmsKeyArn: nonEmpty(ctx, 'logBucketKmsKeyArn'),
    s3Events: oneOf(ctx, 's3Events', ['notification', 'eventbridge'] as const),
    streamLogRetentionDays: num(ctx, 'streamLogRetentionDays'),
    logsDelivery: oneOf(ctx, 'logsDelivery', ['lambda', 'kinesis'] as const),
    logsShards: num(ctx, 'logsShards'),
    distributionId: nonEmpty(ctx, 'distributionId'),
    realtimeShards: num(ctx, 'realtimeShards'),
    realtimeParallelization: num(ctx, 'realtimeParallelization'),
    realtimeFields: list(ctx, 'realtimeFields'),
    ipSetsPerVersion: num(ctx, 'ipSetsPerVersion'),
    createWebAcl: bool(ctx, 'createWebAcl'),
    webAclArn: nonEmpty(ctx, 'webAclArn'),
    webAclRuleAction: oneOf(ctx, 'webAclRuleAction', ['BLOCK', 'COUNT'] as const),
    lambdaZip: nonEmpty(ctx, 'lambdaZip'),
    architecture: oneOf(ctx, 'architecture', ['x86_64', 'arm64'] as const),
    memorySize: num(ctx, 'memorySize'),
    timeoutSeconds: num(ctx, 'timeoutSeconds'),
    reservedConcurrency: reserved?.toLowerCase() === 'none' ? null : num(ctx, 'reservedConcurrency'),
    functionLogRetentionDays: num(ctx, 'functionLogRetentionDays'),
    configPath: nonEmpty(ctx, 'configPath'),
    allowlistFiles: list(ctx, 'allowlistFiles'),
    dryRun: bool(ctx, 'dryRun'),
    metricsNamespace: nonEmpty(ctx, 'metricsNamespace'),
    rustLog: nonEmpty(ctx, 'rustLog'),
    batchSize: num(ctx, 'batchSize'),
    maxBatchingWindowSeconds: num(ctx, 'maxBatchingWindowSeconds'),
    maxReceiveCount: num(ctx, 'maxReceiveCount'),
    eventSourceMaxConcurrency: num(ctx, 'eventSourceMaxConcurrency'),
    scheduleExpression: nonEmpty(ctx, 'scheduleExpression'),
    stateKey: nonEmpty(ctx, 'stateKey'),
    reportsPrefix: nonEmpty(ctx, 'reportsPrefix'),
    reportRetentionDays: num(ctx, 'reportRetentionDays'),
    stateVersionDays: num(ctx, 'stateVersionDays'),
    breakGlassRoleArn: nonEmpty(ctx, 'breakGlassRoleArn'),
    partials: bool(ctx, 'partials'),
    partialsPrefix: nonEmpty(ctx, 'partialsPrefix'),
    notifications: bool(ctx, 'notifications'),
    notifyEmail: emailOrNone(ctx, 'notifyEmail'),
    notifyTopicArn: nonEmpty(ctx, 'notifyTopicArn'),
    alarmEmail: emailOrNone(ctx, 'alarmEmail'),
    budget: bool(ctx, 'budget'),
    budgetEmail: nonEmpty(ctx, 'budgetEmail'),
    budgetAmount: num(ctx, 'budgetAmount'),
    queueAgeAlarmSeconds: num(ctx, 'queueAgeAlarmSeconds'),
    stateSizeAlarmBytes: num(ctx, 'stateSizeAlarmBytes'),
  };
}
