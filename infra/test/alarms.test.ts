// Alarms on the function's own signals (issue 23 item 7): a guardrail trip, held-back bans, refused
// events, failed sinks and the state's size each page someone instead of passing unnoticed, and
// that someone exists: synth refuses a stack without alarmEmail unless told `none`.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { DEFAULTS, settingsFromContext } from '../lib/config';
import { defaultStateSizeAlarmBytes } from '../lib/resolve';
import { byPrefix, makeStack, only, synth } from './helpers';

const MIB = 1024 * 1024;

/** The one alarm on a metric name, by its properties. */
function alarmOn(t: Template, metricName: string): any {
  const found = Object.values(t.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: metricName } })) as any[];
  assert.equal(found.length, 1, `one alarm on ${metricName}`);
  return found[0].Properties;
}

describe('alarms on the function\'s EMF signals', () => {
  const t = synth();
  const topic = () => ({ Ref: byPrefix(t, 'AWS::SNS::Topic', 'MonitoringAlarmTopic') });

  for (const metric of ['GuardrailTripped', 'BansHeldBack', 'Refused', 'SinkFailures']) {
    it(`${metric}: any occurrence in 5 minutes (Sum > 0), dimensionless, to the alarm topic on ALARM and OK`, () => {
      const a = alarmOn(t, metric);
      assert.equal(a.Namespace, 'floodgate');
      assert.equal(a.Dimensions, undefined, 'dimensionless EMF metric');
      assert.equal(a.Statistic, 'Sum');
      assert.equal(a.Period, 300);
      assert.equal(a.ComparisonOperator, 'GreaterThanThreshold');
      assert.equal(a.Threshold, 0);
      assert.equal(a.EvaluationPeriods, 1);
      assert.equal(a.TreatMissingData, 'notBreaching');
      assert.deepEqual(a.AlarmActions, [topic()]);
      assert.deepEqual(a.OKActions, [topic()]);
      assert.match(a.AlarmDescription, new RegExp(metric));
    });
  }

  it('StateBytes: Maximum above memorySize MB x 1 MiB / 8 (128 MiB at the default 1024 MB)', () => {
    const a = alarmOn(t, 'StateBytes');
    assert.equal(a.Namespace, 'floodgate');
    assert.equal(a.Dimensions, undefined);
    assert.equal(a.Statistic, 'Maximum');
    assert.equal(a.ComparisonOperator, 'GreaterThanThreshold');
    assert.equal(a.Threshold, 128 * MIB);
    assert.equal(defaultStateSizeAlarmBytes(DEFAULTS.memorySize), 128 * MIB);
    assert.deepEqual(a.AlarmActions, [topic()]);
  });

  it('the StateBytes threshold follows memorySize, and stateSizeAlarmBytes overrides it', () => {
    assert.equal(alarmOn(synth({ memorySize: 3008 }), 'StateBytes').Threshold, 376 * MIB);
    assert.equal(alarmOn(synth({ memorySize: 3008, stateSizeAlarmBytes: 50_000_000 }), 'StateBytes').Threshold, 50_000_000);
    assert.throws(() => makeStack({ stateSizeAlarmBytes: 0 }), /stateSizeAlarmBytes must be an integer in 1\.\./);
    assert.throws(() => makeStack({ stateSizeAlarmBytes: 1.5 }), /stateSizeAlarmBytes must be an integer/);
  });

  it('every EMF alarm follows a custom metrics namespace', () => {
    const x = synth({ metricsNamespace: 'acme/floodgate' });
    for (const m of ['SyncFailures', 'GuardrailTripped', 'BansHeldBack', 'Refused', 'SinkFailures', 'StateBytes']) {
      assert.equal(alarmOn(x, m).Namespace, 'acme/floodgate', m);
    }
  });

  it('every alarm of the stack notifies the alarm topic', () => {
    for (const a of Object.values(t.findResources('AWS::CloudWatch::Alarm')) as any[]) {
      assert.deepEqual(a.Properties.AlarmActions, [topic()], a.Properties.MetricName);
    }
  });
});

describe('someone receives the alarms and the ban notifications', () => {
  const subscriptions = (t: Template) => (Object.values(t.findResources('AWS::SNS::Subscription')) as any[])
    .map((s) => [s.Properties.TopicArn.Ref.replace(/[0-9A-F]{8}$/, ''), s.Properties.Protocol, s.Properties.Endpoint]);
  const from = (ctx: Record<string, unknown>) => settingsFromContext((k) => ctx[k]);

  it('synth fails without alarmEmail, naming both ways out', () => {
    assert.throws(() => makeStack({ alarmEmail: undefined }),
      /alarmEmail is required: .*-c alarmEmail=you@example\.com .*-c alarmEmail=none .*AlarmTopicArn/);
    assert.throws(() => makeStack({ alarmEmail: undefined, notifyEmail: 'sec@example.com' }), /alarmEmail is required/);
  });

  it('alarmEmail subscribes to the alarm topic and, by default, to the ban notification topic', () => {
    const t = synth({ alarmEmail: 'ops@example.com' });
    assert.deepEqual(subscriptions(t).sort(), [
      ['MonitoringAlarmTopic', 'email', 'ops@example.com'],
      ['NotificationTopic', 'email', 'ops@example.com'],
    ]);
    t.hasOutput('AlarmDestination', { Value: Match.stringLikeRegexp('ops@example\\.com') });
    t.hasOutput('NotificationDestination', { Value: Match.stringLikeRegexp('^e-mail to ops@example\\.com \\(alarmEmail\\)') });
  });

  it('notifyEmail sends the notifications elsewhere; notifyEmail=none keeps them off the alarm address', () => {
    assert.deepEqual(subscriptions(synth({ alarmEmail: 'ops@example.com', notifyEmail: 'sec@example.com' })).sort(), [
      ['MonitoringAlarmTopic', 'email', 'ops@example.com'],
      ['NotificationTopic', 'email', 'sec@example.com'],
    ]);
    const off = synth({ alarmEmail: 'ops@example.com', notifyEmail: null });
    assert.deepEqual(subscriptions(off), [['MonitoringAlarmTopic', 'email', 'ops@example.com']]);
    off.hasOutput('NotificationDestination', { Value: Match.stringLikeRegexp('^NONE') });
  });

  it('an existing notification topic keeps its own subscriptions', () => {
    const t = synth({ alarmEmail: 'ops@example.com', notifyTopicArn: 'arn:aws:sns:eu-west-1:123456789012:ops-events' });
    assert.deepEqual(subscriptions(t), [['MonitoringAlarmTopic', 'email', 'ops@example.com']]);
    assert.doesNotThrow(() => makeStack({ notifyTopicArn: 'arn:aws:sns:eu-west-1:123456789012:ops-events', notifyEmail: null }));
  });

  it('alarmEmail=none is the explicit opt-out: no subscription, an info (not a warning), outputs that say NONE', () => {
    const stack = makeStack({ alarmEmail: null });
    const t = Template.fromStack(stack);
    assert.deepEqual(subscriptions(t), []);
    t.hasOutput('AlarmDestination', { Value: Match.stringLikeRegexp('^NONE \\(alarmEmail=none\\)') });
    t.hasOutput('NotificationDestination', { Value: Match.stringLikeRegexp('^NONE') });
    const notes = Annotations.fromStack(stack);
    notes.hasInfo('/Floodgate/Monitoring', Match.stringLikeRegexp('alarmEmail=none, so the stack subscribes nobody'));
    assert.deepEqual(notes.findWarning('*', Match.stringLikeRegexp('alarmEmail')), []);
  });

  it('context: none (any case) is the opt-out for alarmEmail and notifyEmail, an address stays an address', () => {
    assert.equal(from({ alarmEmail: 'none' }).alarmEmail, null);
    assert.equal(from({ alarmEmail: 'NONE', notifyEmail: 'None' }).notifyEmail, null);
    assert.equal(from({ alarmEmail: 'ops@example.com' }).alarmEmail, 'ops@example.com');
    assert.equal(from({}).alarmEmail, undefined);
    assert.throws(() => makeStack({ alarmEmail: 'nobody' }), /alarmEmail=nobody is not an e-mail address/);
  });

  it('the budget e-mails the alarm address, and only the topic with alarmEmail=none', () => {
    const [, b] = only(synth({ alarmEmail: 'ops@example.com' }), 'AWS::Budgets::Budget');
    for (const n of b.Properties.NotificationsWithSubscribers) {
      assert.deepEqual(n.Subscribers.map((s: any) => s.SubscriptionType), ['SNS', 'EMAIL']);
    }
    const [, none] = only(synth({ alarmEmail: null }), 'AWS::Budgets::Budget');
    for (const n of none.Properties.NotificationsWithSubscribers) assert.deepEqual(n.Subscribers.map((s: any) => s.SubscriptionType), ['SNS']);
  });
});
