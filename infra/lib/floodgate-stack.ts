// The floodgate pipeline: log bucket → S3 notifications → SQS (+DLQ) → Lambda → WAF IP sets,
// a schedule for expiry/reconcile, a state/report bucket, least-privilege IAM and alarms.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Aws, CfnOutput, Duration, Fn, RemovalPolicy, Stack, StackProps, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { DEFAULTS, FloodgateSettings } from './config';
import { FloodgateMonitoring } from './monitoring';

export interface FloodgateStackProps extends StackProps, FloodgateSettings {}

/** Where `scripts/build-lambda.sh` writes the Lambda zip (relative to this file: infra/lib → repo root). */
export const DEFAULT_LAMBDA_ZIP = path.resolve(__dirname, '..', '..', 'target', 'lambda', 'bootstrap.zip');
export const DEFAULT_CONFIG_PATH = path.resolve(__dirname, '..', 'config', 'floodgate.toml');

function check(cond: boolean, message: string): void {
  if (!cond) throw new Error(`floodgate: ${message}`);
}

function checkInt(name: string, v: number, min: number, max: number): number {
  check(Number.isInteger(v) && v >= min && v <= max, `${name} must be an integer in ${min}..${max}, got ${v}`);
  return v;
}

/** A cdk-nag `appliesTo` regex matching `s` literally. */
function literal(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function retention(days: number): logs.RetentionDays {
  const allowed = Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number');
  check(allowed.includes(days), `functionLogRetentionDays=${days} is not a CloudWatch Logs retention (${allowed.join(', ')})`);
  return days as logs.RetentionDays;
}

export class FloodgateStack extends Stack {
  readonly fn: lambda.Function;
  readonly queue: sqs.Queue;
  readonly dlq: sqs.Queue;
  readonly stateBucket: s3.Bucket;
  readonly logBucket: s3.IBucket;
  readonly ipv4Set: wafv2.CfnIPSet;
  readonly ipv6Set: wafv2.CfnIPSet;
  readonly webAcl?: wafv2.CfnWebACL;
  readonly monitoring: FloodgateMonitoring;

  constructor(scope: Construct, id: string, props: FloodgateStackProps = {}) {
    super(scope, id, props);

    // ---------------------------------------------------------------- settings
    const wafScope = props.scope ?? DEFAULTS.scope;
    check(wafScope === 'REGIONAL' || wafScope === 'CLOUDFRONT', `scope must be REGIONAL or CLOUDFRONT, got ${wafScope}`);
    if (wafScope === 'CLOUDFRONT') {
      const region = Token.isUnresolved(this.region) ? '(unresolved: environment-agnostic stack)' : this.region;
      check(this.region === 'us-east-1',
        `scope CLOUDFRONT requires the stack region to be us-east-1 (WAF keeps CloudFront IP sets and web ACLs ` +
        `there), but the region is ${region}. Deploy with -c region=us-east-1 (or AWS_REGION=us-east-1), or use scope REGIONAL.`);
    }
    const namePrefix = props.namePrefix ?? this.stackName;
    check(/^[A-Za-z0-9_-]{1,100}$/.test(namePrefix), `namePrefix must match [A-Za-z0-9_-]{1,100}, got ${namePrefix}`);

    const existingLogBucket = props.logBucketName;
    const createWebAcl = props.createWebAcl ?? (props.webAclArn === undefined && existingLogBucket === undefined);
    check(!(createWebAcl && props.webAclArn),
      'give either webAclArn (log an existing web ACL) or createWebAcl=true, not both');
    check(existingLogBucket !== undefined || createWebAcl || props.webAclArn !== undefined,
      'a new log bucket needs a web ACL to log: set createWebAcl=true or webAclArn=<arn>, or use logBucketName=<existing bucket>');

    const logPrefixes: string[] = [...(props.logPrefixes ?? (existingLogBucket ? DEFAULTS.existingBucketLogPrefixes : DEFAULTS.newBucketLogPrefixes))];
    check(logPrefixes.length > 0, 'logPrefixes must not be empty (use [""] for the whole bucket)');
    check(logPrefixes.every((p) => !p.includes('*') && !p.includes(',')), 'log prefixes must not contain * or ,');
    const logSuffixes: string[] = [...(props.logSuffixes ?? DEFAULTS.logSuffixes)];
    check(logSuffixes.every((s) => s.length > 0 && !s.includes('*') && !s.includes(',')), 'log suffixes must be non-empty without * or ,');

    const timeoutSeconds = checkInt('timeoutSeconds', props.timeoutSeconds ?? DEFAULTS.timeoutSeconds, 10, 900);
    const memorySize = checkInt('memorySize', props.memorySize ?? DEFAULTS.memorySize, 128, 10240);
    const reserved = props.reservedConcurrency === null ? undefined : (props.reservedConcurrency ?? DEFAULTS.reservedConcurrency);
    if (reserved !== undefined) checkInt('reservedConcurrency', reserved, 1, 1000);
    const batchSize = checkInt('batchSize', props.batchSize ?? DEFAULTS.batchSize, 1, 10000);
    const windowSeconds = checkInt('maxBatchingWindowSeconds', props.maxBatchingWindowSeconds ?? DEFAULTS.maxBatchingWindowSeconds, 0, 300);
    check(batchSize <= 10 || windowSeconds > 0, 'batchSize above 10 needs maxBatchingWindowSeconds > 0');
    const maxReceiveCount = checkInt('maxReceiveCount', props.maxReceiveCount ?? DEFAULTS.maxReceiveCount, 1, 1000);
    const esMaxConcurrency = checkInt('eventSourceMaxConcurrency', props.eventSourceMaxConcurrency ?? DEFAULTS.eventSourceMaxConcurrency, 2, 1000);
    const reportRetentionDays = checkInt('reportRetentionDays', props.reportRetentionDays ?? DEFAULTS.reportRetentionDays, 1, 36500);
    const logExpirationDays = checkInt('logExpirationDays', props.logExpirationDays ?? DEFAULTS.logExpirationDays, 0, 36500);
    const stateKey = props.stateKey ?? DEFAULTS.stateKey;
    check(stateKey.length > 0 && !stateKey.startsWith('/') && !stateKey.includes('*'), `bad stateKey ${stateKey}`);
    const reportsPrefix = props.reportsPrefix ?? DEFAULTS.reportsPrefix;
    check(reportsPrefix.endsWith('/') && !reportsPrefix.includes('*'), `reportsPrefix must end with / (got ${reportsPrefix})`);
    // State writes are allowed on the state key's folder, so sharding the state (DESIGN "Scale") is config only.
    const stateScope = stateKey.includes('/') ? stateKey.slice(0, stateKey.lastIndexOf('/') + 1) + '*' : stateKey;
    check(!stateScope.startsWith(reportsPrefix) && !reportsPrefix.startsWith(stateScope.replace(/\*$/, '')),
      'stateKey must not be under reportsPrefix (reports expire, state must not)');
    const dryRun = props.dryRun ?? DEFAULTS.dryRun;
    const metricsNamespace = props.metricsNamespace ?? DEFAULTS.metricsNamespace;

    const zipPath = path.resolve(props.lambdaZip ?? DEFAULT_LAMBDA_ZIP);
    check(fs.existsSync(zipPath) && fs.statSync(zipPath).isFile(),
      `Lambda zip not found at ${zipPath}. Build it first with \`bash scripts/build-lambda.sh\` ` +
      '(from the repository root), or point -c lambdaZip=<path> at an existing bootstrap.zip.');
    const configPath = path.resolve(props.configPath ?? DEFAULT_CONFIG_PATH);
    check(fs.existsSync(configPath), `floodgate config not found at ${configPath} (set -c configPath=<file>)`);
    const configToml = fs.readFileSync(configPath, 'utf8');

    // ---------------------------------------------------------------- WAF
    const ipSet = (id: string, version: 'IPV4' | 'IPV6') => new wafv2.CfnIPSet(this, id, {
      name: `${namePrefix}-${version.toLowerCase()}`,
      description: `floodgate blocklist ${version}, entries are managed by the floodgate Lambda`,
      scope: wafScope,
      ipAddressVersion: version,
      addresses: [],
    });
    this.ipv4Set = ipSet('IPv4Set', 'IPV4');
    this.ipv6Set = ipSet('IPv6Set', 'IPV6');

    if (createWebAcl) {
      const metric = (name: string) => ({ cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName: name });
      const ref = (s: wafv2.CfnIPSet) => ({ ipSetReferenceStatement: { arn: s.attrArn } });
      this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
        name: `${namePrefix}-acl`,
        description: 'floodgate: blocks the clients in the floodgate IP sets, allows everything else',
        scope: wafScope,
        defaultAction: { allow: {} },
        visibilityConfig: metric(`${namePrefix}-acl`),
        rules: [{
          name: 'floodgate-blocklist',
          priority: 0,
          action: (props.webAclRuleAction ?? DEFAULTS.webAclRuleAction) === 'COUNT' ? { count: {} } : { block: {} },
          statement: { orStatement: { statements: [ref(this.ipv4Set), ref(this.ipv6Set)] } },
          visibilityConfig: metric(`${namePrefix}-blocklist`),
        }],
      });
      new CfnOutput(this, 'WebAclArn', { value: this.webAcl.attrArn, description: 'Associate this web ACL with your ALB / API / CloudFront distribution' });
    }
    const webAclArn = this.webAcl?.attrArn ?? props.webAclArn;

    // ---------------------------------------------------------------- log source
    if (existingLogBucket) {
      this.logBucket = s3.Bucket.fromBucketName(this, 'LogBucket', existingLogBucket);
    } else {
      const suffix = props.logBucketSuffix ?? `floodgate-${Aws.ACCOUNT_ID}-${Aws.REGION}`;
      const bucket = new s3.Bucket(this, 'LogBucket', {
        bucketName: `aws-waf-logs-${suffix}`,
        encryption: s3.BucketEncryption.S3_MANAGED,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        removalPolicy: RemovalPolicy.RETAIN,
        lifecycleRules: logExpirationDays > 0 ? [{ id: 'expire-raw-logs', expiration: Duration.days(logExpirationDays) }] : [],
      });
      // WAF delivers through the log delivery service; grant it explicitly (AWS would otherwise
      // edit the bucket policy behind CloudFormation's back).
      const delivery = new iam.ServicePrincipal('delivery.logs.amazonaws.com');
      const sourceConditions = {
        StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
        ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:*` },
      };
      bucket.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'AWSLogDeliveryWrite',
        principals: [delivery],
        actions: ['s3:PutObject'],
        resources: [bucket.arnForObjects(`AWSLogs/${Aws.ACCOUNT_ID}/*`)],
        conditions: {
          ...sourceConditions,
          StringEquals: { ...sourceConditions.StringEquals, 's3:x-amz-acl': 'bucket-owner-full-control' },
        },
      }));
      bucket.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'AWSLogDeliveryAclCheck',
        principals: [delivery],
        actions: ['s3:GetBucketAcl'],
        resources: [bucket.bucketArn],
        conditions: sourceConditions,
      }));
      const logging = new wafv2.CfnLoggingConfiguration(this, 'WafLogging', {
        resourceArn: webAclArn!,
        logDestinationConfigs: [bucket.bucketArn],
      });
      if (bucket.policy) logging.node.addDependency(bucket.policy);
      this.logBucket = bucket;
    }

    // ---------------------------------------------------------------- state / reports bucket
    this.stateBucket = new s3.Bucket(this, 'StateBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        { id: 'expire-reports', prefix: reportsPrefix, expiration: Duration.days(reportRetentionDays) },
        // Old versions of the state allow a rollback after a bad config; the current state never expires.
        { id: 'expire-old-versions', noncurrentVersionExpiration: Duration.days(30) },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
    });

    // ---------------------------------------------------------------- queue
    this.dlq = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'LogQueue', {
      // SSE-SQS (not KMS): S3 can publish to it without a key policy.
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(6 * timeoutSeconds),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.dlq, maxReceiveCount },
    });

    const dest = new s3n.SqsDestination(this.queue);
    for (const prefix of logPrefixes) {
      const suffixes: (string | undefined)[] = logSuffixes.length > 0 ? logSuffixes : [undefined];
      for (const suffix of suffixes) {
        const filter: s3.NotificationKeyFilter = {
          ...(prefix ? { prefix } : {}),
          ...(suffix ? { suffix } : {}),
        };
        this.logBucket.addEventNotification(s3.EventType.OBJECT_CREATED, dest, filter);
      }
    }

    // ---------------------------------------------------------------- function
    const logGroup = new logs.LogGroup(this, 'FunctionLogs', {
      retention: retention(props.functionLogRetentionDays ?? DEFAULTS.functionLogRetentionDays),
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const environment: Record<string, string> = {
      FLOODGATE_STATE_BUCKET: this.stateBucket.bucketName,
      FLOODGATE_STATE_KEY: stateKey,
      FLOODGATE_REPORTS_PREFIX: reportsPrefix,
      FLOODGATE_IPV4_SET: `${this.ipv4Set.name}:${this.ipv4Set.attrId}`,
      FLOODGATE_IPV6_SET: `${this.ipv6Set.name}:${this.ipv6Set.attrId}`,
      FLOODGATE_SCOPE: wafScope,
      FLOODGATE_DRY_RUN: String(dryRun),
      FLOODGATE_LOG_PREFIXES: logPrefixes.join(','),
      FLOODGATE_LOG_SUFFIXES: logSuffixes.join(','),
      FLOODGATE_METRICS_NAMESPACE: metricsNamespace,
      RUST_LOG: props.rustLog ?? DEFAULTS.rustLog,
    };
    let configAsset: s3assets.Asset | undefined;
    if (Buffer.byteLength(configToml, 'utf8') <= DEFAULTS.inlineConfigMaxBytes) {
      environment.FLOODGATE_CONFIG_TOML = configToml;
    } else {
      configAsset = new s3assets.Asset(this, 'ConfigAsset', { path: configPath });
      environment.FLOODGATE_CONFIG_S3 = `s3://${configAsset.s3BucketName}/${configAsset.s3ObjectKey}`;
    }

    // Own role without AWSLambdaBasicExecutionRole (logs:* on "*"): write access to this log group only.
    const role = new iam.Role(this, 'FunctionRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'floodgate Lambda: read logs, read/write state and reports, sync two WAF IP sets',
    });
    logGroup.grantWrite(role);

    this.fn = new lambda.Function(this, 'Function', {
      role,
      description: 'floodgate: WAF/CloudFront/ALB logs → adaptive WAF IP set blocklist',
      runtime: lambda.Runtime.PROVIDED_AL2023,
      handler: 'bootstrap',
      code: lambda.Code.fromAsset(zipPath),
      architecture: (props.architecture ?? DEFAULTS.architecture) === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64,
      memorySize,
      timeout: Duration.seconds(timeoutSeconds),
      reservedConcurrentExecutions: reserved,
      logGroup,
      environment,
    });

    // ---------------------------------------------------------------- least-privilege IAM
    const allow = (sid: string, actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
      this.fn.addToRolePolicy(new iam.PolicyStatement({ sid, actions, resources, conditions }));
    allow('ReadLogObjects', ['s3:GetObject'], logPrefixes.map((p) => this.logBucket.arnForObjects(`${p}*`)));
    if (props.logBucketKmsKeyArn) {
      allow('DecryptLogObjects', ['kms:Decrypt'], [props.logBucketKmsKeyArn], {
        StringEquals: { 'kms:ViaService': `s3.${Aws.REGION}.amazonaws.com` },
      });
    }
    allow('ReadWriteStateAndReports', ['s3:GetObject', 's3:PutObject'], [
      this.stateBucket.arnForObjects(stateScope),
      this.stateBucket.arnForObjects(`${reportsPrefix}*`),
    ]);
    // Without ListBucket, reading the not-yet-existing state on the first run returns 403 instead of
    // 404. No s3:prefix condition: a GetObject request carries no s3:prefix key, so a conditional
    // grant would not turn that 403 into a 404. The bucket holds only floodgate's state and reports.
    allow('ListStateBucket', ['s3:ListBucket'], [this.stateBucket.bucketArn]);
    allow('SyncIpSets', ['wafv2:GetIPSet', 'wafv2:UpdateIPSet'], [this.ipv4Set.attrArn, this.ipv6Set.attrArn]);
    if (configAsset) {
      allow('ReadConfig', ['s3:GetObject'], [`arn:${Aws.PARTITION}:s3:::${configAsset.s3BucketName}/${configAsset.s3ObjectKey}`]);
    }

    // ---------------------------------------------------------------- triggers
    this.fn.addEventSource(new SqsEventSource(this.queue, {
      batchSize,
      maxBatchingWindow: windowSeconds > 0 ? Duration.seconds(windowSeconds) : undefined,
      reportBatchItemFailures: true,
      maxConcurrency: esMaxConcurrency,
    }));

    new events.Rule(this, 'Schedule', {
      description: 'floodgate: expire bans and reconcile the IP sets',
      schedule: events.Schedule.expression(props.scheduleExpression ?? DEFAULTS.scheduleExpression),
      targets: [new targets.LambdaFunction(this.fn, { retryAttempts: 2, maxEventAge: Duration.hours(1) })],
    });

    // ---------------------------------------------------------------- monitoring
    this.monitoring = new FloodgateMonitoring(this, 'Monitoring', {
      fn: this.fn,
      queue: this.queue,
      dlq: this.dlq,
      metricsNamespace,
      queueAgeAlarmSeconds: checkInt('queueAgeAlarmSeconds', props.queueAgeAlarmSeconds ?? DEFAULTS.queueAgeAlarmSeconds, 60, 1209600),
      alarmEmail: props.alarmEmail,
      budgetEmail: props.budgetEmail,
      budgetAmount: props.budgetAmount ?? DEFAULTS.budgetAmount,
      namePrefix,
    });

    // ---------------------------------------------------------------- cdk-nag (AwsSolutions)
    // test/nag.test.ts requires zero unsuppressed AwsSolutions findings; each finding that does not
    // apply is acknowledged here, on the narrowest construct, with the reason (docs/deploy.md "cdk-nag").
    const s3AccessLogsReason = 'Server access logs would need a further bucket (which could not log itself). ' +
      'Writes come only from the floodgate role and the WAF log delivery service; use CloudTrail S3 data events for an audit trail.';
    if (this.logBucket instanceof s3.Bucket) {
      NagSuppressions.addResourceSuppressions(this.logBucket, [{
        id: 'AwsSolutions-S1',
        reason: `This bucket is itself a log sink (WAF log delivery). ${s3AccessLogsReason}`,
      }]);
    }
    NagSuppressions.addResourceSuppressions(this.stateBucket, [{
      id: 'AwsSolutions-S1',
      reason: `Private, versioned state/report bucket. ${s3AccessLogsReason}`,
    }]);
    const arnRef = (logicalPrefix: string) => `<${logicalPrefix}[0-9A-F]{8}\\.Arn>`;
    const logBucketArn = existingLogBucket ? literal(`arn:<AWS::Partition>:s3:::${existingLogBucket}`) : arnRef('LogBucket');
    const wildcard = (bucketArn: string, keyPattern: string) => ({ regex: `/^Resource::${bucketArn}\\/${literal(keyPattern)}$/` });
    NagSuppressions.addResourceSuppressions(role, [{
      id: 'AwsSolutions-IAM5',
      reason: 'Object-key wildcards scoped to one prefix each: s3:GetObject on the configured log prefixes ' +
        `(${logPrefixes.map((p) => `${p}*`).join(', ')}; log object keys are not known in advance), and ` +
        `s3:GetObject/PutObject on ${stateScope} (the state object's folder, for state shards) and ${reportsPrefix}* (one report per run) in the state bucket.`,
      appliesTo: [
        ...logPrefixes.map((p) => wildcard(logBucketArn, `${p}*`)),
        wildcard(arnRef('StateBucket'), stateScope),
        wildcard(arnRef('StateBucket'), `${reportsPrefix}*`),
      ],
    }], true);
    // CDK's singleton handler that configures the bucket notifications (a CloudFormation custom resource).
    for (const handler of this.node.children.filter((c) => c.node.id.startsWith('BucketNotificationsHandler'))) {
      NagSuppressions.addResourceSuppressions(handler, [{
        id: 'AwsSolutions-IAM4',
        reason: 'CDK-managed custom resource that sets the S3 bucket notifications at deploy time; its role uses ' +
          'AWSLambdaBasicExecutionRole (CloudWatch Logs only) and is not configurable. It never handles log data.',
        appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
      }], true);
    }

    // ---------------------------------------------------------------- outputs
    new CfnOutput(this, 'IPv4SetArn', { value: this.ipv4Set.attrArn, description: 'Reference in a block rule of your web ACL' });
    new CfnOutput(this, 'IPv6SetArn', { value: this.ipv6Set.attrArn, description: 'Reference in a block rule of your web ACL' });
    new CfnOutput(this, 'IPv4SetNameId', { value: environment.FLOODGATE_IPV4_SET, description: 'NAME:ID for `floodgate sync --ipv4-set`' });
    new CfnOutput(this, 'IPv6SetNameId', { value: environment.FLOODGATE_IPV6_SET, description: 'NAME:ID for `floodgate sync --ipv6-set`' });
    new CfnOutput(this, 'Scope', { value: wafScope });
    new CfnOutput(this, 'LogBucketName', { value: this.logBucket.bucketName });
    new CfnOutput(this, 'StateBucketName', { value: this.stateBucket.bucketName });
    new CfnOutput(this, 'StateUri', { value: `s3://${this.stateBucket.bucketName}/${stateKey}` });
    new CfnOutput(this, 'FunctionName', { value: this.fn.functionName });
    new CfnOutput(this, 'QueueUrl', { value: this.queue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.dlq.queueUrl });
    new CfnOutput(this, 'DryRun', {
      value: String(dryRun),
      description: dryRun ? 'Dry run: bans are decided and reported, IP sets untouched. Redeploy with -c dryRun=false to enforce.' : 'Enforcing',
    });
    if (!createWebAcl && !props.webAclArn) {
      new CfnOutput(this, 'AttachIpSets', {
        value: Fn.join(' ', ['Add a rule with action BLOCK and an OR of IPSetReferenceStatements to', this.ipv4Set.attrArn, 'and', this.ipv6Set.attrArn, 'to your web ACL']),
      });
    }
  }
}
