// A secondary MMU: a KVM guest whose memory is this mm (the VMM process), run by one vCPU thread.
// KVM mirrors host mappings into its own page tables (sptes), which no host TLB flush reaches: only
// its mmu_notifier keeps them coherent. The guest touches one address; a miss is a KVM page fault.
//
// Fault path (arch/x86/kvm/mmu/mmu.c direct_page_fault(), v5.10; kvm_faultin_pfn() and
// is_page_fault_stale(), v6.6):
//   mmu_seq = kvm->mmu_notifier_seq (v6.0+: mmu_invalidate_seq, 20ec3ebd707c); smp_rmb();
//   pfn = gfn_to_pfn(): hva_to_pfn() → hva_to_pfn_fast() (get_user_page_fast_only(FOLL_WRITE): the
//         GUP-fast walk, IRQs off) or hva_to_pfn_slow() (get_user_pages_unlocked(): mmap_lock read,
//         follow_page_mask()); either takes a page reference;
//   spin_lock(&kvm->mmu_lock) (v6.6: write_lock, or read_lock for the TDP MMU: modelled as one
//         exclusive lock, which only serializes faults with each other more than v6.6 does);
//   if (mmu_notifier_retry(kvm, mmu_seq)) → RET_PF_RETRY (v5.13+: mmu_notifier_retry_hva(), which
//         only retries while an invalidation in progress covers the hva; v6.0+ mmu_invalidate_retry_hva());
//   else __direct_map() / kvm_tdp_mmu_map(): install the spte;
//   spin_unlock(&kvm->mmu_lock); kvm_release_pfn_clean(pfn): the reference is dropped. KVM keeps no
//         reference for its mapping (v5.10 and v6.6 alike): it relies on the notifier to drop the spte
//         before the page can be freed.
// Notifier (virt/kvm/kvm_main.c, v5.10): invalidate_range_start: spin_lock(mmu_lock);
//   mmu_notifier_count++; kvm_unmap_hva_range(); kvm_flush_remote_tlbs(); spin_unlock.
//   invalidate_range_end: spin_lock(mmu_lock); mmu_notifier_seq++; smp_wmb(); mmu_notifier_count--;
//   spin_unlock. release: kvm_arch_flush_shadow_all(). clear_flush_young: kvm_age_hva(), and a flush if
//   young. (v6.6: kvm_mmu_invalidate_begin()/end() under the same lock, tracking the range.)
// Not modelled: KVM's own ->invalidate_range() (the APIC access page reload), change_pte, faulting the
// page in on the slow path (a page the host does not map is left unmapped: the guest retries).

import type { ActorDef } from '../actor.js';
import { NR_PAGES } from '../entries.js';
import { smmuAccessSuspect, traceOnly } from '../events.js';
import { frameOf, put_page } from '../frames.js';
import { local_irq_restore, local_irq_save } from '../cpu.js';
import { down_read, spin_lock, spin_unlock, up_read } from '../locks.js';
import { find_vma } from '../model.js';
import {
  mmu_notifier_register, newSecondaryMmu, smmu_install, smmu_zap_range, type MmuNotifier, type MmuNotifierRange,
} from '../mmu_notifier.js';
import type { Stepper } from '../pgtable.js';
import { type ActorGen, call, type Ctx, step } from '../step.js';
import { eraAtLeast, has } from '../switches.js';
import { NOBODY, type Mm, type SecondaryMmu, type SpinLock } from '../types.js';
import { follow_page_mask } from './follow_page.js';
import { gup_pgd_range } from './gup_fast.js';

/** struct kvm, what of it the MMU notifier protocol uses. */
export interface Kvm {
  readonly smmu: SecondaryMmu;
  readonly mmu_lock: SpinLock;
  /** kvm->mmu_notifier_seq (v6.0+: mmu_invalidate_seq): bumped at each invalidate_range_end. */
  seq: number;
  /** kvm->mmu_notifier_count (v6.0+: mmu_invalidate_in_progress). */
  in_progress: number;
  /** v5.13+: the union of the ranges being invalidated (mmu_notifier_range_start/_end). */
  range_start: number;
  range_end: number;
}

/** The ranged retry (mmu_notifier_retry_hva(), 4a42d848db2b, v5.13) is in the model's eras from v6.2. */
function rangedRetry(c: Ctx): boolean {
  return eraAtLeast(c.m.sw, 'v6.2');
}

const SEQ = (c: Ctx) => (eraAtLeast(c.m.sw, 'v6.2') ? 'mmu_invalidate_seq' : 'mmu_notifier_seq');
const COUNT = (c: Ctx) => (eraAtLeast(c.m.sw, 'v6.2') ? 'mmu_invalidate_in_progress' : 'mmu_notifier_count');

/** mmu_notifier_retry() / mmu_invalidate_retry_hva(): must the fault that read `mmu_seq` retry? Caller
 *  holds kvm->mmu_lock. */
export function mmu_notifier_retry(c: Ctx, kvm: Kvm, mmu_seq: number, hva: number): boolean {
  if (kvm.in_progress > 0 && (!rangedRetry(c) || (hva >= kvm.range_start && hva < kvm.range_end))) return true;
  return kvm.seq !== mmu_seq;
}

/** kvm_unmap_hva_range() / kvm_unmap_gfn_range(), and kvm_flush_remote_tlbs(): the guest's TLB is the
 *  spt itself in the model. */
function kvm_unmap_hva_range(c: Ctx, kvm: Kvm, start: number, end: number): number {
  return smmu_zap_range(c, kvm.smmu, start, end);
}

/** KVM's mmu_notifier_ops, bound to `kvm`. */
export function kvmNotifier(kvm: Kvm): MmuNotifier {
  return {
    name: `kvm${kvm.smmu.id}`,
    smmu: kvm.smmu,
    *invalidate_range_start(c: Ctx, r: MmuNotifierRange): ActorGen {
      yield* spin_lock(c, kvm.mmu_lock);
      kvm.in_progress++;
      if (rangedRetry(c)) {
        // kvm_mmu_invalidate_begin(): the first invalidation sets the range, later ones widen it.
        if (kvm.in_progress === 1) {
          kvm.range_start = r.start;
          kvm.range_end = r.end;
        } else {
          kvm.range_start = Math.min(kvm.range_start, r.start);
          kvm.range_end = Math.max(kvm.range_end, r.end);
        }
      }
      const n = kvm_unmap_hva_range(c, kvm, r.start, r.end);
      spin_unlock(c, kvm.mmu_lock);
      yield step(`kvm_mmu_notifier_invalidate_range_start([${r.start}, ${r.end})): ${COUNT(c)}++; kvm_unmap_hva_range(): ${n} spte(s)${n ? '; kvm_flush_remote_tlbs()' : ''}; spin_unlock(${kvm.mmu_lock.name})`);
    },
    *invalidate_range_end(c: Ctx, r: MmuNotifierRange): ActorGen {
      yield* spin_lock(c, kvm.mmu_lock);
      kvm.seq++;
      kvm.in_progress--;
      if (kvm.in_progress < 0) c.m.events.push({ e: 'bug', msg: `kvm_mmu_notifier_invalidate_range_end(): BUG_ON(kvm->${COUNT(c)} < 0)` });
      spin_unlock(c, kvm.mmu_lock);
      yield step(`kvm_mmu_notifier_invalidate_range_end([${r.start}, ${r.end})): ${SEQ(c)}++; smp_wmb(); ${COUNT(c)}--; spin_unlock(${kvm.mmu_lock.name})`);
    },
    *release(c: Ctx): ActorGen {
      yield* spin_lock(c, kvm.mmu_lock);
      const n = kvm_unmap_hva_range(c, kvm, 0, Infinity);
      spin_unlock(c, kvm.mmu_lock);
      yield step(`kvm_mmu_notifier_release(): kvm_arch_flush_shadow_all(): ${n} spte(s); spin_unlock(${kvm.mmu_lock.name})`);
    },
    *clear_flush_young(c: Ctx, _mm: Mm, start: number, end: number): Stepper<boolean> {
      yield* spin_lock(c, kvm.mmu_lock);
      let young = false;
      for (const s of kvm.smmu.spt) {
        if (s.addr < start || s.addr >= end || !s.young) continue;
        young = true;
        s.young = false;
      }
      spin_unlock(c, kvm.mmu_lock);
      yield step(`kvm_mmu_notifier_clear_flush_young(): kvm_age_hva() = ${young ? 1 : 0}${young ? '; kvm_flush_remote_tlbs()' : ''}; spin_unlock(${kvm.mmu_lock.name})`);
      return young;
    },
  };
}

/** kvm_create_vm() → kvm_init_mmu_notifier(): a new VM of this mm, its notifier registered. */
export function* kvm_create_vm(c: Ctx): Stepper<Kvm> {
  const smmu = newSecondaryMmu(c, `kvm${c.m.smmus.length}`);
  const kvm: Kvm = { smmu, mmu_lock: { name: smmu.id === 0 ? 'kvm->mmu_lock' : `kvm${smmu.id}->mmu_lock`, owner: NOBODY }, seq: 0, in_progress: 0, range_start: 0, range_end: 0 };
  yield* mmu_notifier_register(c, kvmNotifier(kvm));
  return kvm;
}

/** hva_to_pfn_fast(): get_user_page_fast_only(hva, FOLL_WRITE): the GUP-fast walk with IRQs off. */
function* hva_to_pfn_fast(c: Ctx, hva: number): Stepper<number | null> {
  const irqs = !has(c.m.sw, 'gup-fast-no-irq-disable');
  const flags = irqs ? local_irq_save(c) : false;
  if (irqs) yield step('hva_to_pfn_fast(): get_user_page_fast_only(): local_irq_save(flags)');
  const page = yield* gup_pgd_range(c, hva, true);
  if (irqs) {
    local_irq_restore(c, flags);
    yield step(`hva_to_pfn_fast(): local_irq_restore(flags)${page === null ? ': no page' : ''}`);
  }
  return page;
}

/** hva_to_pfn_slow(): get_user_pages_unlocked(): follow_page_mask() under mmap_lock read. A page the
 *  host does not map is not faulted in (not modelled): no page. */
function* hva_to_pfn_slow(c: Ctx, hva: number): Stepper<number | null> {
  yield* down_read(c, c.mm.mmap_lock);
  // An external GUP user without FOLL_FORCE: it honors NUMA hinting faults at every era.
  const page = find_vma(c.mm, hva) ? yield* call(follow_page_mask(c, hva, { honorNumaFault: true })) : null;
  up_read(c, c.mm.mmap_lock);
  yield step(`hva_to_pfn_slow(): get_user_pages_unlocked(): mmap_read_unlock(mm)${page === null ? ': no page' : ''}`);
  return page;
}

/** hva_to_pfn(): the page now mapped at `hva`, with a reference, or null. */
export function* hva_to_pfn(c: Ctx, hva: number): Stepper<number | null> {
  return (yield* call(hva_to_pfn_fast(c, hva))) ?? (yield* call(hva_to_pfn_slow(c, hva)));
}

export type FaultResult = 'mapped' | 'retry' | 'no-page';

/** A KVM page fault on `hva`: direct_page_fault() (v5.10) / kvm_tdp_page_fault() (v6.6). `noRetry`
 *  leaves out the mmu_notifier_retry() check (a test's wrong KVM). */
export function* kvm_page_fault(c: Ctx, kvm: Kvm, hva: number, noRetry = false): Stepper<FaultResult> {
  const mmu_seq = kvm.seq;
  yield step(`direct_page_fault(): mmu_seq = kvm->${SEQ(c)} (${mmu_seq}); smp_rmb()`);
  const pfn = yield* call(hva_to_pfn(c, hva));
  if (pfn === null) {
    yield step(`direct_page_fault(${hva}): no host page (faulting it in is not modelled): RET_PF_RETRY`);
    return 'no-page';
  }
  yield* spin_lock(c, kvm.mmu_lock);
  if (!noRetry && mmu_notifier_retry(c, kvm, mmu_seq, hva)) {
    spin_unlock(c, kvm.mmu_lock);
    put_page(c.m, pfn);
    yield step(`direct_page_fault(): ${rangedRetry(c) ? 'mmu_invalidate_retry_hva()' : 'mmu_notifier_retry()'}: invalidated meanwhile: spin_unlock(${kvm.mmu_lock.name}); kvm_release_pfn_clean(${pfn}); RET_PF_RETRY`);
    return 'retry';
  }
  smmu_install(c, kvm.smmu, hva, pfn);
  spin_unlock(c, kvm.mmu_lock);
  yield step(`__direct_map(): mmu_set_spte(${hva} → ${pfn}); spin_unlock(${kvm.mmu_lock.name})`);
  put_page(c.m, pfn);
  yield step(`kvm_release_pfn_clean(${pfn})`);
  return 'mapped';
}

/** The guest accesses `hva` through its spte: the access the oracle checks. Null on a miss. */
export function guest_access(c: Ctx, kvm: Kvm, hva: number): number | null {
  const s = kvm.smmu.spt.find((x) => x.addr === hva);
  if (!s) return null;
  s.young = true;
  const f = frameOf(c.m, s.pfn);
  if (traceOnly(c.m) || smmuAccessSuspect(s.gen, f.kind, f.gen)) {
    c.m.events.push({ e: 'smmu-access', smmu: kvm.smmu.id, addr: hva, pfn: s.pfn, gen: s.gen, frameKind: f.kind, frameGen: f.gen });
  }
  return s.pfn;
}

export const kvm: ActorDef = {
  name: 'kvm',
  summary: 'a KVM vCPU: registers an mmu_notifier, then the guest touches one address through its sptes, faulting them in with the mmu_notifier_seq retry',
  follows: 'virt/kvm/kvm_main.c kvm_mmu_notifier_*(), hva_to_pfn(); arch/x86/kvm/mmu/mmu.c direct_page_fault(); v5.10 (mmu_notifier_retry) and v6.2/v6.6 (mmu_invalidate_retry_hva)',
  inMm: true,
  daemon: 'no',
  params: [
    { name: 'addr', min: 0, max: NR_PAGES - 1, default: 0, doc: 'the guest-physical page, mapped 1:1 to this host address (page index)' },
    { name: 'accesses', min: 1, max: 4, default: 2, doc: 'how many times the guest touches it (a miss is a KVM page fault)' },
  ],
  *run(c, args) {
    const hva = args['addr'] ?? 0;
    const n = args['accesses'] ?? 2;
    const vm = yield* kvm_create_vm(c);
    for (let i = 0; i < n; i++) {
      const pfn = guest_access(c, vm, hva);
      if (pfn !== null) {
        yield step(`guest access to ${hva} through the spte → frame ${pfn}`);
        continue;
      }
      yield* call(kvm_page_fault(c, vm, hva));
    }
  },
};
