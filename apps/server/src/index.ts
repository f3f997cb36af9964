/** `@yizheng/server`: the evidence server. `build(config)` returns the Fastify app; `main.ts` listens. */
export {};
