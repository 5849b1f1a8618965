// The Lambda environment must fit AWS's 4 KB (keys plus values, all variables together). Values are
// partly unresolved at synth time (ids, ARNs), so their deployed length is estimated: each token
// counts the length registered for it, else a generous default for an ARN or name.
import { IResolvable, Token, Tokenization } from 'aws-cdk-lib';
import { DEFAULTS } from './config';

/** Upper bound assumed for a token whose length is not registered (ARNs, generated names). */
export const UNKNOWN_TOKEN_LENGTH = 128;

export class EnvBudget {
  private readonly hints = new Map<IResolvable, number>();

  /** Declares the deployed length of a token (e.g. an IP set id: 36). */
  hint(token: string, length: number): void {
    for (const t of Tokenization.reverseString(token).tokens) this.hints.set(t, length);
  }

  /** Estimated deployed length of a value. */
  length(value: string): number {
    if (!Token.isUnresolved(value)) return Buffer.byteLength(value, 'utf8');
    const mapped = Tokenization.reverseString(value)
      .mapTokens({ mapToken: (t) => 'x'.repeat(this.hints.get(t) ?? UNKNOWN_TOKEN_LENGTH) })
      .join({ join: (a, b) => `${a ?? ''}${b ?? ''}` });
    return Buffer.byteLength(String(mapped ?? ''), 'utf8');
  }

  /** Estimated bytes of a whole environment (keys and values). */
  size(env: Record<string, string>): number {
    return Object.entries(env).reduce((n, [k, v]) => n + Buffer.byteLength(k, 'utf8') + this.length(v), 0);
  }

  /** Throws a clear error when the environment may not fit. */
  assertFits(env: Record<string, string>): void {
    const size = this.size(env);
    if (size <= DEFAULTS.lambdaEnvMaxBytes) return;
    const biggest = Object.entries(env)
      .map(([k, v]) => [k, Buffer.byteLength(k, 'utf8') + this.length(v)] as const)
      .sort((a, b) => b[1] - a[1]).slice(0, 3)
      .map(([k, n]) => `${k} ~${n} B`).join(', ');
    throw new Error(`floodgate: the Lambda environment would be about ${size} bytes, over AWS's limit of ` +
      `${DEFAULTS.lambdaEnvMaxBytes} bytes for all variables together (largest: ${biggest}). ` +
      'Shorten namePrefix, lower ipSetsPerVersion, or use fewer allowlist files.');
  }
}
