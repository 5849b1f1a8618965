// Streaming sources through CloudWatch Logs: `waf-cloudwatch` (the web ACL logs to an
// `aws-waf-logs-` log group) and `cloudfront-cloudwatch` (CloudFront standard logging v2 to a log
// group). Each group has a subscription filter (all events) to the function; the function accepts
// subscription events of exactly these groups (FLOODGATE_LOG_GROUPS).
import { ArnFormat, Aws, CfnOutput, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { LambdaDestination } from 'aws-cdk-lib/aws-logs-destinations';
import { Construct, IDependable } from 'constructs';
import { addWafLogging } from '../ipsets';

export interface CloudWatchSourcesProps {
  readonly fn: lambda.Function;
  readonly namePrefix: string;
  readonly retention: logs.RetentionDays;
  /** waf-cloudwatch: the web ACL to log (created or `webAclArn`). */
  readonly wafWebAclArn?: string;
  /** cloudfront-cloudwatch: the distribution whose standard logs to deliver. */
  readonly distributionId?: string;
}

export interface CloudWatchSources {
  readonly logGroups: logs.LogGroup[];
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

  for (const g of groups) {
    g.attach(policy);
    // LambdaDestination adds the lambda:InvokeFunction permission for logs.amazonaws.com with this group as SourceArn.
    new logs.SubscriptionFilter(scope, `${g.id}LogSubscription`, {
      logGroup: g.group,
      destination: new LambdaDestination(props.fn),
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
    env: { FLOODGATE_LOG_GROUPS: groups.map((g) => g.name).join(',') },
  };
}
