#include <zlib.h>
/* inflateInit2 is a macro; Swift cannot call it. Raw deflate (no zlib header), as in zip files. */
static inline int vigil_inflate_init_raw(z_stream *stream) { return inflateInit2(stream, -MAX_WBITS); }
