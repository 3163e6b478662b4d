/* Scratch memory kept by each thread from one call to the next.
 *
 * A kernel's scratch (a block of gathered columns or of products per thread, a laid-out filter
 * per call) is a few hundred KiB. malloc serves such a block by mapping fresh pages, or from a
 * heap that free then trims, so each call paid a page fault per 4 KiB page on its first write
 * (docs/computing.rst, "Memory", has the cost). As TensorFlow's and oneDNN's scratchpads, each
 * thread here keeps its blocks (a few slots, one per buffer a call holds at once) for the next
 * call, grown when a call needs more; a block above CONV1DT_SCRATCH_KEEP is let go when the
 * call is done, and a thread's blocks are freed when it exits. Without POSIX threads every block
 * is a plain allocation, freed when done.
 */
#include <stdlib.h>

#include "kernels.h"

#define CONV1DT_SCRATCH_KEEP ((size_t)16 << 20)   /* bytes a slot keeps between calls */

#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#define CONV1DT_SCRATCH_CACHED 1
#else
#define CONV1DT_SCRATCH_CACHED 0
#endif

struct slot {
    void *block;     /* 64-byte aligned, or NULL */
    size_t size;
};

#if CONV1DT_SCRATCH_CACHED
static pthread_key_t key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static int key_ok;

static void release(void *p)
{
    struct slot *slots = p;
    for (int i = 0; i < CONV1DT_SCRATCH_SLOTS; ++i)
        free(slots[i].block);
    free(slots);
}

static void make_key(void)
{
    key_ok = pthread_key_create(&key, release) == 0;
}

/* This thread's slots, made on its first call; NULL if they cannot be. */
static struct slot *slots_here(void)
{
    pthread_once(&key_once, make_key);
    if (!key_ok)
        return NULL;
    struct slot *slots = pthread_getspecific(key);
    if (slots == NULL) {
        slots = calloc(CONV1DT_SCRATCH_SLOTS, sizeof *slots);
        if (slots == NULL || pthread_setspecific(key, slots) != 0) {
            free(slots);
            return NULL;
        }
    }
    return slots;
}
#endif

static void *aligned_block(size_t bytes)
{
    void *p = NULL;
#if CONV1DT_SCRATCH_CACHED
    if (posix_memalign(&p, 64, bytes ? bytes : 1) != 0)
        return NULL;
#else
    p = _aligned_malloc(bytes ? bytes : 1, 64);
#endif
    return p;
}

static void free_block(void *p)
{
#if CONV1DT_SCRATCH_CACHED
    free(p);
#else
    _aligned_free(p);
#endif
}

void *conv1dt_scratch(int slot, size_t bytes)
{
#if CONV1DT_SCRATCH_CACHED
    struct slot *slots = slots_here();
    if (slots != NULL && slot >= 0 && slot < CONV1DT_SCRATCH_SLOTS) {
        struct slot *s = &slots[slot];
        if (bytes > s->size || s->block == NULL) {
            free_block(s->block);
            s->size = bytes;
            s->block = aligned_block(bytes);
            if (s->block == NULL)
                s->size = 0;
        }
        return s->block;
    }
#endif
    (void)slot;
    return aligned_block(bytes);
}

void conv1dt_scratch_done(int slot, void *block)
{
#if CONV1DT_SCRATCH_CACHED
    struct slot *slots = key_ok ? pthread_getspecific(key) : NULL;
    if (slots != NULL && slot >= 0 && slot < CONV1DT_SCRATCH_SLOTS && slots[slot].block == block) {
        if (slots[slot].size > CONV1DT_SCRATCH_KEEP) {
            free_block(block);
            slots[slot].block = NULL;
            slots[slot].size = 0;
        }
        return;
    }
#endif
    (void)slot;
    free_block(block);
}

size_t conv1dt_scratch_kept(void)
{
    size_t bytes = 0;
#if CONV1DT_SCRATCH_CACHED
    struct slot *slots = key_ok ? pthread_getspecific(key) : NULL;
    for (int i = 0; slots != NULL && i < CONV1DT_SCRATCH_SLOTS; ++i)
        bytes += slots[i].size;
#endif
    return bytes;
}
