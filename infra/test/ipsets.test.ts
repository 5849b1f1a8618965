// Several IP sets per IP version (context ipSetsPerVersion): names, logical ids, the web ACL rule,
// IAM, environment, outputs and the capacity check against the config's ban.max_entries.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { DEFAULTS } from '../lib/config';
import { ipSetIdentity } from '../lib/ipsets';
import { envOf, functionStatements, makeStack, synth, writeConfig } from './helpers';

const ids = (n: number) => [
  ...Array.from({ length: n }, (_, i) => ipSetIdentity('Floodgate', 'IPV4', i + 1).id),
  ...Array.from({ length: n }, (_, i) => ipSetIdentity('Floodgate', 'IPV6', i + 1).id),
];

describe('IP sets per version', () => {
  it('defaults to 3 per version; the first keeps its logical id, name and description, further ones are numbered', () => {
    const t = synth();
    const sets = t.toJSON().Resources;
    assert.deepEqual(Object.keys(t.findResources('AWS::WAFv2::IPSet')).sort(), ids(3).sort());
    assert.equal(DEFAULTS.ipSetsPerVersion, 3);
    assert.equal(sets.IPv4Set.Properties.Name, 'Floodgate-ipv4');
    assert.equal(sets.IPv6Set.Properties.Name, 'Floodgate-ipv6');
    assert.equal(sets.IPv4Set2.Properties.Name, 'Floodgate-ipv4-2');
    assert.equal(sets.IPv6Set3.Properties.Name, 'Floodgate-ipv6-3');
    for (const id of ids(3)) {
      const p = sets[id].Properties;
      assert.equal(p.Description, `floodgate blocklist ${p.IPAddressVersion}, entries are managed by the floodgate Lambda`);
      assert.deepEqual(p.Addresses, []);
    }
  });

  it('1 set per version is exactly the original layout', () => {
    const t = synth({ ipSetsPerVersion: 1, configPath: writeConfig(10000) });
    assert.deepEqual(Object.keys(t.findResources('AWS::WAFv2::IPSet')).sort(), ['IPv4Set', 'IPv6Set']);
    assert.deepEqual(envOf(t).FLOODGATE_IPV4_SET, { 'Fn::Join': ['', ['Floodgate-ipv4:', { 'Fn::GetAtt': ['IPv4Set', 'Id'] }]] });
  });

  for (const n of [2, 5, 20]) {
    it(`${n} per version: rule ORs all ${2 * n} references, IAM covers exactly them, env and outputs list them in order`, () => {
      const t = synth({ ipSetsPerVersion: n, configPath: writeConfig(n * 10000) });
      t.resourceCountIs('AWS::WAFv2::IPSet', 2 * n);
      const acl = Object.values(t.findResources('AWS::WAFv2::WebACL'))[0] as any;
      const refs = acl.Properties.Rules[0].Statement.OrStatement.Statements.map((s: any) => s.IPSetReferenceStatement.Arn['Fn::GetAtt'][0]);
      assert.deepEqual(refs, ids(n));
      // AWS: at most 50 reference statements per web ACL, 1 WCU each.
      assert.ok(refs.length <= 50);
      const waf = functionStatements(t).filter((s) => s.Sid === 'SyncIpSets');
      assert.equal(waf.length, 1);
      assert.deepEqual(waf[0].Resource, ids(n).map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] })));
      const env = envOf(t);
      const parts = env.FLOODGATE_IPV4_SET['Fn::Join'][1];
      assert.deepEqual(parts.filter((p: any) => typeof p !== 'string').map((p: any) => p['Fn::GetAtt']), ids(n).slice(0, n).map((id) => [id, 'Id']));
      assert.equal(parts.filter((p: any) => typeof p === 'string').join('|'),
        Array.from({ length: n }, (_, i) => `${i ? ',' : ''}Floodgate-ipv4${i ? `-${i + 1}` : ''}:`).join('|'));
      t.hasOutput('IPv6Sets', { Value: env.FLOODGATE_IPV6_SET });
      t.hasOutput('IPv4SetArns', { Value: { 'Fn::Join': [',', ids(n).slice(0, n).map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] }))] } });
    });
  }

  it('AttachIpSets lists every set ARN when the stack creates no web ACL', () => {
    const t = synth({ logBucketName: 'logs', logPrefixes: ['AWSLogs/'], ipSetsPerVersion: 4, configPath: writeConfig(40000) });
    const value = JSON.stringify(t.findOutputs('AttachIpSets').AttachIpSets.Value);
    for (const id of ids(4)) assert.ok(value.includes(`"${id}","Arn"`), `${id} missing from AttachIpSets`);
    assert.match(value, /8 references/);
  });

  it('an existing web ACL also gets AttachIpSets (its rule is the user\'s to add)', () => {
    const t = synth({ webAclArn: 'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/site/abc' });
    t.hasOutput('AttachIpSets', {});
  });

  it('ipSetsPerVersion must be 1..20', () => {
    assert.throws(() => makeStack({ ipSetsPerVersion: 0 }), /ipSetsPerVersion must be an integer in 1\.\.20/);
    assert.throws(() => makeStack({ ipSetsPerVersion: 21 }), /ipSetsPerVersion must be an integer in 1\.\.20/);
  });
});

describe('Lambda environment with many sets (AWS: 4 KB for all variables)', () => {
  it('20 sets per version: a config that no longer fits inline goes to S3', () => {
    const padding = `# ${'x'.repeat(70)}\n`.repeat(20);
    const small = envOf(synth({ ipSetsPerVersion: 1, configPath: writeConfig(10000, padding) }));
    assert.ok(small.FLOODGATE_CONFIG_TOML, 'inline with one set per version');
    const big = envOf(synth({ ipSetsPerVersion: 20, configPath: writeConfig(200000, padding) }));
    assert.equal(big.FLOODGATE_CONFIG_TOML, undefined);
    assert.match(JSON.stringify(big.FLOODGATE_CONFIG_S3), /s3:\/\//);
  });

  it('refuses an environment that cannot fit even without the config, naming the largest variables', () => {
    assert.throws(() => makeStack({ ipSetsPerVersion: 20, namePrefix: 'p'.repeat(100), configPath: writeConfig(200000) }),
      /Lambda environment would be about \d+ bytes, over AWS's limit of 4096 .*FLOODGATE_IPV[46]_SET/);
  });
});

describe('capacity check against ban.max_entries', () => {
  it('fails when the sets hold fewer entries than the config\'s max_entries, naming the fix', () => {
    assert.throws(() => makeStack({ ipSetsPerVersion: 2, configPath: writeConfig(25000) }),
      /ipSetsPerVersion=2 gives 20000 entries per IP version .* ban\.max_entries .* is 25000\. Set -c ipSetsPerVersion=3/);
    assert.doesNotThrow(() => makeStack({ ipSetsPerVersion: 3, configPath: writeConfig(30000) }));
    assert.doesNotThrow(() => makeStack({ ipSetsPerVersion: 1, configPath: writeConfig(10000) }));
  });

  it('an absent max_entries follows the sets: any number of sets is enough', () => {
    for (const n of [1, 2, 3]) {
      assert.doesNotThrow(() => makeStack({ ipSetsPerVersion: n, configPath: writeConfig(undefined) }));
    }
  });

  it('reads [ban] only: a max_entries under [ban.ranges] is not the ban capacity', () => {
    // writeConfig puts max_entries = 999999 under [ban.ranges].
    assert.doesNotThrow(() => makeStack({ ipSetsPerVersion: 1, configPath: writeConfig(5000) }));
  });

  it('the committed config fits the default number of sets', () => {
    assert.doesNotThrow(() => makeStack({}));
    synth().hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ FLOODGATE_IPV4_SET: Match.anyValue() }) } });
  });
});
