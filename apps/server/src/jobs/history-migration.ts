/** History migration (历史数据迁移) as a job: every minute, runs the pending tasks that are inside their window. */
import { runHistoryTasks, type RunDeps } from '../modules/history/service.js';
import type { Job } from './job.js';

export function historyMigrationJob(deps: RunDeps): Job {
  return {
    id: 'history-migration',
    description: '历史数据迁移：按时间窗口与限速迁移历史签名数据',
    defaultSchedule: '* * * * *',
    handler: ({ signal }) => runHistoryTasks({ deps, signal }),
  };
}
