/**
 * Keyset paging for the console's log pages: the server answers `{ items, nextCursor }`; the pager keeps the
 * cursors of the pages visited, so "previous" goes back without OFFSET and "next" follows `nextCursor`.
 */
import { computed, ref, shallowRef, type Ref } from 'vue';
import type { CursorPage } from './api.js';

export function useCursorPager<T>(fetchPage: (cursor: string | undefined) => Promise<CursorPage<T>>) {
  const rows: Ref<T[]> = shallowRef([]);
  const stack = ref<(string | undefined)[]>([undefined]);
  const nextCursor = ref<string | null>(null);
  const show = async (cursor: string | undefined): Promise<void> => {
    const r = await fetchPage(cursor);
    rows.value = r.items;
    nextCursor.value = r.nextCursor;
  };
  return {
    rows,
    page: computed(() => stack.value.length),
    hasNext: computed(() => nextCursor.value !== null),
    async first(): Promise<void> {
      stack.value = [undefined];
      await show(undefined);
    },
    async next(): Promise<void> {
      if (nextCursor.value === null) return;
      const c = nextCursor.value;
      await show(c);
      stack.value = [...stack.value, c];
    },
    async prev(): Promise<void> {
      if (stack.value.length <= 1) return;
      const s = stack.value.slice(0, -1);
      await show(s[s.length - 1]);
      stack.value = s;
    },
  };
}
