// Who can write the logs floodgate trusts (issue 23 item 9, docs/deploy.md): where the stack owns
// the place logs land, a resource policy Deny keeps every principal of the account out but the
// service that delivers the logs (and the break-glass role), whatever their IAM policies allow.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { Template } from 'aws-cdk-lib/assertions';
import { FloodgateStackProps } from '../lib/floodgate-stack';
import { byPrefix, floodgateFunction, policyDenies, symbolicArn, synth } from './helpers';

const BREAK_GLASS = 'arn:aws:iam::123456789012:role/floodgate-break-glass';
/** A role with s3:* / kinesis:* / logs:* on "*": an administrator, or a Lambda with a broad policy. */
const SOME_ROLE = 'arn:aws:iam::123456789012:role/any-lambda-with-a-broad-policy';

const logBucketStatements = (t: Template) => (Object.entries(t.findResources('AWS::S3::BucketPolicy')) as [string, any][])
  .filter(([id]) => id.startsWith('LogBucket')).flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
const streamStatements = (t: Template, streamPrefix: string) => {
  const streamId = byPrefix(t, 'AWS::Kinesis::Stream', streamPrefix);
  return (Object.values(t.findResources('AWS::Kinesis::ResourcePolicy')) as any[])
    .filter((p) => p.Properties.ResourceArn['Fn::GetAtt']?.[0] === streamId)
    .flatMap((p) => p.Properties.ResourcePolicy.Statement);
};

describe('the new log bucket: only log delivery writes', () => {
  for (const [name, props] of [['without a break-glass role', {}], ['with a break-glass role', { breakGlassRoleArn: BREAK_GLASS }]] as const) {
    it(`${name}: any role of the account is denied PutObject/ReplicateObject anywhere in it, log delivery is not`, () => {
      const t = synth(props);
      const st = logBucketStatements(t);
      const bucket = `arn:aws:${byPrefix(t, 'AWS::S3::Bucket', 'LogBucket')}`;
      const waf = `${bucket}/AWSLogs/123456789012/WAFLogs/eu-west-1/Floodgate-acl/2026/12/06/10/00/x.log.gz`;
      for (const action of ['s3:PutObject', 's3:ReplicateObject']) {
        assert.equal(policyDenies(st, { principalArn: SOME_ROLE, action, resource: waf })?.Sid, 'LogWritesOnlyByLogDelivery', action);
        assert.ok(policyDenies(st, { principalArn: SOME_ROLE, action, resource: `${bucket}/elsewhere/x` }), `${action} outside AWSLogs/`);
      }
      // The function's own role reads logs, it never writes them.
      assert.ok(policyDenies(st, { principalArn: symbolicArn(floodgateFunction(t)[1].Properties.Role), action: 's3:PutObject', resource: waf }));
      // WAF writes through the log delivery service principal, which the Allow names and the Deny spares.
      assert.equal(policyDenies(st, { principalIsAWSService: true, action: 's3:PutObject', resource: waf }), undefined);
      const allow = st.find((s: any) => s.Sid === 'AWSLogDeliveryWrite');
      assert.deepEqual([allow.Effect, allow.Principal], ['Allow', { Service: 'delivery.logs.amazonaws.com' }]);
      // The break-glass role (copying objects onto themselves, operations.md) gets through only when configured.
      const bg = policyDenies(st, { principalArn: BREAK_GLASS, action: 's3:PutObject', resource: waf });
      if ('breakGlassRoleArn' in props) assert.equal(bg, undefined);
      else assert.ok(bg);
    });
  }

  it('reading stays possible (the deny names writes only)', () => {
    const t = synth();
    const bucket = `arn:aws:${byPrefix(t, 'AWS::S3::Bucket', 'LogBucket')}`;
    assert.equal(policyDenies(logBucketStatements(t), { principalArn: SOME_ROLE, action: 's3:GetObject', resource: `${bucket}/AWSLogs/x` }), undefined);
  });

  it('an existing log bucket is not touched (docs/deploy.md shows the statement to add)', () => {
    const t = synth({ logBucketName: 'my-alb-logs', logPrefixes: ['alb/'] });
    assert.deepEqual(logBucketStatements(t), []);
  });
});

describe('the Kinesis streams: only the role the log service assumes puts records', () => {
  const cases: [string, FloodgateStackProps, string, string][] = [
    ['cloudfront-realtime', { sources: ['cloudfront-realtime'] }, 'RealtimeStream', 'RealtimeLogRole'],
    ['logsDelivery=kinesis', { sources: ['waf-cloudwatch'], logsDelivery: 'kinesis' }, 'LogsStream', 'LogsSubscriptionRole'],
  ];
  for (const [name, props, streamPrefix, writerPrefix] of cases) {
    it(`${name}: PutRecord(s) denied to every principal but ${writerPrefix} and the break-glass role`, () => {
      for (const breakGlass of [undefined, BREAK_GLASS]) {
        const t = synth({ ...props, breakGlassRoleArn: breakGlass });
        const st = streamStatements(t, streamPrefix);
        const stream = `arn:aws:${byPrefix(t, 'AWS::Kinesis::Stream', streamPrefix)}`;
        const writer = `arn:aws:${byPrefix(t, 'AWS::IAM::Role', writerPrefix)}`;
        for (const action of ['kinesis:PutRecord', 'kinesis:PutRecords']) {
          assert.equal(policyDenies(st, { principalArn: SOME_ROLE, action, resource: stream })?.Sid, 'RecordsOnlyFromLogDelivery');
          assert.ok(policyDenies(st, { principalArn: symbolicArn(floodgateFunction(t)[1].Properties.Role), action, resource: stream }));
          assert.equal(policyDenies(st, { principalArn: writer, action, resource: stream }), undefined, `${writerPrefix} denied`);
          const bg = policyDenies(st, { principalArn: BREAK_GLASS, action, resource: stream });
          assert.equal(bg === undefined, breakGlass !== undefined, 'the break-glass role passes only when configured');
        }
        // The function still reads: the policy denies writes only.
        assert.equal(policyDenies(st, { principalArn: SOME_ROLE, action: 'kinesis:GetRecords', resource: stream }), undefined);
        assert.equal(st.filter((s: any) => s.Effect === 'Allow').length, 0, 'the policy grants nothing');
      }
    });
  }
});

describe('docs/deploy.md "Who can write the logs floodgate trusts"', () => {
  const doc = fs.readFileSync(path.resolve(__dirname, '..', '..', 'docs', 'deploy.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Who can write the logs floodgate trusts'));
  const text = section.slice(0, section.indexOf('\n## ', 3));

  it('exists and names each path, the statements the stack adds and the narrowing AWS offers elsewhere', () => {
    assert.ok(doc.includes('## Who can write the logs floodgate trusts'));
    for (const s of ['LogWritesOnlyByLogDelivery', 'RecordsOnlyFromLogDelivery', 'aws-waf-logs-', 'logs:PutLogEvents',
      'kinesis:PutRecord', 's3:PutObject', 'lambda:InvokeFunction', 'aws:PrincipalIsAWSService', 'delivery.logs.amazonaws.com',
      'service control polic', 'permissions boundar']) {
      assert.ok(text.includes(s), `the section does not mention ${s}`);
    }
  });
});
