// Alarms on the function's own signals (issue 23 item 7): a guardrail trip, held-back bans, refused
// events, failed sinks and the state's size each page someone instead of passing unnoticed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Template } from 'aws-cdk-lib/assertions';
import { DEFAULTS } from '../lib/config';
import { defaultStateSizeAlarmBytes } from '../lib/resolve';
import { byPrefix, makeStack, synth } from './helpers';

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
