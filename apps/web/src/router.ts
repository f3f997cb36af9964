import { defineComponent } from 'vue';
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router';
import type { MessageKey } from './i18n.js';
import ApiLog from './pages/ApiLog.vue';
import Applications from './pages/Applications.vue';
import Evidence from './pages/Evidence.vue';
import History from './pages/History.vue';
import Jobs from './pages/Jobs.vue';
import Login from './pages/Login.vue';
import OperationLog from './pages/OperationLog.vue';
import Projects from './pages/Projects.vue';
import Roles from './pages/Roles.vue';
import Settings from './pages/Settings.vue';
import Statistics from './pages/Statistics.vue';
import Strategies from './pages/Strategies.vue';
import Users from './pages/Users.vue';
import { loadMe, me } from './session.js';

/** Menu pages and the permission each needs (the server enforces the same on every call). */
export const PAGES: {
  path: string;
  title: MessageKey;
  permission: string;
  component: RouteRecordRaw['component'];
}[] = [
  { path: '/users', title: 'users', permission: 'user:read', component: Users },
  { path: '/roles', title: 'roles', permission: 'role:read', component: Roles },
  { path: '/projects', title: 'projects', permission: 'project:read', component: Projects },
  { path: '/applications', title: 'applications', permission: 'application:read', component: Applications },
  { path: '/evidence', title: 'evidence', permission: 'evidence:read', component: Evidence },
  { path: '/statistics', title: 'statistics', permission: 'stats:read', component: Statistics },
  { path: '/settings', title: 'settings', permission: 'config:read', component: Settings },
  { path: '/jobs', title: 'jobs', permission: 'job:read', component: Jobs },
  { path: '/history', title: 'historyMigration', permission: 'history:read', component: History },
  { path: '/strategies', title: 'strategies', permission: 'strategy:read', component: Strategies },
  { path: '/operation-log', title: 'operationLog', permission: 'audit:read', component: OperationLog },
  { path: '/api-log', title: 'apiLog', permission: 'audit:read', component: ApiLog },
];

export const router = createRouter({
  history: createWebHistory('/console/'),
  routes: [
    { path: '/login', component: Login, meta: { public: true } },
    // The home route only redirects (guard below) to the first page the user may see.
    { path: '/', component: defineComponent({ render: () => null }) },
    ...PAGES.map((p) => ({ path: p.path, component: p.component! })),
    { path: '/:rest(.*)*', redirect: '/' },
  ],
});

router.beforeEach(async (to) => {
  if (to.meta.public === true) return true;
  const m = me.value ?? (await loadMe());
  if (m === null) return '/login';
  const allowed = PAGES.filter((p) => m.user.permissions.includes(p.permission));
  const page = PAGES.find((p) => p.path === to.path);
  if (page === undefined || !m.user.permissions.includes(page.permission))
    return allowed[0]?.path ?? '/login';
  return true;
});
