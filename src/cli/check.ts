import { loadConfiguration, EXIT_CONFIG } from './run.ts';
import { redactUrl } from '../config/settings.ts';

/** `mxpost check`: validates what `serve` would load, and says what it found. */
export async function runCheck(opts: { routes?: string }): Promise<number> {
  const config = await loadConfiguration(process.env, opts.routes);
  if (!config) return EXIT_CONFIG;
  const { settings, routes } = config;
  const lines = [`settings: ok (Redis ${redactUrl(settings.redisUrl)}, SMTP ${settings.smtpHost}:${settings.smtpPort})`, `routes: ${routes.source}: ok`];
  for (const route of routes.domains.values()) {
    const accepts = route.catchAll ? 'any recipient' : [...new Set([...route.recipients, ...route.addresses.keys()])].join(', ');
    lines.push(`  ${route.domain} → ${route.endpoint.url} (${accepts})`);
    for (const [local, endpoint] of route.addresses) lines.push(`    ${local}@ → ${endpoint.url}`);
    for (const rule of route.rules) {
      const where = rule.action === 'reject' ? `${rule.reply?.code} ${rule.reply?.text}` : rule.to.map((to) => to.template).join(', ');
      lines.push(`    rule ${rule.name} (priority ${rule.priority}): ${rule.action}${where ? ` → ${where}` : ''}`);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
