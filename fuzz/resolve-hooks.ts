// A module resolution hook (node:module register()) that makes `import ... from 'mmfuzz'` in a user
// module resolve to this copy of mmfuzz, wherever the module lives: an actor file in a kernel tree or
// in /tmp has no node_modules/mmfuzz beside it. Only the bare specifier 'mmfuzz' is redirected.

interface ResolveContext { readonly parentURL?: string | undefined }
type NextResolve = (specifier: string, context: ResolveContext) => Promise<{ url: string }>;

let target = '';

export function initialize(data: { readonly target: string }): void {
  target = data.target;
}

export async function resolve(specifier: string, context: ResolveContext, next: NextResolve): Promise<{ url: string; shortCircuit?: boolean }> {
  if (specifier === 'mmfuzz' && target) {
    try {
      return await next(specifier, context);
    } catch {
      return { url: target, shortCircuit: true };
    }
  }
  return next(specifier, context);
}
