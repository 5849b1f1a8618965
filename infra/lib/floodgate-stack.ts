// The floodgate pipeline: log sources (S3 → SQS, CloudWatch Logs subscriptions, a Kinesis stream)
// → Lambda → WAF IP sets, a schedule for expiry/reconcile, a state/report bucket, ban notifications,
// least-privilege IAM and alarms. Settings are validated in resolve.ts; each part lives in its own
// module, and every resource that existed before the split keeps its logical id (docs/deploy.md).
import { Annotations, Aws, CfnOutput, Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as lambdaDestinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { DEFAULTS, FloodgateSettings } from './config';
import { EnvBudget } from './env';
import { IpSets, addIpSets } from './ipsets';
import { FloodgateMonitoring } from './monitoring';
import { applyNagSuppressions } from './nag';
import { addNotifications } from './notifications';
import { PartialsResources, addPartials } from './partials';
import { Resolved, resolveSettings } from './resolve';
import { addCloudWatchSources } from './sources/cloudwatch';
import { addRealtimeSource } from './sources/kinesis';
import { S3Source, addS3Source } from './sources/s3';
import { onlyWriters } from './writers';

export { DEFAULT_CONFIG_PATH, DEFAULT_LAMBDA_ZIP } from './resolve';

export interface FloodgateStackProps extends StackProps, FloodgateSettings {}

/** Retries of the scheduled run and of every asynchronous invocation (CloudWatch Logs subscriptions). */
export const ASYNC_RETRIES = { retryAttempts: 2, maxEventAgeSeconds: 3600 } as const;

export class FloodgateStack extends Stack {
  readonly settings: Resolved;
  readonly fn: lambda.Function;
  readonly role: iam.Role;
  readonly ipSets: IpSets;
  /** The first IP set of each version (the ones every deployment has had). */
  readonly ipv4Set: wafv2.CfnIPSet;
  readonly ipv6Set: wafv2.CfnIPSet;
  readonly webAcl?: wafv2.CfnWebACL;
  readonly stateBucket: s3.Bucket;
  /** Failed schedule runs, failed asynchronous invocations and failed Kinesis batches. */
  readonly failureQueue: sqs.Queue;
  /** The `s3` source (log bucket, queue, DLQ), when selected. */
  readonly s3Source?: S3Source;
  /** `partials=true`: the reducer's queue and DLQ, the partials' ARN pattern. */
  readonly partials?: PartialsResources;
  readonly monitoring: FloodgateMonitoring;
  /** The function's environment as deployed (tokens unresolved). */
  readonly lambdaEnvironment: Record<string, string>;

  constructor(scope: Construct, id: string, props: FloodgateStackProps = {}) {
    super(scope, id, props);
    const r = resolveSettings(props, this.stackName, this.region);
    this.settings = r;

    // ---------------------------------------------------------------- WAF
    this.ipSets = addIpSets(this, {
      scope: r.scope, namePrefix: r.namePrefix, perVersion: r.ipSetsPerVersion, createWebAcl: r.createWebAcl, ruleAction: r.ruleAction,
    });
    this.ipv4Set = this.ipSets.ipv4[0];
    this.ipv6Set = this.ipSets.ipv6[0];
    this.webAcl = this.ipSets.webAcl;
    const webAclArn = this.webAcl?.attrArn ?? r.webAclArn;

    // ---------------------------------------------------------------- state / reports bucket
    this.stateBucket = new s3.Bucket(this, 'StateBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        // Each run writes its reports under runs/ and again under latest/: the replaced latest/ versions are
        // no rollback, only storage (one set a minute under an attack), so they go after a day.
        {
          id: 'expire-reports', prefix: r.reportsPrefix, expiration: Duration.days(r.reportRetentionDays),
          noncurrentVersionExpiration: Duration.days(1),
        },
        // An expired report leaves a delete marker once its last version is gone; S3 keeps those until told.
        { id: 'remove-report-delete-markers', prefix: r.reportsPrefix, expiredObjectDeleteMarker: true },
        // Every commit replaces the state (one a second under Kinesis). Old versions allow a rollback after a
        // bad config; S3 deletes one only when it is stateVersionDays old AND the 100 newest are newer, so this
        // keeps at least 100 versions and at most stateVersionDays of commits (S3 has no count-only limit).
        // The current state never expires.
        {
          id: 'expire-old-state-versions', prefix: r.stateScope.replace(/\*$/, ''),
          noncurrentVersionExpiration: Duration.days(r.stateVersionDays),
          noncurrentVersionsToRetain: DEFAULTS.stateVersionsToRetain,
        },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
    });

    this.failureQueue = new sqs.Queue(this, 'FailureQueue', {
      // Not the S3 DLQ: SQS can redrive only messages that came from a source queue, and these did not.
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    // ---------------------------------------------------------------- function
    const logGroup = new logs.LogGroup(this, 'FunctionLogs', {
      retention: r.functionLogRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Own role without AWSLambdaBasicExecutionRole (logs:* on "*"): write access to this log group only.
    this.role = new iam.Role(this, 'FunctionRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'floodgate Lambda: read logs, read/write state and reports, sync the WAF IP sets',
    });
    logGroup.grantWrite(this.role);
    this.fn = new lambda.Function(this, 'Function', {
      role: this.role,
      description: 'floodgate: WAF/CloudFront/ALB logs → adaptive WAF IP set blocklist',
      runtime: lambda.Runtime.PROVIDED_AL2023,
      handler: 'bootstrap',
      code: lambda.Code.fromAsset(r.zipPath),
      architecture: r.architecture === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64,
      memorySize: r.memorySize,
      timeout: Duration.seconds(r.timeoutSeconds),
      // Unreserved by default: a new account may have a concurrency quota of 10, all of which Lambda
      // keeps unreserved, so any reservation would fail there (docs/deploy.md "Concurrency").
      reservedConcurrentExecutions: r.reservedConcurrency,
      logGroup,
    });
    // Asynchronous invocations (the schedule, CloudWatch Logs subscriptions): bounded, and what still
    // fails is kept in the failure queue with its payload instead of being dropped.
    this.fn.configureAsyncInvoke({
      retryAttempts: ASYNC_RETRIES.retryAttempts,
      maxEventAge: Duration.seconds(ASYNC_RETRIES.maxEventAgeSeconds),
      onFailure: new lambdaDestinations.SqsDestination(this.failureQueue),
    });

    // ---------------------------------------------------------------- sources
    const env: Record<string, string> = {};
    if (r.s3) {
      this.s3Source = addS3Source(this, {
        settings: r.s3, fn: this.fn, timeoutSeconds: r.timeoutSeconds, webAclArn, failureQueue: this.failureQueue,
        breakGlassRoleArn: r.breakGlassRoleArn,
      });
      Object.assign(env, this.s3Source.env);
    }
    const cw = addCloudWatchSources(this, {
      fn: this.fn,
      namePrefix: r.namePrefix,
      retention: r.streamLogRetention,
      wafWebAclArn: r.sources.has('waf-cloudwatch') ? webAclArn : undefined,
      distributionId: r.distributionId,
      delivery: r.logsDelivery,
      failureQueue: this.failureQueue,
      breakGlassRoleArn: r.breakGlassRoleArn,
    });
    Object.assign(env, cw.env);
    const realtime = r.realtime
      ? addRealtimeSource(this, {
        fn: this.fn, namePrefix: r.namePrefix, settings: r.realtime, failureQueue: this.failureQueue, breakGlassRoleArn: r.breakGlassRoleArn,
      })
      : undefined;
    Object.assign(env, realtime?.env ?? {});
    // Both streams may feed the function: it reads the records of each ARN listed.
    env.FLOODGATE_STREAM_ARNS = [cw.env.FLOODGATE_STREAM_ARNS, realtime?.env.FLOODGATE_STREAM_ARNS]
      .filter((a): a is string => a !== undefined).join(',');
    if (env.FLOODGATE_STREAM_ARNS === '') delete env.FLOODGATE_STREAM_ARNS;
    if (r.scope === 'REGIONAL' && (r.sources.has('cloudfront-cloudwatch') || r.sources.has('cloudfront-realtime'))) {
      Annotations.of(this).addWarning('floodgate: CloudFront log sources with scope REGIONAL: the IP sets can block only at a regional ' +
        'resource (e.g. an ALB behind CloudFront, matching X-Forwarded-For with IPSetForwardedIPConfig). To block at the ' +
        'distribution deploy with -c scope=CLOUDFRONT -c region=us-east-1.');
    }
    const notifications = addNotifications(this, r.notifications, r.namePrefix, this.role);
    Object.assign(env, notifications.env);
    if (r.partials) {
      this.partials = addPartials(this, {
        settings: r.partials, fn: this.fn, stateBucket: this.stateBucket, timeoutSeconds: r.timeoutSeconds,
      });
      Object.assign(env, this.partials.env);
    }

    // ---------------------------------------------------------------- least-privilege IAM
    const allow = (sid: string, actions: string[], resources: string[]) =>
      this.fn.addToRolePolicy(new iam.PolicyStatement({ sid, actions, resources }));
    allow('ReadWriteStateAndReports', ['s3:GetObject', 's3:PutObject'], [
      this.stateBucket.arnForObjects(r.stateScope),
      this.stateBucket.arnForObjects(`${r.reportsPrefix}*`),
    ]);
    // Without ListBucket, reading the not-yet-existing state on the first run returns 403 instead of
    // 404. No s3:prefix condition: a GetObject request carries no s3:prefix key, so a conditional
    // grant would not turn that 403 into a 404. The bucket holds only floodgate's state and reports.
    allow('ListStateBucket', ['s3:ListBucket'], [this.stateBucket.bucketArn]);
    allow('SyncIpSets', ['wafv2:GetIPSet', 'wafv2:UpdateIPSet'], this.ipSets.all.map((s) => s.attrArn));

    // Only the function (and the break-glass role) may overwrite or delete the state: a stray
    // `aws s3 cp` by an administrator would otherwise replace every ban and counter at once. With
    // partials the same holds for them: a partial put there is merged into the state as counts.
    this.stateBucket.addToResourcePolicy(onlyWriters({
      sid: 'StateWritesOnlyByFloodgate',
      actions: ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'],
      resources: [this.stateBucket.arnForObjects(r.stateScope), ...(this.partials ? [this.partials.objectsArn] : [])],
      writers: [this.role.roleArn],
      breakGlassRoleArn: r.breakGlassRoleArn,
    }));

    const objectArn = (asset: s3assets.Asset) => `arn:${Aws.PARTITION}:s3:::${asset.s3BucketName}/${asset.s3ObjectKey}`;
    const budget = new EnvBudget();
    if (r.allowlistFiles.length > 0) {
      const assets = r.allowlistFiles.map((file, i) => new s3assets.Asset(this, `AllowFile${i + 1}`, { path: file }));
      for (const a of assets) budget.hint(a.s3BucketName, 63);
      env.FLOODGATE_ALLOW_FILES = assets.map((a) => `s3://${a.s3BucketName}/${a.s3ObjectKey}`).join(',');
      allow('ReadAllowFiles', ['s3:GetObject'], assets.map(objectArn));
    }

    // ---------------------------------------------------------------- environment (contract with crates/floodgate-lambda)
    Object.assign(env, {
      FLOODGATE_STATE_BUCKET: this.stateBucket.bucketName,
      FLOODGATE_STATE_KEY: r.stateKey,
      FLOODGATE_REPORTS_PREFIX: r.reportsPrefix,
      FLOODGATE_IPV4_SET: this.ipSets.nameIds('IPV4'),
      FLOODGATE_IPV6_SET: this.ipSets.nameIds('IPV6'),
      FLOODGATE_SCOPE: r.scope,
      FLOODGATE_DRY_RUN: String(r.dryRun),
      FLOODGATE_METRICS_NAMESPACE: r.metricsNamespace,
      RUST_LOG: r.rustLog,
      ...(webAclArn ? { FLOODGATE_WEB_ACL_ARNS: webAclArn } : {}),
    });
    for (const s of this.ipSets.all) budget.hint(s.attrId, 36);
    budget.hint(this.stateBucket.bucketName, 63);
    if (this.s3Source) budget.hint(this.s3Source.bucket.bucketName, 63);
    if (this.webAcl) budget.hint(this.webAcl.attrArn, 100 + r.namePrefix.length);
    if (notifications.topic) budget.hint(notifications.topic.topicArn, 60 + r.namePrefix.length);

    const configBytes = Buffer.byteLength(r.configToml, 'utf8');
    const inlineFits = budget.size(env) + 'FLOODGATE_CONFIG_TOML'.length + configBytes <= DEFAULTS.lambdaEnvMaxBytes;
    if (configBytes <= DEFAULTS.inlineConfigMaxBytes && inlineFits) {
      env.FLOODGATE_CONFIG_TOML = r.configToml;
    } else {
      const configAsset = new s3assets.Asset(this, 'ConfigAsset', { path: r.configPath });
      budget.hint(configAsset.s3BucketName, 63);
      env.FLOODGATE_CONFIG_S3 = `s3://${configAsset.s3BucketName}/${configAsset.s3ObjectKey}`;
      allow('ReadConfig', ['s3:GetObject'], [objectArn(configAsset)]);
    }
    budget.assertFits(env);
    for (const [k, v] of Object.entries(env)) this.fn.addEnvironment(k, v);
    this.lambdaEnvironment = env;

    // ---------------------------------------------------------------- schedule
    new events.Rule(this, 'Schedule', {
      description: 'floodgate: expire bans and reconcile the IP sets',
      schedule: events.Schedule.expression(r.scheduleExpression),
      targets: [new targets.LambdaFunction(this.fn, {
        retryAttempts: ASYNC_RETRIES.retryAttempts,
        maxEventAge: Duration.seconds(ASYNC_RETRIES.maxEventAgeSeconds),
        deadLetterQueue: this.failureQueue,
      })],
    });

    // ---------------------------------------------------------------- monitoring
    this.monitoring = new FloodgateMonitoring(this, 'Monitoring', {
      fn: this.fn,
      queue: this.s3Source?.queue,
      dlq: this.s3Source?.dlq,
      partialsQueue: this.partials?.queue,
      partialsDlq: this.partials?.dlq,
      failureQueue: this.failureQueue,
      readsStream: realtime !== undefined || cw.stream !== undefined,
      metricsNamespace: r.metricsNamespace,
      queueAgeAlarmSeconds: r.queueAgeAlarmSeconds,
      stateSizeAlarmBytes: r.stateSizeAlarmBytes,
      alarmEmail: r.alarmEmail,
      budget: r.budget,
      namePrefix: r.namePrefix,
    });

    applyNagSuppressions(this, {
      role: this.role,
      stateBucket: this.stateBucket,
      stateScope: r.stateScope,
      reportsPrefix: r.reportsPrefix,
      partialsPrefix: r.partials?.prefix,
      logBucket: this.s3Source?.bucket,
      existingLogBucket: r.s3?.existingBucket,
      logPrefixes: r.s3?.prefixes ?? [],
      failureQueue: this.failureQueue,
    });

    // ---------------------------------------------------------------- outputs
    new CfnOutput(this, 'Scope', { value: r.scope });
    new CfnOutput(this, 'Sources', { value: [...r.sources].join(',') });
    new CfnOutput(this, 'StateBucketName', { value: this.stateBucket.bucketName });
    new CfnOutput(this, 'StateUri', { value: `s3://${this.stateBucket.bucketName}/${r.stateKey}` });
    new CfnOutput(this, 'FunctionName', { value: this.fn.functionName });
    new CfnOutput(this, 'FailureQueueUrl', { value: this.failureQueue.queueUrl, description: 'Failed scheduled runs, streamed batches and Kinesis batches (not redrivable to the log queue)' });
    new CfnOutput(this, 'DryRun', {
      value: String(r.dryRun),
      description: r.dryRun ? 'Dry run: bans are decided and reported, IP sets untouched. Redeploy with -c dryRun=false to enforce.' : 'Enforcing',
    });
  }
}
