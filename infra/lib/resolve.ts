// Validates FloodgateSettings and fills in defaults. Every refusal names the setting and why, so
// that a wrong combination fails `cdk synth` instead of a deployment (or, worse, deploys and then
// silently does nothing). Pure: no constructs are created here.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Token } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { DEFAULTS, FloodgateSettings, LambdaArch, LogSource, LogsDelivery, RuleAction, S3EventDelivery, WafScope } from './config';
import { readBanMaxEntries, validateAllowlistFile } from './files';

/** Where `scripts/build-lambda.sh` writes the Lambda zip (relative to this file: infra/lib → repo root). */
export const DEFAULT_LAMBDA_ZIP = path.resolve(__dirname, '..', '..', 'target', 'lambda', 'bootstrap.zip');
export const DEFAULT_CONFIG_PATH = path.resolve(__dirname, '..', 'config', 'floodgate.toml');

export function check(cond: boolean, message: string): asserts cond {
  if (!cond) throw new Error(`floodgate: ${message}`);
}

export function checkInt(name: string, v: number, min: number, max: number): number {
  check(Number.isInteger(v) && v >= min && v <= max, `${name} must be an integer in ${min}..${max}, got ${v}`);
  return v;
}

export function retention(name: string, days: number): logs.RetentionDays {
  const allowed = Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number');
  check(allowed.includes(days), `${name}=${days} is not a CloudWatch Logs retention (${allowed.join(', ')})`);
  return days as logs.RetentionDays;
}

export interface S3Settings {
  /** Existing bucket name, or undefined for a new `aws-waf-logs-` bucket. */
  readonly existingBucket?: string;
  readonly bucketSuffix?: string;
  readonly prefixes: string[];
  readonly suffixes: string[];
  readonly expirationDays: number;
  readonly kmsKeyArn?: string;
  readonly events: S3EventDelivery;
  readonly batchSize: number;
  readonly windowSeconds: number;
  readonly maxReceiveCount: number;
  readonly maxConcurrency: number;
}

export interface PartialsSettings {
  /** Key prefix in the state bucket, ending with `/` (FLOODGATE_PARTIALS_PREFIX). */
  readonly prefix: string;
  readonly maxReceiveCount: number;
}

export interface RealtimeSettings {
  readonly shards: number;
  readonly parallelization: number;
  readonly fields: string[];
}

/** How the CloudWatch Logs subscriptions deliver (`waf-cloudwatch`, `cloudfront-cloudwatch`). */
export type LogsDeliverySettings =
  | { readonly kind: 'lambda' }
  | { readonly kind: 'kinesis'; readonly shards: number };

export interface Resolved {
  readonly scope: WafScope;
  readonly namePrefix: string;
  readonly sources: ReadonlySet<LogSource>;
  readonly s3?: S3Settings;
  readonly streamLogRetention: logs.RetentionDays;
  readonly distributionId?: string;
  /** Undefined when no CloudWatch Logs source is selected. */
  readonly logsDelivery?: LogsDeliverySettings;
  readonly realtime?: RealtimeSettings;
  readonly createWebAcl: boolean;
  readonly webAclArn?: string;
  readonly ruleAction: RuleAction;
  readonly ipSetsPerVersion: number;
  readonly maxEntries: number;
  readonly zipPath: string;
  readonly architecture: LambdaArch;
  readonly memorySize: number;
  readonly timeoutSeconds: number;
  readonly reservedConcurrency?: number;
  /** Concurrency the event sources and the schedule may use at once (the floor of a reservation). */
  readonly requiredConcurrency: number;
  readonly functionLogRetention: logs.RetentionDays;
  readonly configPath: string;
  readonly configToml: string;
  readonly allowlistFiles: string[];
  readonly dryRun: boolean;
  readonly metricsNamespace: string;
  readonly rustLog: string;
  readonly scheduleExpression: string;
  readonly stateKey: string;
  /** The state key's folder (`state/*`): writable by the function, protected by the bucket policy. */
  readonly stateScope: string;
  readonly reportsPrefix: string;
  readonly reportRetentionDays: number;
  readonly stateVersionDays: number;
  readonly breakGlassRoleArn?: string;
  /** `partials=true`: where the partials go, and the receives before a reducer notification goes to its DLQ. */
  readonly partials?: PartialsSettings;
  readonly notifications: { readonly mode: 'none' } |
    { readonly mode: 'create'; readonly email?: string; readonly emailFrom?: 'notifyEmail' | 'alarmEmail' } |
    { readonly mode: 'existing'; readonly topicArn: string };
  /** Undefined only with the explicit opt-out (`alarmEmail=none`): a missing alarmEmail fails synth. */
  readonly alarmEmail?: string;
  readonly budget?: { readonly email?: string; readonly amount: number };
  readonly queueAgeAlarmSeconds: number;
  readonly stateSizeAlarmBytes: number;
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::[0-9]{12}:role\/[\w+=,.@/-]+$/;
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$/;
const WEB_ACL_ARN = /^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:[0-9]{12}:(regional|global)\/webacl\/[\w-]+\/[\w-]+$/;
const EMAIL = /^[^@\s]+@[^@\s]+$/;

function email(name: string, v: string | undefined): string | undefined {
  if (v !== undefined) check(EMAIL.test(v), `${name}=${v} is not an e-mail address`);
  return v;
}

const MIB = 1024 * 1024;

/** The `StateBytes` alarm threshold for a memory size: one eighth of it, since an invocation holds a
 * decoded copy of the state (several times its encoded size) plus one or two encodings. */
export function defaultStateSizeAlarmBytes(memorySizeMb: number): number {
  return Math.floor(memorySizeMb * MIB / DEFAULTS.stateSizeAlarmMemoryDivisor);
}

/** `region` may be a token (environment-agnostic stack). */
export function resolveSettings(props: FloodgateSettings, stackName: string, region: string): Resolved {
  const regionText = Token.isUnresolved(region) ? '(unresolved: environment-agnostic stack)' : region;
  const scope = props.scope ?? DEFAULTS.scope;
  check(scope === 'REGIONAL' || scope === 'CLOUDFRONT', `scope must be REGIONAL or CLOUDFRONT, got ${scope}`);
  if (scope === 'CLOUDFRONT') {
    check(region === 'us-east-1',
      `scope CLOUDFRONT requires the stack region to be us-east-1 (WAF keeps CloudFront IP sets and web ACLs ` +
      `there), but the region is ${regionText}. Deploy with -c region=us-east-1 (or AWS_REGION=us-east-1), or use scope REGIONAL.`);
  }
  const namePrefix = props.namePrefix ?? stackName;
  check(/^[A-Za-z0-9_-]{1,100}$/.test(namePrefix), `namePrefix must match [A-Za-z0-9_-]{1,100}, got ${namePrefix}`);

  // ---------------------------------------------------------------- sources
  const sourceList = props.sources ?? DEFAULTS.sources;
  check(sourceList.length > 0, 'sources must name at least one of s3, waf-cloudwatch, cloudfront-cloudwatch, cloudfront-realtime');
  const sources = new Set<LogSource>(sourceList);
  const existingBucket = props.logBucketName;
  check(sources.has('s3') || existingBucket === undefined,
    'logBucketName is an S3 log source: add s3 to sources (or drop logBucketName)');

  const webAclArn = props.webAclArn;
  if (webAclArn !== undefined) check(WEB_ACL_ARN.test(webAclArn), `webAclArn=${webAclArn} is not a WAFv2 web ACL ARN`);
  const createWebAcl = props.createWebAcl ?? (webAclArn === undefined && existingBucket === undefined);
  check(!(createWebAcl && webAclArn), 'give either webAclArn (log an existing web ACL) or createWebAcl=true, not both');
  const hasAcl = createWebAcl || webAclArn !== undefined;

  let s3: S3Settings | undefined;
  if (sources.has('s3')) {
    check(existingBucket !== undefined || hasAcl,
      'a new log bucket needs a web ACL to log: set createWebAcl=true or webAclArn=<arn>, or use logBucketName=<existing bucket>');
    check(!(existingBucket === undefined && sources.has('waf-cloudwatch')),
      'sources s3 (with a new log bucket) and waf-cloudwatch cannot be combined: a web ACL has exactly ONE logging ' +
      'destination, so WAF cannot log to the new aws-waf-logs- bucket and to the CloudWatch log group at once. Choose one; ' +
      's3 plus waf-cloudwatch works only with logBucketName=<existing bucket of other logs, e.g. ALB or CloudFront>.');
    let prefixes: string[];
    if (existingBucket !== undefined) {
      check(props.logPrefixes !== undefined && props.logPrefixes.length > 0,
        `an existing log bucket (${existingBucket}) needs an explicit logPrefix (e.g. -c logPrefix=AWSLogs/): ` +
        'there is no whole-bucket default, because the function would read every object of the bucket');
      check(props.logPrefixes.every((p) => p.length > 0),
        `an empty logPrefix is refused for the existing bucket ${existingBucket}: the function would read every object ` +
        'of the bucket. Name the prefixes that hold logs (e.g. -c logPrefix=AWSLogs/123456789012/elasticloadbalancing/).');
      prefixes = [...props.logPrefixes];
    } else {
      prefixes = [...(props.logPrefixes ?? DEFAULTS.newBucketLogPrefixes)];
      check(prefixes.length > 0, 'logPrefixes must not be empty');
    }
    check(prefixes.every((p) => !p.includes('*') && !p.includes(',')), 'log prefixes must not contain * or ,');
    check(new Set(prefixes).size === prefixes.length, 'log prefixes must not repeat');
    const suffixes = [...(props.logSuffixes ?? DEFAULTS.logSuffixes)];
    check(suffixes.every((s) => s.length > 0 && !s.includes('*') && !s.includes(',')), 'log suffixes must be non-empty without * or ,');
    const batchSize = checkInt('batchSize', props.batchSize ?? DEFAULTS.batchSize, 1, 10000);
    const windowSeconds = checkInt('maxBatchingWindowSeconds', props.maxBatchingWindowSeconds ?? DEFAULTS.maxBatchingWindowSeconds, 0, 300);
    check(batchSize <= 10 || windowSeconds > 0, 'batchSize above 10 needs maxBatchingWindowSeconds > 0');
    s3 = {
      existingBucket,
      bucketSuffix: props.logBucketSuffix,
      prefixes,
      suffixes,
      expirationDays: checkInt('logExpirationDays', props.logExpirationDays ?? DEFAULTS.logExpirationDays, 0, 36500),
      kmsKeyArn: props.logBucketKmsKeyArn,
      events: props.s3Events ?? DEFAULTS.s3Events,
      batchSize,
      windowSeconds,
      maxReceiveCount: checkInt('maxReceiveCount', props.maxReceiveCount ?? DEFAULTS.maxReceiveCount, 1, 1000),
      // SQS event sources accept 2..1000 (2 is AWS's minimum for MaximumConcurrency).
      maxConcurrency: checkInt('eventSourceMaxConcurrency', props.eventSourceMaxConcurrency ?? DEFAULTS.eventSourceMaxConcurrency, 2, 1000),
    };
  }
  if (sources.has('waf-cloudwatch')) {
    check(hasAcl, 'source waf-cloudwatch needs a web ACL to log: set createWebAcl=true or webAclArn=<arn>');
  }
  let distributionId: string | undefined;
  if (sources.has('cloudfront-cloudwatch')) {
    check(props.distributionId !== undefined,
      'source cloudfront-cloudwatch needs -c distributionId=<CloudFront distribution id> (the distribution whose standard logs go to CloudWatch Logs)');
    check(/^[A-Z0-9]{1,32}$/.test(props.distributionId), `distributionId=${props.distributionId} is not a CloudFront distribution id (e.g. E2ABCDEF123456)`);
    check(region === 'us-east-1',
      `source cloudfront-cloudwatch requires the stack region to be us-east-1 (CloudFront log deliveries are created there), ` +
      `but the region is ${regionText}. Deploy with -c region=us-east-1.`);
    check(namePrefix.length <= 40, `namePrefix ${namePrefix} is too long for the CloudWatch Logs delivery names (at most 40 characters with cloudfront-cloudwatch)`);
    distributionId = props.distributionId;
  }
  const viaLogs = sources.has('waf-cloudwatch') || sources.has('cloudfront-cloudwatch');
  const deliveryKind: LogsDelivery = props.logsDelivery ?? DEFAULTS.logsDelivery;
  check(deliveryKind === 'lambda' || deliveryKind === 'kinesis', `logsDelivery must be lambda or kinesis, got ${deliveryKind}`);
  check(viaLogs || (props.logsDelivery === undefined && props.logsShards === undefined),
    'logsDelivery and logsShards configure the CloudWatch Logs sources: add waf-cloudwatch or cloudfront-cloudwatch to sources (or drop them)');
  check(deliveryKind === 'kinesis' || props.logsShards === undefined,
    'logsShards sizes the Kinesis stream of logsDelivery=kinesis: set logsDelivery=kinesis (or drop logsShards)');
  let logsDelivery: LogsDeliverySettings | undefined;
  if (viaLogs) {
    logsDelivery = deliveryKind === 'kinesis'
      ? { kind: 'kinesis', shards: checkInt('logsShards', props.logsShards ?? DEFAULTS.logsShards, 1, 500) }
      : { kind: 'lambda' };
  }
  let realtime: RealtimeSettings | undefined;
  if (sources.has('cloudfront-realtime')) {
    const fields = [...(props.realtimeFields ?? DEFAULTS.realtimeFields)];
    check(fields.every((f) => /^[A-Za-z0-9-]+$/.test(f)), `realtimeFields must be CloudFront real-time log field names, got ${fields.join(',')}`);
    check(new Set(fields).size === fields.length, 'realtimeFields must not repeat a field');
    check(fields.includes('timestamp') && fields.includes('c-ip'),
      'realtimeFields must include timestamp and c-ip (floodgate counts requests per client in event time)');
    const parallelization = checkInt('realtimeParallelization', props.realtimeParallelization ?? DEFAULTS.realtimeParallelization, 1, 10);
    check(parallelization === 1,
      `realtimeParallelization=${parallelization}: must be 1. floodgate counts each Kinesis record once by reading a shard's ` +
      'records in sequence order, one batch at a time (a retry resumes after the shard\'s checkpoint); with more batches per ' +
      'shard at once, records would be counted twice or not at all. Read more at once with more shards (realtimeShards).');
    realtime = {
      shards: checkInt('realtimeShards', props.realtimeShards ?? DEFAULTS.realtimeShards, 1, 500),
      parallelization,
      fields,
    };
  }

  // ---------------------------------------------------------------- IP sets and capacity
  const ipSetsPerVersion = checkInt('ipSetsPerVersion', props.ipSetsPerVersion ?? DEFAULTS.ipSetsPerVersion, 1, 20);
  const configPath = path.resolve(props.configPath ?? DEFAULT_CONFIG_PATH);
  check(fs.existsSync(configPath), `floodgate config not found at ${configPath} (set -c configPath=<file>)`);
  const configToml = fs.readFileSync(configPath, 'utf8');
  const capacity = ipSetsPerVersion * DEFAULTS.ipSetCapacity;
  // Left out of the config, the engine's capacity follows the IP sets it is given.
  const maxEntries = readBanMaxEntries(configToml, configPath) ?? capacity;
  check(capacity >= maxEntries,
    `ipSetsPerVersion=${ipSetsPerVersion} gives ${capacity} entries per IP version (${DEFAULTS.ipSetCapacity} per IP set), ` +
    `but ban.max_entries in ${configPath} is ${maxEntries}. ` +
    `Set -c ipSetsPerVersion=${Math.ceil(maxEntries / DEFAULTS.ipSetCapacity)} or lower ban.max_entries; ` +
    'the Lambda refuses to start with too few IP sets.');

  // ---------------------------------------------------------------- function
  const zipPath = path.resolve(props.lambdaZip ?? DEFAULT_LAMBDA_ZIP);
  check(fs.existsSync(zipPath) && fs.statSync(zipPath).isFile(),
    `Lambda zip not found at ${zipPath}. Build it first with \`bash scripts/build-lambda.sh\` ` +
    '(from the repository root), or point -c lambdaZip=<path> at an existing bootstrap.zip.');
  const timeoutSeconds = checkInt('timeoutSeconds', props.timeoutSeconds ?? DEFAULTS.timeoutSeconds, 10, 900);
  const memorySize = checkInt('memorySize', props.memorySize ?? DEFAULTS.memorySize, 128, 10240);

  // Every event source may run this many invocations at once, plus one for the schedule and one per
  // CloudWatch Logs subscription (asynchronous invocations, retried by Lambda when throttled), or,
  // when the subscriptions deliver into a stream, one per shard of it.
  const subscriptions = (sources.has('waf-cloudwatch') ? 1 : 0) + (sources.has('cloudfront-cloudwatch') ? 1 : 0);
  const logsConcurrency = logsDelivery?.kind === 'kinesis' ? logsDelivery.shards : subscriptions;
  const partialsOn = props.partials ?? DEFAULTS.partials;
  const reducers = partialsOn ? DEFAULTS.partialsMaxConcurrency : 0;
  const requiredConcurrency = (s3?.maxConcurrency ?? 0) +
    (realtime ? realtime.shards * realtime.parallelization : 0) + logsConcurrency + reducers + 1;
  const reservedConcurrency = props.reservedConcurrency ?? undefined;
  if (reservedConcurrency !== undefined) {
    checkInt('reservedConcurrency', reservedConcurrency, 1, 10000);
    check(reservedConcurrency >= requiredConcurrency,
      `reservedConcurrency=${reservedConcurrency} is below what the event sources may run at once: ${requiredConcurrency} = ` +
      [s3 ? `${s3.maxConcurrency} (SQS eventSourceMaxConcurrency)` : undefined,
        realtime ? `${realtime.shards * realtime.parallelization} (Kinesis shards × parallelization)` : undefined,
        logsDelivery?.kind === 'kinesis' ? `${logsDelivery.shards} (logsShards: the subscriptions' Kinesis stream)` : undefined,
        logsDelivery?.kind === 'lambda' && sources.has('waf-cloudwatch') ? '1 (waf-cloudwatch subscription)' : undefined,
        logsDelivery?.kind === 'lambda' && sources.has('cloudfront-cloudwatch') ? '1 (cloudfront-cloudwatch subscription)' : undefined,
        partialsOn ? `${reducers} (partials: the reducer queue's event source)` : undefined,
        '1 (schedule)'].filter(Boolean).join(' + ') +
      '. Raise it, lower the event source concurrency, or leave it unreserved (-c reservedConcurrency=none, the default).');
  }

  const allowlistFiles = (props.allowlistFiles ?? []).map((f) => path.resolve(f));
  check(new Set(allowlistFiles).size === allowlistFiles.length, 'allowlistFiles names a file twice');
  for (const f of allowlistFiles) validateAllowlistFile(f);

  // ---------------------------------------------------------------- state
  const stateKey = props.stateKey ?? DEFAULTS.stateKey;
  check(stateKey.length > 0 && !stateKey.startsWith('/') && !stateKey.includes('*'), `bad stateKey ${stateKey}`);
  const reportsPrefix = props.reportsPrefix ?? DEFAULTS.reportsPrefix;
  check(reportsPrefix.endsWith('/') && !reportsPrefix.includes('*'), `reportsPrefix must end with / (got ${reportsPrefix})`);
  // State writes are allowed on the state key's folder, so sharding the state (docs/architecture.md, "State and concurrency") is config only.
  const stateScope = stateKey.includes('/') ? stateKey.slice(0, stateKey.lastIndexOf('/') + 1) + '*' : stateKey;
  check(!stateScope.startsWith(reportsPrefix) && !reportsPrefix.startsWith(stateScope.replace(/\*$/, '')),
    'stateKey must not be under reportsPrefix (reports expire, state must not)');
  let partials: PartialsSettings | undefined;
  check(partialsOn || props.partialsPrefix === undefined,
    'partialsPrefix is where partials=true writes the partials: set partials=true (or drop partialsPrefix)');
  if (partialsOn) {
    const prefix = props.partialsPrefix ?? DEFAULTS.partialsPrefix;
    check(prefix.endsWith('/') && !prefix.startsWith('/') && !prefix.includes('*') && prefix !== '/',
      `partialsPrefix must be a folder: non-empty, ending with /, without a leading / or * (got ${prefix})`);
    const stateFolder = stateScope.replace(/\*$/, '');
    // The reducer DELETEs what it merged and the lifecycle rule expires the prefix after days: neither may reach the
    // state; and a report (or the state) under the prefix would be read as a damaged partial.
    check(!prefix.startsWith(stateFolder) && !stateFolder.startsWith(prefix) && !stateKey.startsWith(prefix),
      `partialsPrefix=${prefix} overlaps the state (stateKey=${stateKey}, whose folder ${stateScope} the function writes): ` +
      'the prefix is expired after days and its objects deleted once merged. Choose a prefix apart from the state key\'s folder.');
    check(!prefix.startsWith(reportsPrefix) && !reportsPrefix.startsWith(prefix),
      `partialsPrefix=${prefix} overlaps reportsPrefix=${reportsPrefix}: reports would be read (and kept) as damaged partials, ` +
      'partials expired as reports. Choose prefixes apart from each other.');
    partials = {
      prefix,
      maxReceiveCount: checkInt('maxReceiveCount', props.maxReceiveCount ?? DEFAULTS.maxReceiveCount, 1, 1000),
    };
  }
  if (props.breakGlassRoleArn !== undefined) {
    check(ROLE_ARN.test(props.breakGlassRoleArn), `breakGlassRoleArn=${props.breakGlassRoleArn} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)`);
  }

  // ---------------------------------------------------------------- notifications, monitoring
  // Someone must receive the alarms: a guardrail trip or a function that cannot start must not go
  // unnoticed because a context key was forgotten. Not having a subscriber is a decision, said out loud.
  check(props.alarmEmail !== undefined,
    'alarmEmail is required: without it nobody receives the alarms (guardrail trips, refused logs, sync failures, ' +
    'a function that fails) or the ban notifications. Deploy with -c alarmEmail=you@example.com (AWS mails it a ' +
    'link to confirm), or with -c alarmEmail=none to subscribe someone yourself to the topics in the ' +
    'outputs AlarmTopicArn and NotificationTopicArn (chat, a pager, a queue). docs/deploy.md "Who receives alarms and notifications".');
  const alarmEmail = props.alarmEmail === null ? undefined : email('alarmEmail', props.alarmEmail);
  let notifications: Resolved['notifications'];
  const notify = props.notifications ?? DEFAULTS.notifications;
  const notifyEmail = props.notifyEmail === null ? undefined : email('notifyEmail', props.notifyEmail);
  if (!notify) {
    check(props.notifyTopicArn === undefined && notifyEmail === undefined,
      'notifications=false contradicts notifyTopicArn/notifyEmail: drop one of them');
    notifications = { mode: 'none' };
  } else if (props.notifyTopicArn !== undefined) {
    check(TOPIC_ARN.test(props.notifyTopicArn),
      `notifyTopicArn=${props.notifyTopicArn} is not a standard SNS topic ARN (FIFO topics are not supported: ban notifications carry no message group)`);
    check(notifyEmail === undefined,
      'notifyEmail subscribes to the topic the stack creates; with notifyTopicArn manage that topic\'s subscriptions where it is defined');
    notifications = { mode: 'existing', topicArn: props.notifyTopicArn };
  } else if (notifyEmail !== undefined) {
    notifications = { mode: 'create', email: notifyEmail, emailFrom: 'notifyEmail' };
  } else if (props.notifyEmail === undefined && alarmEmail !== undefined) {
    // The created topic gets the alarm address unless told otherwise (notifyEmail=none).
    notifications = { mode: 'create', email: alarmEmail, emailFrom: 'alarmEmail' };
  } else {
    notifications = { mode: 'create' };
  }
  const budgetOn = props.budget ?? DEFAULTS.budget;
  const budgetAmount = props.budgetAmount ?? DEFAULTS.budgetAmount;
  check(Number.isFinite(budgetAmount) && budgetAmount > 0, `budgetAmount must be a positive number of USD, got ${budgetAmount}`);

  return {
    scope,
    namePrefix,
    sources,
    s3,
    streamLogRetention: retention('streamLogRetentionDays', props.streamLogRetentionDays ?? DEFAULTS.streamLogRetentionDays),
    distributionId,
    logsDelivery,
    realtime,
    createWebAcl,
    webAclArn,
    ruleAction: props.webAclRuleAction ?? DEFAULTS.webAclRuleAction,
    ipSetsPerVersion,
    maxEntries,
    zipPath,
    architecture: props.architecture ?? DEFAULTS.architecture,
    memorySize,
    timeoutSeconds,
    reservedConcurrency,
    requiredConcurrency,
    functionLogRetention: retention('functionLogRetentionDays', props.functionLogRetentionDays ?? DEFAULTS.functionLogRetentionDays),
    configPath,
    configToml,
    allowlistFiles,
    dryRun: props.dryRun ?? DEFAULTS.dryRun,
    metricsNamespace: props.metricsNamespace ?? DEFAULTS.metricsNamespace,
    rustLog: props.rustLog ?? DEFAULTS.rustLog,
    scheduleExpression: props.scheduleExpression ?? DEFAULTS.scheduleExpression,
    stateKey,
    stateScope,
    reportsPrefix,
    reportRetentionDays: checkInt('reportRetentionDays', props.reportRetentionDays ?? DEFAULTS.reportRetentionDays, 1, 36500),
    stateVersionDays: checkInt('stateVersionDays', props.stateVersionDays ?? DEFAULTS.stateVersionDays, 1, 365),
    breakGlassRoleArn: props.breakGlassRoleArn,
    partials,
    notifications,
    alarmEmail,
    budget: budgetOn ? { email: email('budgetEmail', props.budgetEmail) ?? alarmEmail, amount: budgetAmount } : undefined,
    queueAgeAlarmSeconds: checkInt('queueAgeAlarmSeconds', props.queueAgeAlarmSeconds ?? DEFAULTS.queueAgeAlarmSeconds, 60, 1209600),
    stateSizeAlarmBytes: checkInt('stateSizeAlarmBytes',
      props.stateSizeAlarmBytes ?? defaultStateSizeAlarmBytes(memorySize), 1, 10240 * MIB),
  };
}
