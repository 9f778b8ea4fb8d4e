// Read-only file mappings (CMeanFieldSupport.h: mf_map_file): the safetensors reader maps a
// checkpoint instead of reading it into memory, so that reading a file of S bytes makes no copy.
#include "CMeanFieldSupport.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

void *mf_map_file(const char *path, long *size) {
    *size = -1;
    int descriptor = open(path, O_RDONLY | O_CLOEXEC);
    if (descriptor < 0) return NULL;
    struct stat info;
    if (fstat(descriptor, &info) != 0 || !S_ISREG(info.st_mode)) {
        int saved = S_ISREG(info.st_mode) ? errno : EINVAL;
        close(descriptor);
        errno = saved;
        return NULL;
    }
    if (info.st_size == 0) {
        close(descriptor);
        *size = 0;
        return NULL;
    }
    void *address = mmap(NULL, (size_t)info.st_size, PROT_READ, MAP_PRIVATE, descriptor, 0);
    int saved = errno;
    close(descriptor);   // the mapping keeps the file open
    if (address == MAP_FAILED) {
        errno = saved;
        return NULL;
    }
    *size = (long)info.st_size;
    return address;
}

void mf_unmap_file(void *address, long size) {
    if (address != NULL && size > 0) munmap(address, (size_t)size);
}
