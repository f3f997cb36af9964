/** Starts the server from the environment: `node dist/main.js` (the CLI's `yizheng start` does the same). */
import { isStartupError } from './startup-error.js';
import { loadConfig } from './config.js';
import { startServer } from './start.js';

try {
  const config = loadConfig({ env: process.env });
  await startServer(config);
} catch (e) {
  if (isStartupError(e)) {
    process.stderr.write(`yizheng: ${e.code}: ${e.message}\n`);
    process.exitCode = 2;
  } else {
    throw e;
  }
}
