// Exposes the system zlib to Swift (module CZlib). Debian: apt install zlib1g-dev.
#include <zlib.h>
