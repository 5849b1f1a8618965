// The app as `cdk` runs it: in-process from context, and through the real CLI (offline).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../lib/app';
import { ACCOUNT, DUMMY_ZIP, TMP } from './helpers';

const INFRA = path.resolve(__dirname, '..');

describe('app', () => {
  it('synthesizes in-process from context with the committed config', () => {
    const app = new App({
      outdir: path.join(TMP, 'app.out'),
      context: { lambdaZip: DUMMY_ZIP, account: ACCOUNT, region: 'eu-west-1', alarmEmail: 'ops@example.com', dryRun: 'false' },
    });
    const stack = buildApp(app);
    const assembly = app.synth();
    const artifact = assembly.getStackByName('Floodgate');
    assert.equal(artifact.environment.region, 'eu-west-1');
    assert.ok(fs.existsSync(path.join(assembly.directory, artifact.templateFile)));
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::Budgets::Budget', 1);
    t.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ FLOODGATE_DRY_RUN: 'false' }) } });
    assert.deepEqual(Annotations.fromStack(stack).findError('*', Match.anyValue()), []);
  });

  it('honours stackName and namePrefix', () => {
    const app = new App({ outdir: path.join(TMP, 'app2.out'), context: { lambdaZip: DUMMY_ZIP, stackName: 'FloodgateProd', namePrefix: 'prod', alarmEmail: 'none' } });
    const t = Template.fromStack(buildApp(app));
    t.hasResourceProperties('AWS::WAFv2::IPSet', { Name: 'prod-ipv4' });
    t.hasResourceProperties('AWS::WAFv2::WebACL', { Name: 'prod-acl' });
  });

  it('CLOUDFRONT from context outside us-east-1 throws before synth', () => {
    const app = new App({ outdir: path.join(TMP, 'app3.out'), context: { lambdaZip: DUMMY_ZIP, scope: 'CLOUDFRONT', region: 'ap-southeast-2' } });
    assert.throws(() => buildApp(app), /requires the stack region to be us-east-1/);
  });

  it('without alarmEmail from context, buildApp refuses before synth', () => {
    const app = new App({ outdir: path.join(TMP, 'app4.out'), context: { lambdaZip: DUMMY_ZIP, region: 'eu-west-1' } });
    assert.throws(() => buildApp(app), /alarmEmail is required/);
  });

  const runCdkSynth = (name: string, context: string[]) => spawnSync(path.join(INFRA, 'node_modules', '.bin', 'cdk'), [
    'synth', '--no-notices', '--no-version-reporting', '--quiet', '-o', path.join(TMP, name),
    '-c', `lambdaZip=${DUMMY_ZIP}`, '-c', `account=${ACCOUNT}`,
    ...context.flatMap((c) => ['-c', c]),
  ], {
    cwd: INFRA,
    encoding: 'utf8',
    timeout: 180_000,
    env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', CDK_DEFAULT_ACCOUNT: '', CDK_DEFAULT_REGION: '' },
  });

  const cdkSynth = (name: string, context: string[]) => {
    const out = path.join(TMP, name);
    const r = runCdkSynth(name, ['alarmEmail=ops@example.com', ...context]);
    assert.equal(r.status, 0, `cdk synth failed:\n${r.stdout}\n${r.stderr}`);
    // No warning at all: neither ours (e.g. no alarmEmail) nor CDK deprecations.
    assert.doesNotMatch(r.stderr, /WARNING|Error/, r.stderr);
    const template = JSON.parse(fs.readFileSync(path.join(out, 'Floodgate.template.json'), 'utf8'));
    return Object.values(template.Resources).map((x: any) => x.Type);
  };

  it('`cdk synth` succeeds offline with the committed cdk.json and config', () => {
    const types = cdkSynth('cli.out', ['region=eu-west-1']);
    for (const type of ['AWS::WAFv2::IPSet', 'AWS::SQS::Queue', 'AWS::Lambda::Function', 'AWS::Events::Rule', 'AWS::Budgets::Budget']) {
      assert.ok(types.includes(type), `${type} missing`);
    }
  });

  it('`cdk synth` without alarmEmail fails with the reason and both ways out', () => {
    const r = runCdkSynth('cli-noemail.out', ['region=eu-west-1']);
    assert.notEqual(r.status, 0, 'synth must fail without alarmEmail');
    assert.match(r.stderr, /alarmEmail is required: .*-c alarmEmail=you@example\.com.*-c alarmEmail=none/s);
  });

  it('`cdk synth` with alarmEmail=none succeeds', () => {
    const r = runCdkSynth('cli-none.out', ['region=eu-west-1', 'alarmEmail=none']);
    assert.equal(r.status, 0, `cdk synth failed:\n${r.stdout}\n${r.stderr}`);
    assert.doesNotMatch(r.stderr, /WARNING|Error/, r.stderr);
  });

  it('`cdk synth` with every streaming source from -c strings, without warnings', () => {
    const types = cdkSynth('cli-stream.out', [
      'region=us-east-1', 'scope=CLOUDFRONT', 'sources=waf-cloudwatch,cloudfront-cloudwatch,cloudfront-realtime',
      'distributionId=E2ABCDEF123456', 'realtimeShards=2', 'reservedConcurrency=5', 's3Events=eventbridge',
    ]);
    for (const type of ['AWS::Logs::SubscriptionFilter', 'AWS::Logs::Delivery', 'AWS::Kinesis::Stream', 'AWS::CloudFront::RealtimeLogConfig']) {
      assert.ok(types.includes(type), `${type} missing`);
    }
    assert.ok(!types.includes('Custom::S3BucketNotifications'), 'no s3 source, no bucket notifications');
  });
});
