// Streaming sources through CloudWatch Logs: `waf-cloudwatch` (the web ACL logs to an
// `aws-waf-logs-` log group) and `cloudfront-cloudwatch` (CloudFront standard logging v2 to a log
// group). Each group has a subscription filter (all events) to the function; the function accepts
// subscription events of exactly these groups (FLOODGATE_LOG_GROUPS).
//
// With `logsDelivery=kinesis` the filters deliver into a Kinesis stream instead, which the function
// reads in batches of many deliveries: one state commit per batch rather than per delivery, the way
// to keep up with an attack's log volume (docs/performance.md, "The streaming path").
import { ArnFormat, Aws, CfnOutput, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { KinesisDestination, LambdaDestination } from 'aws-cdk-lib/aws-logs-destinations';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, IDependable } from 'constructs';
import { addWafLogging } from '../ipsets';
import { LogsDeliverySettings } from '../resolve';
import { logStream, onlyWriterOf, readStream } from './kinesis';

export interface CloudWatchSourcesProps {
  readonly fn: lambda.Function;
  readonly namePrefix: string;
  readonly retention: logs.RetentionDays;
  /** waf-cloudwatch: the web ACL to log (created or `webAclArn`). */
  readonly wafWebAclArn?: string;
  /** cloudfront-cloudwatch: the distribution whose standard logs to deliver. */
  readonly distributionId?: string;
  /** How the subscriptions deliver. Default: an invocation per delivery. */
  readonly delivery?: LogsDeliverySettings;
  /** Where Kinesis batches that still fail after the retries are described. */
  readonly failureQueue: sqs.IQueue;
  /** May still put records into the subscriptions' stream (repairs by hand). */
  readonly breakGlassRoleArn?: string;
}

export interface CloudWatchSources {
  readonly logGroups: logs.LogGroup[];
  /** The stream the subscriptions deliver into (`logsDelivery=kinesis`). */
  readonly stream?: kinesis.Stream;
  readonly env: Record<string, string>;
}

/** The log group's own ARN (`…:log-group:NAME`), which WAF and log deliveries want; CloudFormation's `Arn` ends in `:*`. */
function groupArn(scope: Construct, name: string): string {
  return Stack.of(scope).formatArn({ service: 'logs', resource: 'log-group', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
}

export function addCloudWatchSources(scope: Construct, props: CloudWatchSourcesProps): CloudWatchSources {
  const groups: { id: string; name: string; group: logs.LogGroup; arn: string; attach: (after: IDependable) => void }[] = [];

  if (props.wafWebAclArn !== undefined) {
    // WAF accepts only log groups named aws-waf-logs-*.
    const name = `aws-waf-logs-${props.namePrefix}`;
    const group = new logs.LogGroup(scope, 'WafLogGroup', { logGroupName: name, retention: props.retention, removalPolicy: RemovalPolicy.DESTROY });
    const arn = groupArn(scope, name);
    groups.push({
      id: 'Waf', name, group, arn,
      attach: (after) => {
        const logging = addWafLogging(scope, props.wafWebAclArn!, arn);
        logging.node.addDependency(group, after);
      },
    });
  }

  if (props.distributionId !== undefined) {
    // /aws/vendedlogs/ groups share one resource-policy allowance (AWS's advice for vended logs).
    const name = `/aws/vendedlogs/floodgate/${props.namePrefix}-cloudfront`;
    const group = new logs.LogGroup(scope, 'CloudFrontLogGroup', { logGroupName: name, retention: props.retention, removalPolicy: RemovalPolicy.DESTROY });
    const arn = groupArn(scope, name);
    groups.push({
      id: 'CloudFront', name, group, arn,
      attach: (after) => {
        const source = new logs.CfnDeliverySource(scope, 'CloudFrontDeliverySource', {
          name: `${props.namePrefix}-cloudfront`,
          logType: 'ACCESS_LOGS',
          resourceArn: `arn:${Aws.PARTITION}:cloudfront::${Aws.ACCOUNT_ID}:distribution/${props.distributionId}`,
        });
        const destination = new logs.CfnDeliveryDestination(scope, 'CloudFrontDeliveryDestination', {
          name: `${props.namePrefix}-cloudfront-logs`,
          destinationResourceArn: arn,
          // One JSON object per request, field names as in the standard log (c-ip, cs-uri-stem, …).
          outputFormat: 'json',
        });
        destination.node.addDependency(group);
        const delivery = new logs.CfnDelivery(scope, 'CloudFrontDelivery', {
          deliverySourceName: source.name,
          deliveryDestinationArn: destination.attrArn,
        });
        delivery.node.addDependency(source, destination, after);
      },
    });
  }

  if (groups.length === 0) return { logGroups: [], env: {} };

  // The log delivery service writes into the groups. Stated here instead of letting WAF / the
  // delivery API add a policy of its own at deploy time (outside CloudFormation; an account holds at
  // most 10 CloudWatch Logs resource policies per Region).
  const policy = new logs.ResourcePolicy(scope, 'StreamLogDeliveryPolicy', {
    resourcePolicyName: `${props.namePrefix}-log-delivery`,
    policyStatements: [new iam.PolicyStatement({
      sid: 'AWSLogDeliveryWrite',
      principals: [new iam.ServicePrincipal('delivery.logs.amazonaws.com')],
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: groups.map((g) => `${g.arn}:log-stream:*`),
      conditions: {
        StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
        ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:*` },
      },
    })],
  });

  let stream: kinesis.Stream | undefined;
  let destination: logs.ILogSubscriptionDestination = new LambdaDestination(props.fn);
  if (props.delivery?.kind === 'kinesis') {
    stream = logStream(scope, 'LogsStream', props.delivery.shards);
    // The role CloudWatch Logs assumes to put the subscriptions' records: these groups only, this stream only.
    const role = new iam.Role(scope, 'LogsSubscriptionRole', {
      assumedBy: new iam.ServicePrincipal('logs.amazonaws.com', {
        conditions: { StringLike: { 'aws:SourceArn': groups.map((g) => `${g.arn}:*`) } },
      }),
      description: 'CloudWatch Logs subscription filters: put records into the floodgate logs stream',
    });
    destination = new KinesisDestination(stream, { role });
    onlyWriterOf(stream, role, props.breakGlassRoleArn);
    readStream(props.fn, stream, props.failureQueue);
    new CfnOutput(scope, 'LogsStreamArn', { value: stream.streamArn, description: 'Kinesis stream the log groups\' subscription filters deliver into' });
  }
  for (const g of groups) {
    g.attach(policy);
    // LambdaDestination adds the lambda:InvokeFunction permission for logs.amazonaws.com with this group as SourceArn;
    // KinesisDestination grants the role above write access to the stream.
    new logs.SubscriptionFilter(scope, `${g.id}LogSubscription`, {
      logGroup: g.group,
      destination,
      filterPattern: logs.FilterPattern.allEvents(),
      filterName: 'floodgate',
    });
  }
  new CfnOutput(scope, 'LogGroups', {
    value: groups.map((g) => g.name).join(','),
    description: 'CloudWatch log groups streamed to floodgate (subscription filter "floodgate")',
  });
  return {
    logGroups: groups.map((g) => g.group),
    stream,
    env: {
      FLOODGATE_LOG_GROUPS: groups.map((g) => g.name).join(','),
      ...(stream ? { FLOODGATE_STREAM_ARNS: stream.streamArn } : {}),
    },
  };
}
