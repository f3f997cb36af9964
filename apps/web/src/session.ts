/** The logged-in user, shared by the shell and the router guard. */
import { ref } from 'vue';
import { api, type Me } from './api.js';

export const me = ref<Me | null>(null);

export async function loadMe(): Promise<Me | null> {
  try {
    me.value = await api<Me>('GET', '/session');
  } catch {
    me.value = null;
  }
  return me.value;
}

export function can(permission: string): boolean {
  return me.value?.user.permissions.includes(permission) ?? false;
}
