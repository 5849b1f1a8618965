// Who may write what floodgate trusts (docs/deploy.md "Who can write the logs floodgate trusts").
//
// An IAM Allow on "*" is common (administrators, `s3:PutObject` on every bucket, AWS managed
// policies), so an Allow for the real writer says nothing about who else can write. A resource
// policy Deny does: it applies to every principal of the account whatever their own policies say.
import * as iam from 'aws-cdk-lib/aws-iam';

export interface OnlyWritersProps {
  /** Statement id. */
  readonly sid: string;
  readonly actions: string[];
  readonly resources: string[];
  /** Principals (role ARNs, compared with aws:PrincipalArn) that may still perform the actions. */
  readonly writers?: string[];
  /** AWS service principals (log delivery) may still perform the actions; IAM users and roles may not. */
  readonly awsServices?: boolean;
  /** The break-glass role, exempt like the writers (repairs by hand, docs/operations.md). */
  readonly breakGlassRoleArn?: string;
}

/** A Deny of `actions` on `resources` to every principal but the writers (and AWS services, if asked). */
export function onlyWriters(p: OnlyWritersProps): iam.PolicyStatement {
  const exempt = [...(p.writers ?? []), ...(p.breakGlassRoleArn ? [p.breakGlassRoleArn] : [])];
  const conditions: Record<string, Record<string, unknown>> = {};
  // aws:PrincipalIsAWSService is true only for a service principal acting itself (delivery.logs…), so an
  // IAM role that merely belongs to a service (a Lambda's role) is still denied.
  if (p.awsServices) conditions.BoolIfExists = { 'aws:PrincipalIsAWSService': 'false' };
  if (exempt.length > 0) conditions.ArnNotEquals = { 'aws:PrincipalArn': exempt };
  return new iam.PolicyStatement({
    sid: p.sid,
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: p.actions,
    resources: p.resources,
    conditions,
  });
}
