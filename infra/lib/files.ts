// Synth-time checks of local files the stack ships: the floodgate config's `ban.max_entries`
// (the IP sets must be able to hold that many entries) and allowlist files (every line must be
// an address or CIDR the Lambda will accept, so a typo fails `cdk synth`, not a cold start).
import * as fs from 'node:fs';
import * as net from 'node:net';

/** Removes a `#` comment that is not inside a quoted string. */
function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '#') {
      return line.slice(0, i);
    }
  }
  return line;
}

const normKey = (k: string) => k.replace(/\s+/g, '').replace(/["']/g, '');

function tomlInt(raw: string, where: string): number {
  const v = raw.trim();
  if (!/^\+?[0-9](_?[0-9])*$/.test(v)) {
    throw new Error(`floodgate: ${where}: ban.max_entries must be a positive integer, got ${v}`);
  }
  return Number(v.replace(/[+_]/g, ''));
}

/**
 * `ban.max_entries` of a floodgate TOML config, or undefined when the file does not set it.
 * Understands the forms a config uses: `[ban]` then `max_entries = 30_000`, a dotted
 * `ban.max_entries = …` and an inline `ban = { max_entries = … }`. `[ban.ranges]` and other
 * sub-tables are not `[ban]`.
 */
export function readBanMaxEntries(toml: string, where = 'config'): number | undefined {
  let table = '';
  let found: number | undefined;
  for (const raw of toml.split(/\r?\n/)) {
    const line = stripComment(raw).trim();
    if (!line) continue;
    if (line.startsWith('[[')) {
      table = `[[${normKey(line.replace(/^\[\[|\]\]$/g, ''))}]]`;
      continue;
    }
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      table = normKey(header[1]);
      continue;
    }
    const kv = /^([A-Za-z0-9_."' -]+?)\s*=\s*(.+)$/.exec(line);
    if (!kv) continue;
    const key = (table ? `${table}.` : '') + normKey(kv[1]);
    if (key === 'ban.max_entries') {
      found = tomlInt(kv[2], where);
    } else if (key === 'ban' && kv[2].trim().startsWith('{')) {
      const inline = /(?:^|[{,])\s*max_entries\s*=\s*([^,}]+)/.exec(kv[2]);
      if (inline) found = tomlInt(inline[1], where);
    }
  }
  return found;
}

/** True for an IPv4/IPv6 address or CIDR as the floodgate allowlist accepts it (no zone ids). */
export function isAddressOrCidr(s: string): boolean {
  const slash = s.indexOf('/');
  const addr = slash < 0 ? s : s.slice(0, slash);
  if (addr.includes('%')) return false;
  const version = net.isIP(addr);
  if (version === 0) return false;
  if (slash < 0) return true;
  const bits = s.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(bits)) return false;
  return Number(bits) <= (version === 4 ? 32 : 128);
}

/**
 * Checks one allowlist file the way floodgate reads it: `#` starts a comment (anywhere on a
 * line), blank lines are skipped, everything else must be an address or CIDR. Returns the
 * number of entries.
 */
export function validateAllowlistFile(file: string): number {
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
    throw new Error(`floodgate: allowlist file not found: ${file}`);
  }
  let entries = 0;
  fs.readFileSync(file, 'utf8').split(/\r?\n/).forEach((raw, i) => {
    const line = raw.split('#')[0].trim();
    if (!line) return;
    if (!isAddressOrCidr(line)) {
      throw new Error(`floodgate: allowlist file ${file} line ${i + 1}: "${line.slice(0, 80)}" is not an IPv4/IPv6 ` +
        'address or CIDR (one entry a line; # starts a comment)');
    }
    entries++;
  });
  return entries;
}
