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
    const app = new App({ outdir: path.join(TMP, 'app2.out'), context: { lambdaZip: DUMMY_ZIP, stackName: 'FloodgateProd', namePrefix: 'prod' } });
    const t = Template.fromStack(buildApp(app));
    t.hasResourceProperties('AWS::WAFv2::IPSet', { Name: 'prod-ipv4' });
    t.hasResourceProperties('AWS::WAFv2::WebACL', { Name: 'prod-acl' });
  });

  it('CLOUDFRONT from context outside us-east-1 throws before synth', () => {
    const app = new App({ outdir: path.join(TMP, 'app3.out'), context: { lambdaZip: DUMMY_ZIP, scope: 'CLOUDFRONT', region: 'ap-southeast-2' } });
    assert.throws(() => buildApp(app), /requires the stack region to be us-east-1/);
  });

  it('`cdk synth` succeeds offline with the committed cdk.json and config', () => {
    const out = path.join(TMP, 'cli.out');
    const cdk = path.join(INFRA, 'node_modules', '.bin', 'cdk');
    const r = spawnSync(cdk, [
      'synth', '--no-notices', '--no-version-reporting', '--quiet', '-o', out,
      '-c', `lambdaZip=${DUMMY_ZIP}`, '-c', `account=${ACCOUNT}`, '-c', 'region=eu-west-1', '-c', 'alarmEmail=ops@example.com',
    ], {
      cwd: INFRA,
      encoding: 'utf8',
      timeout: 180_000,
      env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', CDK_DEFAULT_ACCOUNT: '', CDK_DEFAULT_REGION: '' },
    });
    assert.equal(r.status, 0, `cdk synth failed:\n${r.stdout}\n${r.stderr}`);
    assert.doesNotMatch(r.stderr, /WARNING|Error/, r.stderr);
    const template = JSON.parse(fs.readFileSync(path.join(out, 'Floodgate.template.json'), 'utf8'));
    const types = Object.values(template.Resources).map((x: any) => x.Type);
    for (const type of ['AWS::WAFv2::IPSet', 'AWS::SQS::Queue', 'AWS::Lambda::Function', 'AWS::Events::Rule', 'AWS::Budgets::Budget']) {
      assert.ok(types.includes(type), `${type} missing`);
    }
  });
});
