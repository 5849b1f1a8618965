// Alarms, the alarm topic and the monthly cost budget of the floodgate stack.
import { Annotations, Aws, CfnOutput, Duration, Fn } from 'aws-cdk-lib';
import * as budgets from 'aws-cdk-lib/aws-budgets';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface MonitoringProps {
  readonly fn: lambda.IFunction;
  /** The S3 source's queue and its DLQ (absent without the s3 source). */
  readonly queue?: sqs.IQueue;
  readonly dlq?: sqs.IQueue;
  /** `partials=true`: the reducer's queue (the state bucket's notifications of the partials) and its DLQ. */
  readonly partialsQueue?: sqs.IQueue;
  readonly partialsDlq?: sqs.IQueue;
  /** Failed schedule runs, failed async invocations and failed Kinesis batches. */
  readonly failureQueue: sqs.IQueue;
  /** The function reads a Kinesis stream (alarm on its iterator age). */
  readonly readsStream: boolean;
  /** Namespace of the function's EMF metrics. */
  readonly metricsNamespace: string;
  readonly queueAgeAlarmSeconds: number;
  /** Alarm when an invocation's encoded state (EMF `StateBytes`, Maximum) exceeds this many bytes. */
  readonly stateSizeAlarmBytes: number;
  /** Undefined: the explicit opt-out (`alarmEmail=none`); synth refuses a missing alarmEmail before this. */
  readonly alarmEmail?: string;
  /** Monthly cost budget; undefined = none. */
  readonly budget?: { readonly email?: string; readonly amount: number };
  readonly namePrefix: string;
}

/**
 * Every alarm publishes to one SNS topic (ALARM and OK transitions).
 *
 * The EMF alarms use *dimensionless* metrics in the metrics namespace (`SyncFailures`,
 * `GuardrailTripped`, `BansHeldBack`, `Refused`, `SinkFailures`, `StateBytes`): the Lambda must
 * emit them with an empty dimension set (`"Dimensions": [[]]`), which keeps the alarms
 * independent of the function name. One deployment per account/region/namespace is assumed.
 */
export class FloodgateMonitoring extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly budget?: budgets.CfnBudget;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);

    this.topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'floodgate alarms',
      enforceSSL: true,
    });
    // The topic policy CDK writes (TLS only) REPLACES SNS's default policy, and with it the
    // permission CloudWatch and Budgets would otherwise have had: grant both, confined to this
    // account's alarms and budgets (confused-deputy conditions as AWS documents them).
    this.topic.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CloudWatchAlarmsPublish',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['sns:Publish'],
      resources: [this.topic.topicArn],
      conditions: {
        StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
        ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*` },
      },
    }));
    this.topic.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'BudgetsPublish',
      principals: [new iam.ServicePrincipal('budgets.amazonaws.com')],
      actions: ['sns:Publish'],
      resources: [this.topic.topicArn],
      conditions: {
        StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
        ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:budgets::${Aws.ACCOUNT_ID}:*` },
      },
    }));
    if (props.alarmEmail) {
      this.topic.addSubscription(new subs.EmailSubscription(props.alarmEmail));
    } else {
      Annotations.of(this).addInfo(
        'floodgate: alarmEmail=none, so the stack subscribes nobody to the alarm topic: alarms and the budget notify ' +
        'whoever you subscribe to AlarmTopicArn (`aws sns subscribe --topic-arn <AlarmTopicArn> --protocol email ' +
        '--notification-endpoint you@example.com`, or chat, a pager, a queue).');
    }
    const action = new cwActions.SnsAction(this.topic);
    const five = Duration.minutes(5);

    const add = (id: string, metric: cloudwatch.IMetric, opts: {
      threshold: number;
      description: string;
      evaluationPeriods?: number;
      comparison?: cloudwatch.ComparisonOperator;
    }) => {
      const alarm = new cloudwatch.Alarm(this, id, {
        metric,
        threshold: opts.threshold,
        evaluationPeriods: opts.evaluationPeriods ?? 1,
        comparisonOperator: opts.comparison ?? cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: opts.description,
      });
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      this.alarms.push(alarm);
      return alarm;
    };

    add('FunctionErrors', props.fn.metricErrors({ period: five, statistic: 'Sum' }), {
      threshold: 1,
      description: 'floodgate Lambda returned errors (see its log group).',
    });
    // Some throttling is normal with a small reserved concurrency; only a sustained rate is worth a page.
    add('FunctionThrottles', props.fn.metricThrottles({ period: five, statistic: 'Sum' }), {
      threshold: 10,
      evaluationPeriods: 3,
      description: 'floodgate Lambda throttled for 15 minutes: raise reservedConcurrency (or leave it unreserved) or batchSize.',
    });
    if (props.queue && props.dlq) {
      add('DlqNotEmpty', props.dlq.metricApproximateNumberOfMessagesVisible({ period: five, statistic: 'Maximum' }), {
        threshold: 0,
        comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        description: 'Log notifications failed maxReceiveCount times and are in the DLQ; those log objects were not counted.',
      });
      add('QueueBacklog', props.queue.metricApproximateAgeOfOldestMessage({ period: five, statistic: 'Maximum' }), {
        threshold: props.queueAgeAlarmSeconds,
        description: `Oldest log notification waits over ${props.queueAgeAlarmSeconds}s: floodgate is falling behind.`,
      });
    }
    if (props.partialsQueue && props.partialsDlq) {
      add('PartialsDlqNotEmpty', props.partialsDlq.metricApproximateNumberOfMessagesVisible({ period: five, statistic: 'Maximum' }), {
        threshold: 0,
        comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        description: 'Reducer notifications failed maxReceiveCount times (partials DLQ): the reducer cannot commit. Their partials ' +
          'stay under the prefix and the schedule retries them; read the function\'s log for why.',
      });
      add('PartialsQueueBacklog', props.partialsQueue.metricApproximateAgeOfOldestMessage({ period: five, statistic: 'Maximum' }), {
        threshold: props.queueAgeAlarmSeconds,
        description: `Oldest partial notification waits over ${props.queueAgeAlarmSeconds}s: the reducer is falling behind the reading invocations.`,
      });
    }
    add('FailureQueueNotEmpty', props.failureQueue.metricApproximateNumberOfMessagesVisible({ period: five, statistic: 'Maximum' }), {
      threshold: 0,
      comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      description: 'A scheduled run, a streamed log batch or a Kinesis batch failed after its retries (failure queue).',
    });
    if (props.readsStream) {
      add('StreamBacklog', props.fn.metric('IteratorAge', { period: five, statistic: 'Maximum' }), {
        threshold: props.queueAgeAlarmSeconds * 1000,
        description: `The streamed log records floodgate reads (Kinesis) are over ${props.queueAgeAlarmSeconds}s old: it is falling behind the stream.`,
      });
    }
    // The function's own signals (EMF, dimensionless). Each one means floodgate did not do all it
    // should have: an alarm, not a dashboard line, because the attack may be what caused it.
    const emf = (metricName: string, statistic: 'Sum' | 'Maximum') =>
      new cloudwatch.Metric({ namespace: props.metricsNamespace, metricName, period: five, statistic });
    add('SyncFailures', emf('SyncFailures', 'Sum'), {
      threshold: 1,
      description: 'floodgate could not write the WAF IP sets (EMF metric SyncFailures, dimensionless).',
    });
    const anyOf = (id: string, description: string) => add(id, emf(id, 'Sum'), {
      threshold: 0,
      comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      description,
    });
    anyOf('GuardrailTripped', 'A rule tripped the guardrail: its new bans were held back (report dropped[] reason guardrail; ' +
      'EMF metric GuardrailTripped). A broken rule, or an attack shaped to look like one.');
    anyOf('BansHeldBack', 'Active bans were left out of the blocklist (report dropped[]: guardrail, max_new_per_run, max_entries; ' +
      'allowlisted ones are not counted; EMF metric BansHeldBack).');
    anyOf('Refused', 'floodgate refused events naming a bucket, prefix, log group or stream it does not read (EMF metric Refused): ' +
      'a misconfigured source, or someone invoking the function with logs it must not trust.');
    anyOf('SinkFailures', 'Reports or ban notifications could not be delivered (EMF metric SinkFailures); they are retried with the next run.');
    add('StateSize', emf('StateBytes', 'Maximum'), {
      threshold: props.stateSizeAlarmBytes,
      comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      description: `The encoded state exceeded ${props.stateSizeAlarmBytes} bytes (EMF metric StateBytes, Maximum): ` +
        'the function holds a decoded copy and encodings of it, so it is approaching its memory. Raise memorySize or find what grew it.',
    });

    if (props.budget) {
      const subscribers: budgets.CfnBudget.SubscriberProperty[] = [{ subscriptionType: 'SNS', address: this.topic.topicArn }];
      if (props.budget.email) subscribers.push({ subscriptionType: 'EMAIL', address: props.budget.email });
      const notify = (notificationType: 'ACTUAL' | 'FORECASTED', threshold: number) => ({
        notification: { notificationType, comparisonOperator: 'GREATER_THAN', threshold, thresholdType: 'PERCENTAGE' },
        subscribers,
      });
      this.budget = new budgets.CfnBudget(this, 'MonthlyBudget', {
        budget: {
          // Budgets are global per account: the region keeps two stacks of one prefix apart.
          budgetName: Fn.join('-', [props.namePrefix, Aws.REGION, 'monthly']),
          budgetType: 'COST',
          timeUnit: 'MONTHLY',
          budgetLimit: { amount: props.budget.amount, unit: 'USD' },
        },
        notificationsWithSubscribers: [notify('ACTUAL', 80), notify('FORECASTED', 100)],
      });
      // Budgets checks that it may publish when the budget is created.
      const policy = this.topic.node.tryFindChild('Policy');
      if (policy) this.budget.node.addDependency(policy);
    }
    const who = props.budget?.email ? `the alarm topic and ${props.budget.email}` : 'the alarm topic';
    new CfnOutput(scope, 'Budget', {
      value: props.budget
        ? `monthly ${props.budget.amount} USD account cost budget: ${who} notified at 80% actual and 100% forecasted`
        : 'skipped: budget=false',
      description: 'AWS Budgets monthly cost budget (whole account)',
    });
    new CfnOutput(scope, 'AlarmTopicArn', { value: this.topic.topicArn });
    new CfnOutput(scope, 'AlarmDestination', {
      value: props.alarmEmail
        ? `e-mail to ${props.alarmEmail} (confirm the subscription mail AWS sends)`
        : 'NONE (alarmEmail=none): the stack subscribes nothing to the alarm topic, so alarms and budget notifications go nowhere until you subscribe someone',
      description: 'Who receives the alarms',
    });
  }
}
