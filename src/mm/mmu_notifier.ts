// MMU notifiers: how the mm tells secondary MMUs (KVM's shadow/TDP tables, IOMMUs sharing the page
// tables, HMM mirrors) that primary mappings change. No host TLB flush reaches a secondary MMU on any
// architecture: its subscription is all that keeps it coherent.
//
// Follows include/linux/mmu_notifier.h and mm/mmu_notifier.c:
//   v5.8–v6.5  mmu_notifier_invalidate_range_start() before the entries are cleared; ..._end() after
//              (mn_hlist_invalidate_end() also calls ->invalidate_range() unless "only_end");
//              mmu_notifier_invalidate_range() / ->invalidate_range() for subscribers that share the
//              page tables (IOMMU SVA), called with the TLB flush (tlb_flush_mmu_tlbonly(),
//              ptep_clear_flush_notify()).
//   v6.6       1af5a8109904 "mmu_notifiers: rename invalidate_range notifier" and the rest of Alistair
//              Popple's series: ->invalidate_range() becomes ->arch_invalidate_secondary_tlbs(),
//              called from the architecture's TLB flush, and invalidate_range_end() no longer calls it.
//   all        mmu_notifier_release() at the start of exit_mmap(): ->release() of each subscriber, then
//              the list is emptied (mn_hlist_release()); mmu_notifier_clear_flush_young() after
//              ptep_clear_flush_young() (ptep_clear_flush_young_notify()).
//
// Each mm_has_notifiers() check is free: with no subscriber a call takes no step, so that schedules
// and traces of scenarios without a secondary MMU are what they were before notifiers existed. With
// one, its callbacks run in the caller's context and take steps (KVM takes kvm->mmu_lock).

import { down_write, up_write } from './locks.js';
import { anon_vma_lockptr } from './vma.js';
import type { Stepper } from './pgtable.js';
import { step, type ActorGen, type Ctx } from './step.js';
import { eraAtLeast } from './switches.js';
import type { Mm, RwSem, SecondaryMmu } from './types.js';
import { traceOnly } from './events.js';

/** enum mmu_notifier_event: why the range is invalidated. */
export type MmuNotifyEvent = 'MMU_NOTIFY_UNMAP' | 'MMU_NOTIFY_CLEAR' | 'MMU_NOTIFY_PROTECTION_VMA' | 'MMU_NOTIFY_PROTECTION_PAGE' | 'MMU_NOTIFY_RELEASE';

/** struct mmu_notifier_range. [start, end) in pages. */
export interface MmuNotifierRange {
  readonly mm: Mm;
  readonly start: number;
  readonly end: number;
  readonly event: MmuNotifyEvent;
}

/** A subscription (struct mmu_notifier) with its ops bound to the subscriber (container_of() in C: here
 *  the callbacks close over their own state). Every callback runs in the caller's context `c` and may
 *  take steps; a callback the subscriber does not implement is absent. */
export interface MmuNotifier {
  readonly name: string;
  /** The secondary MMU whose mappings it keeps coherent (the oracle checks them), if any. */
  readonly smmu: SecondaryMmu | null;
  /** ->release(): the mm is being torn down; tear down every secondary mapping. */
  readonly release?: (c: Ctx, mm: Mm) => ActorGen;
  /** ->invalidate_range_start(): the entries in the range are about to be cleared. */
  readonly invalidate_range_start?: (c: Ctx, range: MmuNotifierRange) => ActorGen;
  /** ->invalidate_range_end(): they have been cleared (and, in unmap_vmas(), before the flush). */
  readonly invalidate_range_end?: (c: Ctx, range: MmuNotifierRange) => ActorGen;
  /** ->invalidate_range() (≤ v6.5) / ->arch_invalidate_secondary_tlbs() (v6.6): for a secondary TLB
   *  that caches the primary tables themselves, at the primary TLB flush. */
  readonly invalidate_range?: (c: Ctx, mm: Mm, start: number, end: number) => ActorGen;
  /** ->clear_flush_young(): test and clear the accessed bit of the secondary mappings in range. */
  readonly clear_flush_young?: (c: Ctx, mm: Mm, start: number, end: number) => Stepper<boolean>;
}

/** mm_has_notifiers(). */
export function mm_has_notifiers(mm: Mm): boolean {
  return mm.notifier_subscriptions.length > 0;
}

/** mmu_notifier_range_init(). */
export function mmu_notifier_range_init(event: MmuNotifyEvent, mm: Mm, start: number, end: number): MmuNotifierRange {
  return { mm, start, end, event };
}

/** The era's ->invalidate_range() exists and is called from invalidate_range_end() (until v6.6). */
function endCallsInvalidateRange(c: Ctx): boolean {
  return !eraAtLeast(c.m.sw, 'v6.6');
}

function trace(c: Ctx, call: string, mm: Mm, start: number, end: number, event: string): void {
  if (traceOnly(c.m)) c.m.events.push({ e: 'mmu-notifier', call, mm: mm.id, start, end, event });
}

/** The locks mm_take_all_locks() takes besides mmap_lock: the i_mmap_rwsem of every file the mm maps
 *  and the anon_vma root lock of its anon VMAs, in the kernel's order (i_mmap_rwsem before
 *  anon_vma->rwsem). With them held
 *  no rmap walker (try_to_unmap, retract_page_tables) is between its invalidate_range_start() and
 *  _end() while the subscriber list changes. */
function allRmapLocks(c: Ctx, mm: Mm): RwSem[] {
  const files = [...new Set(mm.vmas.filter((v) => !v.detached && v.kind === 'file').map((v) => v.file))].sort((a, b) => a - b);
  const out = files.map((f) => c.m.files[f]!.i_mmap_rwsem);
  // vm_lock_anon_vma(mm, avc->anon_vma): the root's rwsem of each VMA's anon_vma, which for a fork's
  // child is the parent's (anon_vma_fork() chains the child's VMA to the parent's anon_vma tree).
  for (const v of mm.vmas) {
    if (v.detached || v.kind !== 'anon') continue;
    const l = anon_vma_lockptr(c.m, v);
    if (!out.includes(l)) out.push(l);
  }
  return out;
}

/** mmu_notifier_register() (v5.8–v6.6): mmap_write_lock(mm), mm_take_all_locks(mm), add the
 *  subscription, mm_drop_all_locks(), mmap_write_unlock(). The smmu joins the model's list of
 *  secondary MMUs, which the oracle watches. */
export function* mmu_notifier_register(c: Ctx, sub: MmuNotifier, mm: Mm = c.mm): ActorGen {
  yield* down_write(c, mm.mmap_lock);
  const locks = allRmapLocks(c, mm);
  for (const l of locks) yield* down_write(c, l);
  mm.notifier_subscriptions.push(sub);
  if (sub.smmu && !c.m.smmus.includes(sub.smmu)) c.m.smmus.push(sub.smmu);
  for (const l of [...locks].reverse()) up_write(c, l);
  up_write(c, mm.mmap_lock);
  yield step(`mmu_notifier_register(${sub.name}): hlist_add_head_rcu(); mm_drop_all_locks(); mmap_write_unlock(mm)`);
}

/** mmu_notifier_release() → __mmu_notifier_release() → mn_hlist_release(): each subscriber's
 *  ->release(), then every subscription is unhooked (hlist_del_init_rcu) and synchronize_srcu().
 *  No step without subscribers. */
export function* mmu_notifier_release(c: Ctx, mm: Mm = c.mm): ActorGen {
  if (!mm_has_notifiers(mm)) return;
  trace(c, 'release', mm, 0, 0, 'MMU_NOTIFY_RELEASE');
  for (const sub of [...mm.notifier_subscriptions]) if (sub.release) yield* sub.release(c, mm);
  mm.notifier_subscriptions.length = 0;
  yield step('mmu_notifier_release(): hlist_del_init_rcu() each subscription; synchronize_srcu()');
}

/** mmu_notifier_invalidate_range_start(): each subscriber's ->invalidate_range_start(). Must come
 *  before the entries in the range are cleared. No step without subscribers. */
export function* mmu_notifier_invalidate_range_start(c: Ctx, range: MmuNotifierRange): ActorGen {
  if (!mm_has_notifiers(range.mm)) return;
  trace(c, 'invalidate_range_start', range.mm, range.start, range.end, range.event);
  for (const sub of [...range.mm.notifier_subscriptions]) if (sub.invalidate_range_start) yield* sub.invalidate_range_start(c, range);
}

/** mmu_notifier_invalidate_range_end() (or _only_end()): until v6.6 each subscriber's
 *  ->invalidate_range() first (unless `onlyEnd`), then ->invalidate_range_end(). No step without
 *  subscribers. */
export function* mmu_notifier_invalidate_range_end(c: Ctx, range: MmuNotifierRange, onlyEnd = false): ActorGen {
  if (!mm_has_notifiers(range.mm)) return;
  trace(c, onlyEnd ? 'invalidate_range_only_end' : 'invalidate_range_end', range.mm, range.start, range.end, range.event);
  const callRange = !onlyEnd && endCallsInvalidateRange(c);
  for (const sub of [...range.mm.notifier_subscriptions]) {
    if (callRange && sub.invalidate_range) yield* sub.invalidate_range(c, range.mm, range.start, range.end);
    if (sub.invalidate_range_end) yield* sub.invalidate_range_end(c, range);
  }
}

/** mmu_notifier_invalidate_range() (≤ v6.5) / mmu_notifier_arch_invalidate_secondary_tlbs() (v6.6):
 *  each subscriber's ->invalidate_range(), with the primary TLB flush. No step without subscribers. */
export function* mmu_notifier_invalidate_range(c: Ctx, mm: Mm, start: number, end: number): ActorGen {
  if (!mm_has_notifiers(mm)) return;
  trace(c, eraAtLeast(c.m.sw, 'v6.6') ? 'arch_invalidate_secondary_tlbs' : 'invalidate_range', mm, start, end, '');
  for (const sub of [...mm.notifier_subscriptions]) if (sub.invalidate_range) yield* sub.invalidate_range(c, mm, start, end);
}

/** v6.6's name for mmu_notifier_invalidate_range(). */
export const mmu_notifier_arch_invalidate_secondary_tlbs = mmu_notifier_invalidate_range;

/** mmu_notifier_clear_flush_young(): whether any subscriber saw an access in [start, end) since the
 *  last call, clearing what it saw. 0 without subscribers, and no step. */
export function* mmu_notifier_clear_flush_young(c: Ctx, mm: Mm, start: number, end: number): Stepper<boolean> {
  if (!mm_has_notifiers(mm)) return false;
  trace(c, 'clear_flush_young', mm, start, end, '');
  let young = false;
  for (const sub of [...mm.notifier_subscriptions]) if (sub.clear_flush_young && (yield* sub.clear_flush_young(c, mm, start, end))) young = true;
  return young;
}

/** A new secondary MMU of `mm`, for a subscriber to fill (ids in order of creation). */
export function newSecondaryMmu(c: Ctx, name: string, mm: Mm = c.mm): SecondaryMmu {
  return { id: c.m.smmus.length, name, mm: mm.id, spt: [] };
}

/** Drop the secondary mappings in [start, end): what an invalidate callback does. Returns how many. */
export function smmu_zap_range(c: Ctx, smmu: SecondaryMmu, start: number, end: number): number {
  let j = 0;
  const before = smmu.spt.length;
  for (const s of smmu.spt) if (s.addr < start || s.addr >= end) smmu.spt[j++] = s;
  smmu.spt.length = j;
  const dropped = before - j;
  if (traceOnly(c.m)) c.m.events.push({ e: 'smmu-zap', smmu: smmu.id, start, end, dropped });
  return dropped;
}

/** Install a secondary mapping of `addr` to `pfn` as the frame is now (mmu_set_spte()). */
export function smmu_install(c: Ctx, smmu: SecondaryMmu, addr: number, pfn: number): void {
  const f = c.m.frames[pfn];
  const gen = f ? f.gen : -1;
  const i = smmu.spt.findIndex((s) => s.addr === addr);
  const spte = { addr, pfn, gen, young: true };
  if (i >= 0) smmu.spt[i] = spte;
  else smmu.spt.push(spte);
  c.m.events.push({ e: 'smmu-fill', smmu: smmu.id, mm: smmu.mm, addr, pfn });
}
