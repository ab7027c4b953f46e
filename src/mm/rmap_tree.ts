// The rmap's interval trees as the kernel keeps them: a file's i_mmap (vma_interval_tree_*,
// mm/interval_tree.c) and an anon_vma's rb_root (anon_vma_interval_tree_*, over anon_vma_chains),
// each an ordered list that is the tree's in-order traversal, which is the order an rmap walk
// (vma_interval_tree_foreach / anon_vma_interval_tree_foreach) visits.
//
// Read for this (v6.6 tree; mm/mmap.c also in a v5.10-era rbtree tree): include/linux/
// interval_tree_generic.h _insert(): the key
// is the start (vm_pgoff, or avc_start_pgoff() = vm_pgoff); "if (start < ITSTART(parent)) go left,
// else right", so a node goes after every node with a start <= its own: by vm_pgoff, and among equal
// vm_pgoff in insertion order. Rotations keep the in-order sequence. vma_interval_tree_insert_after()
// (mm/interval_tree.c, dup_mmap()) puts the child's VMA right after its parent's. A VMA whose range
// changes is removed and inserted again (__vma_adjust() v5.8–v6.2, vma_prepare()/vma_complete() v6.6),
// so it goes after its equals. mm/mremap.c move_ptes() relies on this order when need_rmap_locks is
// false: copy_vma()'s new VMA, cloned into the anon_vma by anon_vma_clone() before vma_link(), is
// inserted after the old one (same vm_pgoff), so a walk sees the old pte, the new pte, or both.
//
// Membership is the tree's, independent of mm->mm_mt: a VMA is in its anon_vma's tree from
// anon_vma_chain_link() (anon_vma_clone(), anon_vma_fork(), anon_vma_prepare()) until
// unlink_anon_vmas(); in i_mmap from __vma_link_file() until __remove_shared_vm_struct().
// Departure kept (vma.ts): the walks still skip a VMA whose one `inRmap` flag is clear, so a file VMA
// is walked in its anon_vma only while it is in i_mmap; only anon VMAs are walked through anon_vmas.

import type { AddressSpace, Model, Vma } from './types.js';

/** interval_tree_insert(): after every node whose start is <= `vma`'s vm_pgoff. */
function insert(tree: Vma[], vma: Vma): void {
  if (tree.includes(vma)) return;
  let i = tree.length;
  while (i > 0 && tree[i - 1]!.pgoff > vma.pgoff) i--;
  tree.splice(i, 0, vma);
}

function remove(tree: Vma[], vma: Vma): boolean {
  const i = tree.indexOf(vma);
  if (i < 0) return false;
  tree.splice(i, 1);
  return true;
}

/** The rb_root of the anon_vma `vma` names (anon_vma_id: the mm whose anon_vma it is). */
export function anon_vma_rb_root(m: Model, vma: Vma): Vma[] {
  const mm = m.mms[vma.anon_vma_id];
  if (!mm) throw new Error(`vma ${vma.id} names anon_vma ${vma.anon_vma_id}, which the world lacks`);
  return mm.anon_vma_rb_root;
}

function i_mmap(m: Model, vma: Vma): Vma[] {
  const f: AddressSpace | undefined = m.files[vma.file];
  if (!f) throw new Error(`vma ${vma.id} maps file ${vma.file}, which the world lacks`);
  return f.i_mmap;
}

/** anon_vma_chain_link() → anon_vma_interval_tree_insert(). */
export function anon_vma_interval_tree_insert(m: Model, vma: Vma): void {
  insert(anon_vma_rb_root(m, vma), vma);
}

/** anon_vma_interval_tree_remove() (unlink_anon_vmas()). */
export function anon_vma_interval_tree_remove(m: Model, vma: Vma): boolean {
  return remove(anon_vma_rb_root(m, vma), vma);
}

/** __vma_link_file() → vma_interval_tree_insert(). */
export function vma_interval_tree_insert(m: Model, vma: Vma): void {
  if (vma.kind === 'file') insert(i_mmap(m, vma), vma);
}

/** vma_interval_tree_insert_after(node, prev): right after `prev` (same vm_pgoff, dup_mmap()). */
export function vma_interval_tree_insert_after(m: Model, node: Vma, prev: Vma): void {
  const tree = i_mmap(m, node);
  const i = tree.indexOf(prev);
  if (i < 0 || prev.pgoff !== node.pgoff) throw new Error(`vma_interval_tree_insert_after(vma ${node.id}, vma ${prev.id}): VM_BUG_ON_VMA`);
  if (!tree.includes(node)) tree.splice(i + 1, 0, node);
}

/** vma_interval_tree_remove() (__remove_shared_vm_struct()). */
export function vma_interval_tree_remove(m: Model, vma: Vma): boolean {
  return vma.kind === 'file' ? remove(i_mmap(m, vma), vma) : false;
}

/** The trees of the world's VMAs at the start, as if each had been linked in (mm, address) order:
 *  each file's i_mmap and each mm's anon_vma tree, ordered by vm_pgoff (a stable sort keeps that
 *  link order among equals). `remade`: some mm's VMA objects were made afresh by this reset (a mm
 *  the DPOR search wrapped in a proxy is a new key to build.ts's worldVmas): the trees are made
 *  again from them, else they would keep the old objects, which no reset restores. */
export function resetRmapTrees(m: Model, remade: boolean): void {
  let t = remade ? undefined : initialTrees.get(m);
  if (!t) {
    const files = m.files.map((): Vma[] => []);
    const mms = m.mms.map((): Vma[] => []);
    for (const mm of m.mms) {
      for (const v of mm.vmas) {
        if (v.kind === 'file') files[v.file]!.push(v);
        if (v.anon_vma) mms[v.anon_vma_id]!.push(v);
      }
    }
    for (const f of files) f.sort((a, b) => a.pgoff - b.pgoff);
    for (const a of mms) a.sort((a, b) => a.pgoff - b.pgoff);
    t = { files, mms };
    initialTrees.set(m, t);
  }
  for (let i = 0; i < m.files.length; i++) refill(m.files[i]!.i_mmap, t.files[i]!);
  for (let i = 0; i < m.mms.length; i++) refill(m.mms[i]!.anon_vma_rb_root, t.mms[i]!);
}

/** The trees resetRmapTrees() makes, per model: the same every time resetModel() puts back the same
 *  VMA objects (build.ts, worldVmas) with the world's fields. Made at the first reset, and again
 *  whenever the VMA objects are new. */
const initialTrees = new WeakMap<Model, { readonly files: readonly (readonly Vma[])[]; readonly mms: readonly (readonly Vma[])[] }>();

/** Make `a` a copy of `from`, in place: element by element, and its length set (a runtime call) only
 *  when an execution changed it. */
export function refill<T>(a: T[], from: readonly T[]): void {
  if (a.length > from.length) a.length = from.length;
  for (let i = 0; i < from.length; i++) a[i] = from[i]!;
}
