// Ban notifications over SNS (context notifications / notifyEmail / notifyTopicArn).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Template } from 'aws-cdk-lib/assertions';
import { asList, byPrefix, envOf, floodgateFunction, functionStatements, makeStack, only, synth } from './helpers';

const EXISTING_TOPIC = 'arn:aws:sns:eu-west-1:123456789012:ops-events';
const topicStatements = (t: Template) => (Object.entries(t.findResources('AWS::SNS::TopicPolicy')) as [string, any][])
  .filter(([id]) => id.startsWith('NotificationTopic'))
  .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);

describe('notifications', () => {
  const t = synth();

  it('creates <prefix>-notifications by default and passes it as FLOODGATE_NOTIFY_TOPIC_ARN', () => {
    const [id, topic] = only(t, 'AWS::SNS::Topic', { TopicName: 'Floodgate-notifications' });
    assert.deepEqual(envOf(t).FLOODGATE_NOTIFY_TOPIC_ARN, { Ref: id });
    assert.equal(topic.Properties.TopicName, 'Floodgate-notifications');
    t.hasOutput('NotificationTopicArn', { Value: { Ref: id } });
  });

  it('the topic enforces TLS and, besides the account, only the function role may publish', () => {
    const st = topicStatements(t);
    const tls = st.find((s) => s.Effect === 'Deny');
    assert.deepEqual(tls.Condition, { Bool: { 'aws:SecureTransport': 'false' } });
    const allows = st.filter((s) => s.Effect === 'Allow');
    assert.equal(allows.length, 1);
    assert.deepEqual(allows[0].Principal, { AWS: floodgateFunction(t)[1].Properties.Role });
    assert.equal(allows[0].Action, 'sns:Publish');
    assert.equal(JSON.stringify(st).includes('"Service"'), false, 'no AWS service may publish');
  });

  it('the function may publish to that topic only', () => {
    const st = functionStatements(t).filter((s) => asList(s.Action).some((a: string) => a.startsWith('sns:')));
    assert.equal(st.length, 1);
    assert.deepEqual(st[0].Action, 'sns:Publish');
    assert.deepEqual(st[0].Resource, { Ref: byPrefix(t, 'AWS::SNS::Topic', 'NotificationTopic') });
  });

  it('notifyEmail subscribes to the created topic', () => {
    const x = synth({ notifyEmail: 'sec@example.com' });
    x.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email', Endpoint: 'sec@example.com', TopicArn: { Ref: byPrefix(x, 'AWS::SNS::Topic', 'NotificationTopic') },
    });
  });

  it('notifyTopicArn uses an existing topic: none created, publish on exactly that ARN', () => {
    const x = synth({ notifyTopicArn: EXISTING_TOPIC });
    assert.equal(Object.keys(x.findResources('AWS::SNS::Topic')).some((id) => id.startsWith('NotificationTopic')), false);
    assert.equal(envOf(x).FLOODGATE_NOTIFY_TOPIC_ARN, EXISTING_TOPIC);
    const st = functionStatements(x).find((s) => s.Sid === 'PublishNotifications');
    assert.deepEqual([st.Action, st.Resource], ['sns:Publish', EXISTING_TOPIC]);
  });

  it('notifications=false sets nothing', () => {
    const x = synth({ notifications: false });
    x.resourceCountIs('AWS::SNS::Topic', 1); // the alarm topic
    assert.equal(envOf(x).FLOODGATE_NOTIFY_TOPIC_ARN, undefined);
    assert.equal(functionStatements(x).some((s) => asList(s.Action).includes('sns:Publish')), false);
    assert.deepEqual(Object.keys(x.findOutputs('NotificationTopicArn')), []);
  });

  it('refuses contradictions and FIFO topics', () => {
    assert.throws(() => makeStack({ notifications: false, notifyEmail: 'a@example.com' }), /notifications=false contradicts/);
    assert.throws(() => makeStack({ notifyTopicArn: EXISTING_TOPIC, notifyEmail: 'a@example.com' }), /notifyEmail subscribes to the topic the stack creates/);
    assert.throws(() => makeStack({ notifyTopicArn: `${EXISTING_TOPIC}.fifo` }), /not a standard SNS topic ARN/);
    assert.throws(() => makeStack({ notifyEmail: 'not-an-address' }), /notifyEmail=not-an-address is not an e-mail address/);
  });
});
