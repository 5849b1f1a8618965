// The WAF IP sets (several per IP version) and the optional web ACL whose one rule blocks all of them.
//
// Resources are created directly in the stack (not in a nested construct) so that their logical ids
// stay what they were before the stack was split into modules: the first set of each version keeps
// `IPv4Set` / `IPv6Set` and its name, so an existing deployment is updated, not replaced.
import { CfnOutput, Fn } from 'aws-cdk-lib';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { RuleAction, WafScope } from './config';

export type IpVersion = 'IPV4' | 'IPV6';

export interface IpSetsProps {
  readonly scope: WafScope;
  readonly namePrefix: string;
  readonly perVersion: number;
  readonly createWebAcl: boolean;
  readonly ruleAction: RuleAction;
}

export interface IpSets {
  readonly ipv4: wafv2.CfnIPSet[];
  readonly ipv6: wafv2.CfnIPSet[];
  readonly all: wafv2.CfnIPSet[];
  readonly webAcl?: wafv2.CfnWebACL;
  /** `NAME:ID,NAME:ID,…` of one version, in order (FLOODGATE_IPV4_SET / FLOODGATE_IPV6_SET). */
  nameIds(version: IpVersion): string;
}

/** Logical id and name of the n-th (1-based) set of a version: `IPv4Set`/`<prefix>-ipv4`, then `IPv4Set2`/`<prefix>-ipv4-2`, … */
export function ipSetIdentity(namePrefix: string, version: IpVersion, n: number): { id: string; name: string } {
  const v = version === 'IPV4' ? 'IPv4' : 'IPv6';
  const base = `${namePrefix}-${version.toLowerCase()}`;
  return n === 1 ? { id: `${v}Set`, name: base } : { id: `${v}Set${n}`, name: `${base}-${n}` };
}

export function addIpSets(scope: Construct, props: IpSetsProps): IpSets {
  const make = (version: IpVersion) => Array.from({ length: props.perVersion }, (_, i) => {
    const { id, name } = ipSetIdentity(props.namePrefix, version, i + 1);
    return new wafv2.CfnIPSet(scope, id, {
      name,
      // Unchanged since the first release: a new description would make CloudFormation rewrite the set.
      description: `floodgate blocklist ${version}, entries are managed by the floodgate Lambda`,
      scope: props.scope,
      ipAddressVersion: version,
      addresses: [],
    });
  });
  const ipv4 = make('IPV4');
  const ipv6 = make('IPV6');
  const all = [...ipv4, ...ipv6];

  let webAcl: wafv2.CfnWebACL | undefined;
  if (props.createWebAcl) {
    const metric = (name: string) => ({ cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName: name });
    webAcl = new wafv2.CfnWebACL(scope, 'WebAcl', {
      name: `${props.namePrefix}-acl`,
      description: 'floodgate: blocks the clients in the floodgate IP sets, allows everything else',
      scope: props.scope,
      defaultAction: { allow: {} },
      visibilityConfig: metric(`${props.namePrefix}-acl`),
      rules: [{
        name: 'floodgate-blocklist',
        priority: 0,
        action: props.ruleAction === 'COUNT' ? { count: {} } : { block: {} },
        // One IP set reference statement per set (1 WCU each); at most 2 × 20 = 40 of WAF's 50 per web ACL.
        statement: { orStatement: { statements: all.map((s) => ({ ipSetReferenceStatement: { arn: s.attrArn } })) } },
        visibilityConfig: metric(`${props.namePrefix}-blocklist`),
      }],
    });
    new CfnOutput(scope, 'WebAclArn', { value: webAcl.attrArn, description: 'Associate this web ACL with your ALB / API / CloudFront distribution' });
  }

  const byVersion = (v: IpVersion) => (v === 'IPV4' ? ipv4 : ipv6);
  const nameIds = (v: IpVersion) => byVersion(v).map((s) => `${s.name}:${s.attrId}`).join(',');

  new CfnOutput(scope, 'IPv4Sets', { value: nameIds('IPV4'), description: 'NAME:ID of every IPv4 set, comma-separated (floodgate sync --ipv4-set, once per set)' });
  new CfnOutput(scope, 'IPv6Sets', { value: nameIds('IPV6'), description: 'NAME:ID of every IPv6 set, comma-separated (floodgate sync --ipv6-set, once per set)' });
  new CfnOutput(scope, 'IPv4SetArns', { value: Fn.join(',', ipv4.map((s) => s.attrArn)), description: 'ARNs of the IPv4 sets: reference each in the block rule of your web ACL' });
  new CfnOutput(scope, 'IPv6SetArns', { value: Fn.join(',', ipv6.map((s) => s.attrArn)), description: 'ARNs of the IPv6 sets: reference each in the block rule of your web ACL' });
  if (!webAcl) {
    new CfnOutput(scope, 'AttachIpSets', {
      value: Fn.join(' ', ['Add one rule with action BLOCK and an OrStatement of IPSetReferenceStatements to each of',
        Fn.join(' ', all.map((s) => s.attrArn)), `(${all.length} references, 1 WCU each) to your web ACL`]),
      description: 'The stack created no web ACL: the IP sets block nothing until a rule of yours references all of them',
    });
  }
  return { ipv4, ipv6, all, webAcl, nameIds };
}

/**
 * The web ACL's logging configuration (a web ACL has exactly one). The `authorization` and `cookie`
 * headers are redacted: floodgate never needs them and the logs should not hold credentials.
 * Always the logical id `WafLogging`, whatever the destination, so that moving between the S3 bucket
 * and the CloudWatch log group updates the one configuration instead of creating a second (which
 * WAF would refuse while the first exists).
 */
export function addWafLogging(scope: Construct, webAclArn: string, destinationArn: string): wafv2.CfnLoggingConfiguration {
  return new wafv2.CfnLoggingConfiguration(scope, 'WafLogging', {
    resourceArn: webAclArn,
    logDestinationConfigs: [destinationArn],
    // SingleHeader is untyped in the L1 (JSON): the CloudFormation spelling `Name` is required.
    redactedFields: [{ singleHeader: { Name: 'authorization' } }, { singleHeader: { Name: 'cookie' } }],
  });
}
