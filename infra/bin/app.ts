#!/usr/bin/env node
// CDK entry point (cdk.json: `npx tsx bin/app.ts`). Settings come from `-c key=value`; see docs/deploy.md.
import { App } from 'aws-cdk-lib';
import { buildApp } from '../lib/app';

const app = new App();
buildApp(app);
app.synth();
