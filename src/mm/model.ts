// The model is built from a world (world/build.ts); what is left here are the lookups actors share.

import type { AddressSpace, Mm, Vma } from './types.js';

export { buildModel, NO_CHOICE, resetModel, type CpuSpec } from './world/build.js';

/** find_vma(): the VMA of `mm` that covers `addr`, if it is still linked. */
export function find_vma(mm: Mm, addr: number): Vma | undefined {
  return mm.vmas.find((v) => !v.detached && v.start <= addr && addr < v.end);
}

/** vma_interval_tree_foreach() over a file's i_mmap: every VMA of every mm that maps file page
 *  `pgoff` and is still linked in the rmap, in the tree's order (rmap_tree.ts: by vm_pgoff, then
 *  insertion). `files`: the model's files. */
export function vma_interval_tree_foreach(files: readonly AddressSpace[], file: number, pgoff: number): Vma[] {
  return vma_interval_tree_foreach_range(files, file, pgoff, pgoff);
}

/** vma_interval_tree_foreach(vma, root, first, last): the VMAs linked in the file's i_mmap that map
 *  a page of [first, last], in the tree's order. */
export function vma_interval_tree_foreach_range(files: readonly AddressSpace[], file: number, first: number, last: number): Vma[] {
  const f = files[file];
  if (!f) return [];
  return f.i_mmap.filter((v) => v.inRmap && v.pgoff <= last && v.pgoff + (v.end - v.start) - 1 >= first);
}

/** The address at which `vma` maps file page `pgoff` (vma_address()). */
export function vma_address(vma: Vma, pgoff: number): number {
  return vma.start + (pgoff - vma.pgoff);
}

/** linear_page_index(): the file page that `addr` maps in `vma`. */
export function linear_page_index(vma: Vma, addr: number): number {
  return vma.pgoff + (addr - vma.start);
}
