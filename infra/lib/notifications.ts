// Ban notifications (the first "sink"): an SNS topic the function publishes to, created here or given.
import { CfnOutput } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { Resolved } from './resolve';

export interface Notifications {
  readonly topic?: sns.Topic;
  readonly topicArn?: string;
  readonly env: Record<string, string>;
}

export function addNotifications(scope: Construct, settings: Resolved['notifications'], namePrefix: string, role: iam.IRole): Notifications {
  if (settings.mode === 'none') return { env: {} };

  let topic: sns.Topic | undefined;
  let topicArn: string;
  if (settings.mode === 'existing') {
    topicArn = settings.topicArn;
  } else {
    topic = new sns.Topic(scope, 'NotificationTopic', {
      topicName: `${namePrefix}-notifications`,
      displayName: 'floodgate ban notifications',
      enforceSSL: true,
    });
    // This policy replaces SNS's default one: apart from the function's role nobody outside the
    // account may publish (principals of this account still need an IAM permission of their own).
    topic.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'FloodgatePublish',
      principals: [new iam.ArnPrincipal(role.roleArn)],
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
    }));
    if (settings.email) topic.addSubscription(new subs.EmailSubscription(settings.email));
    topicArn = topic.topicArn;
  }
  role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'PublishNotifications', actions: ['sns:Publish'], resources: [topicArn] }));
  new CfnOutput(scope, 'NotificationTopicArn', {
    value: topicArn,
    description: 'floodgate publishes ban notifications here (subscribe e-mail, chat or a queue to it)',
  });
  new CfnOutput(scope, 'NotificationDestination', {
    value: settings.mode === 'existing'
      ? 'the existing topic notifyTopicArn: its own subscriptions'
      : settings.email
        ? `e-mail to ${settings.email}${settings.emailFrom === 'alarmEmail' ? ' (alarmEmail)' : ''} (confirm the subscription mail AWS sends)`
        : 'NONE: nothing is subscribed to the notification topic (notifyEmail=none or alarmEmail=none); subscribe someone to NotificationTopicArn',
    description: 'Who receives the ban notifications',
  });
  return { topic, topicArn, env: { FLOODGATE_NOTIFY_TOPIC_ARN: topicArn } };
}
