// Alarms, the alarm topic and the optional monthly cost budget of the floodgate stack.
import { CfnOutput, Duration } from 'aws-cdk-lib';
import * as budgets from 'aws-cdk-lib/aws-budgets';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface MonitoringProps {
  readonly fn: lambda.IFunction;
  readonly queue: sqs.IQueue;
  readonly dlq: sqs.IQueue;
  /** Namespace of the function's EMF metrics. */
  readonly metricsNamespace: string;
  readonly queueAgeAlarmSeconds: number;
  readonly alarmEmail?: string;
  readonly budgetEmail?: string;
  readonly budgetAmount: number;
  readonly namePrefix: string;
}

/**
 * Every alarm publishes to one SNS topic (ALARM and OK transitions).
 *
 * The EMF alarm uses the *dimensionless* metric `SyncFailures` in the metrics namespace: the
 * Lambda must emit it with an empty dimension set (`"Dimensions": [[]]`), which keeps the alarm
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
    if (props.alarmEmail) {
      this.topic.addSubscription(new subs.EmailSubscription(props.alarmEmail));
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
    // With reserved concurrency 1 the SQS pollers and the schedule are throttled now and then;
    // only a sustained rate is worth a page.
    add('FunctionThrottles', props.fn.metricThrottles({ period: five, statistic: 'Sum' }), {
      threshold: 10,
      evaluationPeriods: 3,
      description: 'floodgate Lambda throttled for 15 minutes: raise reservedConcurrency or batchSize.',
    });
    add('DlqNotEmpty', props.dlq.metricApproximateNumberOfMessagesVisible({ period: five, statistic: 'Maximum' }), {
      threshold: 0,
      comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      description: 'Log notifications failed maxReceiveCount times and are in the DLQ; those log objects were not counted.',
    });
    add('QueueBacklog', props.queue.metricApproximateAgeOfOldestMessage({ period: five, statistic: 'Maximum' }), {
      threshold: props.queueAgeAlarmSeconds,
      description: `Oldest log notification waits over ${props.queueAgeAlarmSeconds}s: floodgate is falling behind.`,
    });
    add('SyncFailures', new cloudwatch.Metric({
      namespace: props.metricsNamespace,
      metricName: 'SyncFailures',
      period: five,
      statistic: 'Sum',
    }), {
      threshold: 1,
      description: 'floodgate could not write the WAF IP sets (EMF metric SyncFailures, dimensionless).',
    });

    const budgetEmail = props.budgetEmail ?? props.alarmEmail;
    if (budgetEmail) {
      this.budget = new budgets.CfnBudget(this, 'MonthlyBudget', {
        budget: {
          budgetName: `${props.namePrefix}-monthly`,
          budgetType: 'COST',
          timeUnit: 'MONTHLY',
          budgetLimit: { amount: props.budgetAmount, unit: 'USD' },
        },
        notificationsWithSubscribers: [{
          notification: {
            notificationType: 'ACTUAL',
            comparisonOperator: 'GREATER_THAN',
            threshold: 80,
            thresholdType: 'PERCENTAGE',
          },
          subscribers: [{ subscriptionType: 'EMAIL', address: budgetEmail }],
        }],
      });
    }
    new CfnOutput(scope, 'Budget', {
      value: budgetEmail
        ? `monthly ${props.budgetAmount} USD account cost budget, ${budgetEmail} notified at 80% actual`
        : 'skipped: no budgetEmail or alarmEmail given',
      description: 'AWS Budgets monthly cost budget',
    });
    new CfnOutput(scope, 'AlarmTopicArn', { value: this.topic.topicArn });
  }
}
