// Zeroed buffers for the engine's workspace, on transparent huge pages where the kernel offers them.
//
// Why: the fused engine's workspace is tens of megabytes that every training step writes and reads
// (activations kept for the backward pass, projections, attention weights). On 4 KiB pages a tile of
// 256 rows touches 64 pages; with THP in its common `madvise` mode those buffers get 2 MiB pages only
// when asked for (benchmarks/RESULTS.md, "The workspace on huge pages").
#include "CMeanFieldSupport.h"
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

void *mf_allocate_zeroed(unsigned long bytes, unsigned long *huge_page_bytes) {
    *huge_page_bytes = 0;
    if (bytes == 0) bytes = 1;
    void *buffer = 0;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (bytes >= MF_HUGE_PAGE_BYTES) {
        // Whole huge pages, aligned to one, advised before the first touch (the memset faults them in).
        unsigned long rounded = (bytes + MF_HUGE_PAGE_BYTES - 1) & ~(unsigned long)(MF_HUGE_PAGE_BYTES - 1);
        if (posix_memalign(&buffer, MF_HUGE_PAGE_BYTES, rounded) != 0) return 0;
        if (madvise(buffer, rounded, MADV_HUGEPAGE) == 0) *huge_page_bytes = rounded;
        memset(buffer, 0, rounded);
        return buffer;
    }
#endif
    if (posix_memalign(&buffer, 64, bytes) != 0) return 0;
    memset(buffer, 0, bytes);
    return buffer;
}

void mf_free(void *buffer) { free(buffer); }
