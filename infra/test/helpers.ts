// Shared fixtures: a dummy Lambda zip in a temp dir and a synthesizer for stack variants.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { FloodgateStack, FloodgateStackProps } from '../lib/floodgate-stack';

export const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'floodgate-infra-test-'));
process.on('exit', () => fs.rmSync(TMP, { recursive: true, force: true }));

/** An empty but valid zip archive (end-of-central-directory record only). */
export const DUMMY_ZIP = path.join(TMP, 'bootstrap.zip');
fs.writeFileSync(DUMMY_ZIP, Buffer.concat([Buffer.from([0x50, 0x4b, 0x05, 0x06]), Buffer.alloc(18)]));

export const ACCOUNT = '123456789012';
export const CONFIG_PATH = path.resolve(__dirname, '..', 'config', 'floodgate.toml');

let n = 0;
/** A stack with the dummy zip and, unless `props` says otherwise (even `alarmEmail: undefined`), the
 * explicit `alarmEmail: null` (context `none`): synth refuses a stack without either. */
export function makeStack(props: FloodgateStackProps = {}, region = 'eu-west-1'): FloodgateStack {
  const app = new App({ outdir: path.join(TMP, `cdk.out.${n++}`) });
  return new FloodgateStack(app, 'Floodgate', {
    env: { account: ACCOUNT, region },
    lambdaZip: DUMMY_ZIP,
    alarmEmail: null,
    ...props,
  });
}

export function synth(props: FloodgateStackProps = {}, region = 'eu-west-1'): Template {
  return Template.fromStack(makeStack(props, region));
}

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export function only(template: Template, type: string, props?: Json): [string, Json] {
  const found = Object.entries(template.findResources(type, props ? { Properties: props } : undefined));
  if (found.length !== 1) throw new Error(`expected exactly one ${type}, found ${found.length}`);
  return found[0];
}

/** The floodgate function (the other Lambda is CDK's bucket notifications handler). */
export function floodgateFunction(template: Template): [string, Json] {
  return only(template, 'AWS::Lambda::Function', { Handler: 'bootstrap' });
}

/** All statements of the IAM policies attached to the floodgate function's role. */
export function functionStatements(template: Template): Json[] {
  const [, fn] = floodgateFunction(template);
  const roleId = fn.Properties.Role['Fn::GetAtt'][0];
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Json[];
  return policies
    .filter((p) => p.Properties.Roles.some((r: Json) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

export function asList<T>(v: T | T[]): T[] {
  return Array.isArray(v) ? v : [v];
}

/** Logical id of the one resource of a type whose id starts with `prefix` (ids are stable, see legacy.test.ts). */
export function byPrefix(template: Template, type: string, prefix: string): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`expected one ${type} with id ${prefix}*, found ${ids.join(', ') || 'none'}`);
  return ids[0];
}

/** Logical ids of the log queue, its DLQ and the failure queue. */
export function queues(template: Template): { queue: string; dlq: string; failure: string } {
  return {
    queue: byPrefix(template, 'AWS::SQS::Queue', 'LogQueue'),
    dlq: byPrefix(template, 'AWS::SQS::Queue', 'DeadLetterQueue'),
    failure: byPrefix(template, 'AWS::SQS::Queue', 'FailureQueue'),
  };
}

/** The floodgate function's environment variables. */
export function envOf(template: Template): Record<string, Json> {
  return floodgateFunction(template)[1].Properties.Environment.Variables;
}

/** Writes a floodgate config with the given `[ban] max_entries` (or none) into TMP and returns its path. */
let configs = 0;
export function writeConfig(maxEntries: number | undefined, extra = ''): string {
  const file = path.join(TMP, `config-${configs++}.toml`);
  fs.writeFileSync(file, [
    '[[rules]]', 'name = "flood"', 'window = "5m"', 'limit = 600', '',
    '[ban]', 'duration = "1h"', ...(maxEntries === undefined ? [] : [`max_entries = ${maxEntries}`]), '',
    '[ban.ranges]', 'max_entries = 999999', extra,
  ].join('\n'));
  return file;
}

/** Every statement of a resource policy document in the template (bucket, queue, topic policies). */
export function policyStatements(template: Template, type: string): Json[] {
  return (Object.values(template.findResources(type)) as Json[]).flatMap((p) => p.Properties.PolicyDocument.Statement);
}

/** A request to evaluate against the Deny statements of a resource policy (policyDenies). */
export interface PolicyRequest {
  readonly action: string;
  /** The resource's ARN, with template ids standing for their ARNs: see symbolicArn. */
  readonly resource: string;
  /** aws:PrincipalArn; absent for an AWS service principal. */
  readonly principalArn?: string;
  /** aws:PrincipalIsAWSService. Default false. */
  readonly principalIsAWSService?: boolean;
  /** aws:SecureTransport. Default true. */
  readonly secureTransport?: boolean;
}

/**
 * A template value as the ARN string it deploys as, with `arn:aws:<id>` standing for the ARN of
 * the resource with logical id `<id>` (Fn::GetAtt …Arn), `<id>` for a Ref, and the pseudo
 * parameters as `aws`, the test account and `eu-west-1`.
 */
export function symbolicArn(v: Json): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) throw new Error(`a list is not one value: ${JSON.stringify(v)}`);
  if (v.Ref === 'AWS::Partition') return 'aws';
  if (v.Ref === 'AWS::AccountId') return ACCOUNT;
  if (v.Ref === 'AWS::Region') return 'eu-west-1';
  if (v.Ref !== undefined) return String(v.Ref);
  if (v['Fn::GetAtt']) return `arn:aws:${v['Fn::GetAtt'][0]}`;
  if (v['Fn::Join']) return v['Fn::Join'][1].map(symbolicArn).join(v['Fn::Join'][0]);
  throw new Error(`cannot read ${JSON.stringify(v)}`);
}

/** IAM's wildcards: `*` any run of characters, `?` one character; actions ignore case, ARNs do not. */
const globMatch = (pattern: string, value: string, ignoreCase = false) =>
  new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\?/g, '.')).join('.*')}$`,
    ignoreCase ? 'i' : '').test(value);

/**
 * Whether one of the policy's Deny statements applies to the request: IAM's rules for the
 * Action/Resource wildcards and for the condition operators the stack uses (String/Arn (Not)
 * Equals/Like, Bool, each optionally …IfExists); an operator it does not know fails the test.
 * Principals other than "*" are not evaluated (every Deny here names "*").
 */
export function policyDenies(statements: Json[], req: PolicyRequest): Json | undefined {
  const context: Record<string, string | undefined> = {
    'aws:principalarn': req.principalArn,
    'aws:principalisawsservice': String(req.principalIsAWSService ?? false),
    'aws:securetransport': String(req.secureTransport ?? true),
  };
  const conditionHolds = (op: string, key: string, wanted: Json): boolean => {
    const ifExists = op.endsWith('IfExists');
    const base = ifExists ? op.slice(0, -'IfExists'.length) : op;
    const k = key.toLowerCase();
    if (!(k in context)) throw new Error(`condition key ${key} is not modelled by policyDenies`);
    const value = context[k];
    const negated = /Not/.test(base);
    if (value === undefined) return ifExists || negated;
    const values = asList(wanted).map(symbolicArn);
    let match: boolean;
    if (base === 'Bool') match = values.some((w) => w.toLowerCase() === value);
    else if (/^(String|Arn)(Not)?Equals$/.test(base)) match = values.includes(value);
    else if (/^(String|Arn)(Not)?Like$/.test(base)) match = values.some((w) => globMatch(w, value));
    else throw new Error(`condition operator ${op} is not modelled by policyDenies`);
    return negated ? !match : match;
  };
  return statements.find((s) => s.Effect === 'Deny'
    && JSON.stringify(s.Principal) === JSON.stringify({ AWS: '*' })
    && asList(s.Action).some((a: string) => globMatch(a, req.action, true))
    && asList(s.Resource).some((r: Json) => globMatch(symbolicArn(r), req.resource))
    && Object.entries(s.Condition ?? {}).every(([op, keys]) =>
      Object.entries(keys as Record<string, Json>).every(([key, wanted]) => conditionHolds(op, key, wanted))));
}
