// Builds the floodgate CDK app from context; bin/app.ts is the `cdk` entry point, tests call this directly.
import { App } from 'aws-cdk-lib';
import { settingsFromContext } from './config';
import { FloodgateStack } from './floodgate-stack';

export function buildApp(app: App): FloodgateStack {
  const ctx = (key: string): unknown => app.node.tryGetContext(key);
  const stackName = (ctx('stackName') as string | undefined) ?? 'Floodgate';
  const account = (ctx('account') as string | undefined) ?? process.env.CDK_DEFAULT_ACCOUNT;
  const region = (ctx('region') as string | undefined) ?? process.env.CDK_DEFAULT_REGION;
  return new FloodgateStack(app, stackName, {
    stackName,
    env: account || region ? { account, region } : undefined,
    description: 'floodgate: WAF / CloudFront / ALB logs to an adaptive WAF IP set blocklist',
    tags: { app: 'floodgate' },
    ...settingsFromContext(ctx),
  });
}
