// VMAs that change: create, split, merge, move and detach VMAs under the locks the kernel takes for
// each, as mm/mmap.c does it. Read for this:
//   v5.10 mm/mmap.c (rbtree + vm_next): vma_link(), __vma_link_file(), insert_vm_struct(),
//         __vma_adjust(), __split_vma(), vma_merge(), copy_vma(), unlink_file_vma(),
//         detach_vmas_to_be_unmapped(). v5.8 has the same locking in these functions.
//   v6.6 mm/mmap.c (maple tree): vma_link() (vma_start_write() before vma_iter_store()),
//         init_multi_vma_prep()/vma_prepare()/vma_complete(), __split_vma(), vma_merge() (curr,
//         merge_prev, dup_anon_vma()), copy_vma(), insert_vm_struct(), do_vmi_align_munmap()'s
//         vma_start_write() + vma_mark_detached() loop.
//   v6.2 still has __vma_adjust() (maple tree, no per-VMA locks): the model runs it as v5.10.
//
// The lock order, the same at every era: mmap_lock (write, asserted) → the VMA write locks (v6.6)
// → i_mmap_rwsem (write; a file VMA) → the anon_vma root's rwsem (write). The rmap side is
// visible as the model has it: a file VMA is in its file's i_mmap (vma_interval_tree_foreach)
// while `inRmap`; an anon VMA with `anon_vma` set is in that anon_vma's tree
// (anon_vma_interval_tree_foreach) while `inRmap`. Both trees are ordered lists (rmap_tree.ts): by
// vm_pgoff, then insertion, independent of the mm's VMA array (copy_vma()'s anon_vma_clone() makes
// the new VMA walkable before vma_link(), as mremap's move_ptes() relies on).
//
// The mm's VMA array stays sorted by start (then id). A VMA taken out of the tree stays in the
// array with `detached` set, as munmap and exit_mmap leave it (free_pgtables() still has to find it
// and take it out of the rmap); a new VMA enters the array when it is linked.
//
// Departures: one `inRmap` flag stands for both the i_mmap and the anon_vma_chain linkage, so a
// private file VMA with an anon_vma enters (and leaves) the anon_vma tree when it enters (leaves)
// i_mmap; vma_merge() handles only the adjacent case (see there) and copy_vma() never merges; no
// map_count, vm_flags other than VM_SHARED, mempolicy, uprobes or userfaultfd.

import { BUG_ON } from './bug.js';
import { anon_vma_interval_tree_insert, anon_vma_interval_tree_remove, vma_interval_tree_insert, vma_interval_tree_remove } from './rmap_tree.js';
import { down_write, up_write } from './locks.js';
import type { Stepper } from './pgtable.js';
import { type ActorGen, call, type Ctx, step } from './step.js';
import { NOBODY, type AddressSpace, type Mm, type Model, type RwSem, type Vma } from './types.js';
import { hasPerVmaLocks, mmap_assert_write_locked, vma_mark_detached, vma_start_write } from './vma_lock.js';
import type { WorldVma } from './world/types.js';

/** anon_vma_interval_tree_foreach() over the anon_vma `anonVma` (named by the mm whose
 *  anon_vma_lock is its root's rwsem): every VMA of every mm linked to it that maps page index
 *  `pgoff` (vm_pgoff-based, as anon pages are indexed), in the tree's order (rmap_tree.ts: by
 *  vm_pgoff, then link order), linked into an mm's tree or not (copy_vma() links it to the anon_vma
 *  before vma_link()). Beside vma_interval_tree_foreach() in model.ts, which walks a file's i_mmap. */
export function anon_vma_interval_tree_foreach(mms: readonly Mm[], anonVma: number, pgoff: number): Vma[] {
  const root = mms[anonVma];
  if (!root) return [];
  return root.anon_vma_rb_root.filter((v) => v.inRmap && pgoff >= v.pgoff && pgoff < v.pgoff + (v.end - v.start));
}

/** The anon_vma root's rwsem that anon_vma_lock_write(vma->anon_vma) takes. */
export function anon_vma_lockptr(m: Model, vma: Vma): RwSem {
  const mm = m.mms[vma.anon_vma_id];
  if (!mm) throw new Error(`vma ${vma.id} names anon_vma ${vma.anon_vma_id}, which the world lacks`);
  return mm.anon_vma_lock;
}

/** anon_vma_lock_write(vma->anon_vma): one step. */
export function* anon_vma_lock_write(c: Ctx, vma: Vma): ActorGen {
  yield* down_write(c, anon_vma_lockptr(c.m, vma));
}

export function anon_vma_unlock_write(c: Ctx, vma: Vma): void {
  up_write(c, anon_vma_lockptr(c.m, vma));
}

/** i_mmap_lock_write(mapping): one step. */
export function* i_mmap_lock_write(c: Ctx, mapping: AddressSpace): ActorGen {
  yield* down_write(c, mapping.i_mmap_rwsem);
}

export function i_mmap_unlock_write(c: Ctx, mapping: AddressSpace): void {
  up_write(c, mapping.i_mmap_rwsem);
}

function mappingOf(m: Model, vma: Vma): AddressSpace | null {
  if (vma.kind !== 'file') return null;
  const f = m.files[vma.file];
  if (!f) throw new Error(`vma ${vma.id} maps file ${vma.file}, which the world lacks`);
  return f;
}

function mmOf(m: Model, vma: Vma): Mm {
  const mm = m.mms[vma.mm];
  if (!mm) throw new Error(`vma ${vma.id} names mm ${vma.mm}, which the world lacks`);
  return mm;
}

/** What a new VMA is made of (vm_area_alloc() and the fields mmap_region() sets): a world's VMA but
 *  for anon_vma, which a new VMA does not have yet. For an anon VMA insert_vm_struct() sets vm_pgoff
 *  to `start`. */
export type VmaSpec = Omit<WorldVma, 'anon_vma'>;

function vmLock(mm: number, id: number): RwSem {
  return { name: mm === 0 ? `vm_lock(vma${id})` : `vm_lock(mm${mm} vma${id})`, writer: NOBODY, readers: [] };
}

/** vm_area_alloc() + the fields set before linking: a VMA of `mm` that is in no tree yet
 *  (vma_lock_alloc(): vm_lock_seq -1). Not a step: nobody else can see it. */
export function vm_area_alloc(mm: Mm, spec: VmaSpec): Vma {
  const id = mm.next_vma_id++;
  return {
    id, mm: mm.id, start: spec.start, end: spec.end, kind: spec.kind, file: spec.kind === 'file' ? (spec.file ?? 0) : -1,
    pgoff: spec.pgoff ?? spec.start, shared: spec.shared ?? false, anon_vma: false, detached: false, inRmap: false,
    anon_vma_id: mm.id, vm_lock_seq: -1, vm_lock: vmLock(mm.id, id),
  };
}

/** vm_area_dup() (kernel/fork.c): a copy of `vma` that is in no tree and no rmap yet (its
 *  anon_vma_chain is empty until anon_vma_clone()), with a fresh per-VMA lock. `into`: the mm it
 *  will belong to, when that is not `vma`'s (dup_mmap()'s tmp->vm_mm = mm). */
export function vm_area_dup(m: Model, vma: Vma, into: Mm = mmOf(m, vma)): Vma {
  const mm = into;
  const id = mm.next_vma_id++;
  return { ...vma, id, mm: mm.id, detached: false, inRmap: false, vm_lock_seq: -1, vm_lock: vmLock(mm.id, id) };
}

/** __vma_link_rb() (v5.8–v6.2) / vma_iter_bulk_store() (v6.6), as dup_mmap() links a child's VMA
 *  into the new mm's tree: no VMA write lock (nobody else can see the new mm) and no i_mmap, which
 *  dup_mmap() has done before. mmap_lock of `mm` held for write (asserted). Not a step of its own. */
export function vma_iter_bulk_store(c: Ctx, mm: Mm, vma: Vma): void {
  mmap_assert_write_locked(c, mm, `vma_iter_bulk_store(vma ${vma.id})`);
  BUG_ON(c, intersects(mm, vma.start, vma.end, vma) !== undefined, `dup_mmap(): [${vma.start},${vma.end}) overlaps a VMA`);
  treeStore(mm, vma);
}

function sortVmas(mm: Mm): void {
  mm.vmas.sort((a, b) => a.start - b.start || a.id - b.id);
}

/** Does a linked VMA of `mm` other than `except` meet [start, end)? (find_vma_intersection()) */
function intersects(mm: Mm, start: number, end: number, ...except: Vma[]): Vma | undefined {
  return mm.vmas.find((v) => !v.detached && !except.includes(v) && v.start < end && start < v.end);
}

/** __vma_link() / vma_iter_store(): into the mm's VMA tree. */
function treeStore(mm: Mm, vma: Vma): void {
  if (!mm.vmas.includes(vma)) mm.vmas.push(vma);
  vma.detached = false;
  // An anon VMA without an anon_vma is in no rmap tree; `inRmap` only says it is not unlinked yet.
  if (vma.kind === 'anon' && !vma.anon_vma) vma.inRmap = true;
  sortVmas(mm);
}

/** anon_vma_clone(dst, src) (mm/rmap.c): link `dst` into `src`'s anon_vma under its root's
 *  rwsem (one step to take it, one to link and drop it). Nothing if `src` has no anon_vma. An anon
 *  `dst` is visible to anon_vma_interval_tree_foreach() from here on. */
export function* anon_vma_clone(c: Ctx, dst: Vma, src: Vma): ActorGen {
  if (!src.anon_vma) return;
  const sem = anon_vma_lockptr(c.m, src);
  yield* down_write(c, sem);
  dst.anon_vma = true;
  dst.anon_vma_id = src.anon_vma_id;
  anon_vma_interval_tree_insert(c.m, dst);
  if (dst.kind === 'anon') dst.inRmap = true;
  up_write(c, sem);
  yield step(`anon_vma_clone(vma ${dst.id}, vma ${src.id}): anon_vma_chain_link(); unlock_anon_vma_root(${sem.name})`);
}

/** vma_link() (mm/mmap.c): put a new VMA into the mm's tree and, for a file VMA, its file's i_mmap
 *  under i_mmap_lock_write() (__vma_link_file()). v5.8–v6.2: both under i_mmap_rwsem, one step
 *  after taking it. v6.6: vma_start_write(vma), vma_iter_store() (a step), then i_mmap as before.
 *  mmap_lock must be held for write (asserted). The range must be free (else BUG, as
 *  __insert_vm_struct() has it); insert_vm_struct() checks that first. */
export function* vma_link(c: Ctx, mm: Mm, vma: Vma): ActorGen {
  mmap_assert_write_locked(c, mm, `vma_link(vma ${vma.id})`);
  BUG_ON(c, intersects(mm, vma.start, vma.end, vma) !== undefined, `vma_link(): [${vma.start},${vma.end}) overlaps a VMA`);
  const mapping = mappingOf(c.m, vma);
  if (hasPerVmaLocks(c.m.sw)) {
    yield* vma_start_write(c, vma);
    treeStore(mm, vma);
    yield step(`vma_link(): vma_iter_store(vma ${vma.id} [${vma.start},${vma.end}))`);
    if (!mapping) return;
    yield* i_mmap_lock_write(c, mapping);
    vma_interval_tree_insert(c.m, vma);
    vma.inRmap = true;
    i_mmap_unlock_write(c, mapping);
    yield step(`vma_link(): __vma_link_file(vma ${vma.id}); i_mmap_unlock_write(${mapping.i_mmap_rwsem.name})`);
    return;
  }
  if (mapping) yield* i_mmap_lock_write(c, mapping);
  treeStore(mm, vma);
  if (mapping) {
    vma_interval_tree_insert(c.m, vma);
    vma.inRmap = true;
    i_mmap_unlock_write(c, mapping);
  }
  yield step(`vma_link(): __vma_link(vma ${vma.id} [${vma.start},${vma.end}))${mapping ? `; __vma_link_file(); i_mmap_unlock_write(${mapping.i_mmap_rwsem.name})` : ''}`);
}

/** insert_vm_struct() (mm/mmap.c, v5.8–v6.6): false if [start, end) meets a VMA
 *  (find_vma_intersection(), no step); an anon VMA must have no anon_vma yet (BUG_ON) and gets
 *  vm_pgoff = vm_start; then vma_link(). */
export function* insert_vm_struct(c: Ctx, mm: Mm, vma: Vma): Stepper<boolean> {
  mmap_assert_write_locked(c, mm, `insert_vm_struct(vma ${vma.id})`);
  if (intersects(mm, vma.start, vma.end, vma)) return false;
  if (vma.kind === 'anon') {
    BUG_ON(c, vma.anon_vma, 'insert_vm_struct(): vma->anon_vma');
    vma.pgoff = vma.start;
  }
  yield* call(vma_link(c, mm, vma));
  return true;
}

/** What vma_prepare() locks and vma_complete() finishes (init_multi_vma_prep()), or the same
 *  steps inside __vma_adjust() before v6.6. */
interface VmaPrepare {
  readonly fn: string;
  /** The VMA whose range changes. */
  readonly vma: Vma;
  /** A new VMA (split): into i_mmap right after i_mmap_lock_write(), into the tree in the change. */
  readonly insert?: Vma;
  /** A VMA merged away: out of the tree and i_mmap in the change, out of its anon_vma after. */
  readonly remove?: Vma;
}

/** The body shared by __split_vma() and vma_merge(): i_mmap_lock_write() (a file VMA) with
 *  __vma_link_file(insert), anon_vma_lock_write() (if the VMA has an anon_vma), then in one step
 *  `change` with the tree and i_mmap updates and both unlocks; then, for a removed VMA,
 *  anon_vma_merge() → unlink_anon_vmas() under the anon_vma lock again. */
function* vma_prepare_complete(c: Ctx, vp: VmaPrepare, change: () => string): ActorGen {
  const m = c.m;
  const mm = mmOf(m, vp.vma);
  const mapping = mappingOf(m, vp.vma);
  const anon = vp.vma.anon_vma ? anon_vma_lockptr(m, vp.vma) : null;
  if (mapping) {
    yield* i_mmap_lock_write(c, mapping);
    if (vp.insert) {
      vma_interval_tree_insert(m, vp.insert);
      vp.insert.inRmap = true;
    }
  }
  if (anon) yield* down_write(c, anon);
  // vma_interval_tree_remove(vma) ... change ... vma_interval_tree_insert(vma): one step under the
  // locks, so no rmap walker sees the VMA out of its tree; re-inserted, it goes after its equals
  // (anon_vma_interval_tree_pre/post_update_vma() the same for its anon_vma).
  const inAnon = anon_vma_interval_tree_remove(m, vp.vma);
  const inFile = vma_interval_tree_remove(m, vp.vma);
  const what = change();
  if (inFile) vma_interval_tree_insert(m, vp.vma);
  if (inAnon) anon_vma_interval_tree_insert(m, vp.vma);
  if (vp.insert) treeStore(mm, vp.insert);
  if (vp.remove) {
    vma_mark_detached(c, vp.remove, true);
    if (mapping) {
      vma_interval_tree_remove(m, vp.remove);
      vp.remove.inRmap = false;
    }
  }
  sortVmas(mm);
  if (anon) up_write(c, anon);
  if (mapping) i_mmap_unlock_write(c, mapping);
  const parts = [
    what,
    vp.insert ? `insert vma ${vp.insert.id} [${vp.insert.start},${vp.insert.end})` : '',
    vp.remove ? `remove vma ${vp.remove.id}${mapping ? ' (__remove_shared_vm_struct())' : ''}` : '',
    anon ? `anon_vma_unlock_write(${anon.name})` : '',
    mapping ? `i_mmap_unlock_write(${mapping.i_mmap_rwsem.name})` : '',
  ].filter((s) => s !== '');
  yield step(`${vp.fn}: ${parts.join('; ')}`);
  const rm = vp.remove;
  if (rm && rm.anon_vma && rm.inRmap) {
    // anon_vma_merge(vma, remove) → unlink_anon_vmas(remove)
    yield* unlink_anon_vmas(c, rm);
  }
}

/** __split_vma(vma, addr, new_below) (mm/mmap.c; v5.8–v6.2 through __vma_adjust(), v6.6 through
 *  vma_prepare()/vma_complete()): split `vma` at `addr`. The new VMA is the lower part when
 *  `newBelow`, else the upper part, whose vm_pgoff is vma's plus (addr - vm_start); when the new one
 *  is below, `vma` keeps the upper part and its vm_pgoff moves up the same way. Steps:
 *  anon_vma_clone(new, vma); at v6.6 vma_start_write() of both; i_mmap_lock_write() (file) with the
 *  new VMA put into i_mmap at once; anon_vma_lock_write() (if any); the change with both unlocks.
 *  Returns the new VMA, or null (WARN_ON) if `addr` is not strictly inside. */
export function* __split_vma(c: Ctx, vma: Vma, addr: number, newBelow: boolean): Stepper<Vma | null> {
  const m = c.m;
  const mm = mmOf(m, vma);
  mmap_assert_write_locked(c, mm, `__split_vma(vma ${vma.id}, ${addr})`);
  if (addr <= vma.start || addr >= vma.end) {
    m.events.push({ e: 'bug', msg: `__split_vma(): WARN_ON(addr ${addr} not inside vma ${vma.id} [${vma.start},${vma.end}))` });
    return null;
  }
  const nw = vm_area_dup(m, vma);
  if (newBelow) nw.end = addr;
  else {
    nw.start = addr;
    nw.pgoff += addr - vma.start;
  }
  yield* anon_vma_clone(c, nw, vma);
  yield* vma_start_write(c, vma);
  yield* vma_start_write(c, nw);
  yield* vma_prepare_complete(c, { fn: '__split_vma()', vma, insert: nw }, () => {
    if (newBelow) {
      vma.pgoff += addr - vma.start;
      vma.start = addr;
    } else {
      vma.end = addr;
    }
    return `vma ${vma.id} now [${vma.start},${vma.end}) pgoff ${vma.pgoff}`;
  });
  return nw;
}

/** Can `next` be merged into `prev` (is_mergeable_vma() + can_vma_merge_after/before() +
 *  is_mergeable_anon_vma()), for the adjacent case vma_merge() handles here? */
export function can_vma_merge(prev: Vma, next: Vma): boolean {
  return prev.mm === next.mm && !prev.detached && !next.detached && prev.end === next.start
    && prev.kind === next.kind && prev.file === next.file && prev.shared === next.shared
    && next.pgoff === prev.pgoff + (prev.end - prev.start)
    && (!prev.anon_vma || !next.anon_vma || prev.anon_vma_id === next.anon_vma_id);
}

/** vma_merge() for two adjacent VMAs of one mm: `next` becomes mergeable with `prev` (mprotect of
 *  the whole of `next`, vma_merge()'s case 7 in v5.10's table; v6.6's merge_prev with `curr` removed)
 *  and `prev` grows over it. v5.8–v6.2: __vma_adjust(prev, prev->vm_start, next->vm_end,
 *  prev->vm_pgoff, NULL, prev) with remove_next = 1; v6.6: vma_start_write(prev),
 *  vma_start_write(curr), dup_anon_vma(prev, curr), vma_prepare(), vma_complete() with
 *  vp->remove = curr. Both: prev takes next's anon_vma if it has none (anon_vma_clone), then
 *  i_mmap and anon_vma locks, the change (next out of the tree and i_mmap), and unlink_anon_vmas(next).
 *  Returns `prev`, or null without a step when they cannot merge. */
export function* vma_merge(c: Ctx, prev: Vma, next: Vma): Stepper<Vma | null> {
  const mm = mmOf(c.m, prev);
  mmap_assert_write_locked(c, mm, `vma_merge(vma ${prev.id}, vma ${next.id})`);
  if (!can_vma_merge(prev, next)) return null;
  yield* vma_start_write(c, prev);
  yield* vma_start_write(c, next);
  if (next.anon_vma && !prev.anon_vma) yield* anon_vma_clone(c, prev, next);
  yield* vma_prepare_complete(c, { fn: 'vma_merge()', vma: prev, remove: next }, () => {
    prev.end = next.end;
    return `vma ${prev.id} now [${prev.start},${prev.end})`;
  });
  return prev;
}

/** copy_vma() (mm/mmap.c, v5.8–v6.6), for mremap's move_vma(): a new VMA of `len` pages at `addr`
 *  mapping what `vma` maps from `pgoff` (by default: all of it, with the same vm_pgoff; an anon VMA
 *  never faulted gets vm_pgoff = addr). anon_vma_clone(), then vma_link(). Null (no step) if the
 *  new range meets a VMA. The model never merges the copy into a neighbour (the kernel tries
 *  vma_merge() first), so need_rmap_locks is always false. The old VMA stays: move_vma() unmaps it. */
export function* copy_vma(c: Ctx, vma: Vma, addr: number, len = vma.end - vma.start, pgoff = vma.pgoff): Stepper<Vma | null> {
  const m = c.m;
  const mm = mmOf(m, vma);
  mmap_assert_write_locked(c, mm, `copy_vma(vma ${vma.id}, ${addr})`);
  if (intersects(mm, addr, addr + len)) return null;
  const nw = vm_area_dup(m, vma);
  nw.start = addr;
  nw.end = addr + len;
  nw.pgoff = vma.kind === 'anon' && !vma.anon_vma ? addr : pgoff;
  yield* anon_vma_clone(c, nw, vma);
  yield* call(vma_link(c, mm, nw));
  return nw;
}

/** Take VMAs out of the mm's tree, so that find_vma() and lock_vma_under_rcu() no longer find them;
 *  they stay in the rmap until free_pgtables() (or unlink_file_vma()/unlink_anon_vmas()). v5.8–v6.2:
 *  detach_vmas_to_be_unmapped(), one step. v6.6: do_vmi_align_munmap()'s loop, vma_start_write()
 *  and vma_mark_detached() for each, one step each after the write lock. */
export function* detach_vmas_to_be_unmapped(c: Ctx, mm: Mm, vmas: readonly Vma[]): ActorGen {
  mmap_assert_write_locked(c, mm, 'detach_vmas_to_be_unmapped()');
  if (!hasPerVmaLocks(c.m.sw)) {
    for (const v of vmas) vma_mark_detached(c, v, true);
    yield step(`detach_vmas_to_be_unmapped(): vma_rb_erase(${vmas.map((v) => `vma ${v.id}`).join(', ')})`);
    return;
  }
  for (const v of vmas) {
    yield* vma_start_write(c, v);
    vma_mark_detached(c, v, true);
    yield step(`do_vmi_align_munmap(): vma_mark_detached(vma ${v.id}, true)`);
  }
}

/** unlink_file_vma() (mm/mmap.c, v5.8–v6.6): take a file VMA out of its file's i_mmap under
 *  i_mmap_lock_write(), so rmap walkers no longer find it (one step to lock, one to unlink and drop). */
export function* unlink_file_vma(c: Ctx, vma: Vma): ActorGen {
  const mapping = mappingOf(c.m, vma);
  if (!mapping) return;
  yield* i_mmap_lock_write(c, mapping);
  vma_interval_tree_remove(c.m, vma);
  vma.inRmap = false;
  i_mmap_unlock_write(c, mapping);
  yield step(`unlink_file_vma(vma ${vma.id}): __remove_shared_vm_struct(); i_mmap_unlock_write(${mapping.i_mmap_rwsem.name})`);
}

/** unlink_anon_vmas() (mm/rmap.c): take a VMA out of its anon_vma's tree under the root's rwsem. */
export function* unlink_anon_vmas(c: Ctx, vma: Vma): ActorGen {
  if (!vma.anon_vma) return;
  const sem = anon_vma_lockptr(c.m, vma);
  yield* down_write(c, sem);
  anon_vma_interval_tree_remove(c.m, vma);
  vma.inRmap = false;
  up_write(c, sem);
  yield step(`unlink_anon_vmas(vma ${vma.id}): anon_vma_interval_tree_remove(); anon_vma_unlock_write(${sem.name})`);
}
