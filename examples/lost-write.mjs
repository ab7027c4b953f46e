// A collapse written the wrong way round: it copies the small page into the new huge page while the
// old pte and the TLB entries filled from it are still live. A CPU that writes through such an entry
// after the copy writes to the old page: the copy, which replaces it, never has the write.

import { copy_user_highpage, step } from 'mmfuzz';

/** @type {import('mmfuzz').ActorDef} */
export const copy_before_flush = {
  name: 'copy_before_flush',
  summary: 'copies page 3 (address 0) for a collapse before clearing and flushing its mapping (a wrong patch)',
  follows: 'mm/khugepaged.c __collapse_huge_page_copy(), v6.6, moved before pmdp_collapse_flush()',
  inMm: false,
  daemon: 'no',
  params: [],
  *run(c) {
    copy_user_highpage(c, 3, 6, 0);                  // copy_user_highpage(hpage + 0, page 3)
    yield step('__collapse_huge_page_copy(): copy_user_highpage(3 → 6+0) with the pte still live');
    yield step('pmdp_collapse_flush(): too late');
  },
};

export const actors = [copy_before_flush];
