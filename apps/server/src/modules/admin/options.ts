import type { ServerConfig } from '../../config.js';
import type { Settings, SettingsReader } from './settings/service.js';

/** What every admin route module receives. */
export interface AdminRouteOptions {
  now: () => number;
  config: ServerConfig;
  /** The built-in defaults of the system configuration (from the server configuration). */
  defaults: Settings;
  /** The effective system configuration (read from the database). */
  settings: SettingsReader;
  /** Session cookie path (the admin API prefix). */
  cookiePath: string;
}
