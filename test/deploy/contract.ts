import { readFileSync } from 'node:fs';
import { SETTINGS } from '../../src/config/settings.ts';

/** The repository root, from this file's place in it. */
export const ROOT = new URL('../../', import.meta.url).pathname;

/**
 * The Secrets the operator creates before applying (docs/operations.md says
 * how), with their keys. None of them is in the repository; the policy
 * refuses a manifest that reads any other Secret or key.
 */
export const EXTERNAL_SECRETS: Readonly<Record<string, readonly string[]>> = {
  // Every `env:NAME` of the routes file, and the admin API's token.
  'mxpost-secrets': ['EXAMPLE_COM_WEBHOOK_SECRET', 'MXPOST_ADMIN_TOKEN'],
  // For mxpost, KEDA and the bundled Redis alike.
  'mxpost-redis': ['REDIS_PASSWORD'],
  // Written by cert-manager (overlays/production/certificate.yaml) or by hand.
  'mxpost-tls': ['tls.crt', 'tls.key'],
};

/** The defaults mxpost applies to settings a manifest leaves unset: the code's own. */
export const SETTING_DEFAULTS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(SETTINGS).map(([name, { default: value }]) => [name, value]),
);

/** `.env.example`: every MXPOST_* setting with its default, in order. */
export function envExample(): Map<string, string> {
  const text = readFileSync(`${ROOT}.env.example`, 'utf8');
  return new Map([...text.matchAll(/^(MXPOST_[A-Z0-9_]+)=(.*)$/gm)].map(([, name, value]) => [name!, value!]));
}

export interface SettingRow {
  readonly name: string;
  /** The default as the table gives it: `value`, or "(empty)". */
  readonly default: string;
}

/** The settings table of docs/operations.md: the rows whose first cell is a `MXPOST_…` name. */
export function operationsSettings(): SettingRow[] {
  const text = readFileSync(`${ROOT}docs/operations.md`, 'utf8');
  return [...text.matchAll(/^\| `(MXPOST_[A-Z0-9_]+)` \| ([^|]*) \|/gm)].map(([, name, cell]) => ({
    name: name!,
    default: cell === '(empty)' ? '' : /^`([^`]*)`$/.exec(cell!)?.[1] ?? `unreadable default: ${cell}`,
  }));
}
