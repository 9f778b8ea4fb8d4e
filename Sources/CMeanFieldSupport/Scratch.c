// A tiny thread-safe cache of large aligned buffers, reused across GEMM calls.
#include "CMeanFieldSupport.h"
#include <pthread.h>
#include <stdlib.h>

#define MF_SCRATCH_SLOTS 8

static pthread_mutex_t scratch_lock = PTHREAD_MUTEX_INITIALIZER;
static void *cached_buffers[MF_SCRATCH_SLOTS];
static unsigned long cached_capacities[MF_SCRATCH_SLOTS];

// One buffer per thread, taken and given back without a lock: batched small GEMMs on two threads
// would otherwise contend on `scratch_lock` for every product.
static _Thread_local void *thread_buffer;
static _Thread_local unsigned long thread_capacity;
#define MF_THREAD_BUFFER_MAX (1UL << 20)

void *mf_scratch_acquire(unsigned long bytes, unsigned long *capacity) {
    if (thread_buffer && thread_capacity >= bytes) {
        void *buffer = thread_buffer;
        *capacity = thread_capacity;
        thread_buffer = 0;
        return buffer;
    }
    pthread_mutex_lock(&scratch_lock);
    int best = -1;
    for (int slot = 0; slot < MF_SCRATCH_SLOTS; slot++) {
        if (cached_buffers[slot] && cached_capacities[slot] >= bytes &&
            (best < 0 || cached_capacities[slot] < cached_capacities[best])) best = slot;
    }
    if (best >= 0) {
        void *buffer = cached_buffers[best];
        *capacity = cached_capacities[best];
        cached_buffers[best] = 0;
        pthread_mutex_unlock(&scratch_lock);
        return buffer;
    }
    pthread_mutex_unlock(&scratch_lock);
    unsigned long rounded = (bytes + 4095) & ~4095UL;
    if (rounded == 0) rounded = 4096;
    void *buffer = 0;
    if (posix_memalign(&buffer, 64, rounded) != 0) return 0;
    *capacity = rounded;
    return buffer;
}

void mf_scratch_release(void *buffer, unsigned long capacity) {
    if (!buffer) return;
    if (capacity <= MF_THREAD_BUFFER_MAX && (!thread_buffer || thread_capacity < capacity)) {
        void *previous = thread_buffer;
        unsigned long previous_capacity = thread_capacity;
        thread_buffer = buffer;
        thread_capacity = capacity;
        if (!previous) return;
        buffer = previous; // hand the smaller one to the shared cache
        capacity = previous_capacity;
    }
    pthread_mutex_lock(&scratch_lock);
    int victim = -1;
    for (int slot = 0; slot < MF_SCRATCH_SLOTS; slot++) {
        if (!cached_buffers[slot]) { victim = slot; break; }
    }
    if (victim < 0) { // full: evict the smallest cached buffer if this one is bigger
        victim = 0;
        for (int slot = 1; slot < MF_SCRATCH_SLOTS; slot++)
            if (cached_capacities[slot] < cached_capacities[victim]) victim = slot;
        if (cached_capacities[victim] >= capacity) { pthread_mutex_unlock(&scratch_lock); free(buffer); return; }
        free(cached_buffers[victim]);
    }
    cached_buffers[victim] = buffer;
    cached_capacities[victim] = capacity;
    pthread_mutex_unlock(&scratch_lock);
}
