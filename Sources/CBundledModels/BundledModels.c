#include "CBundledModels.h"

/* .incbin copies the weights file into the object at assembly time; the file is found through
   the target's header search path (weights/). A Swift array literal of a few MiB would take the
   compiler minutes; this takes none. After retraining, touch this file so the build picks the
   new weights up (the build system does not see .incbin's input). */
__asm__(
    "    .section .rodata\n"
    "    .balign 16\n"
    "vqz_tokenizer_begin:\n"
    "    .incbin \"tokenizer.safetensors\"\n"
    "vqz_tokenizer_end:\n"
    "    .previous\n");

extern const unsigned char vqz_tokenizer_begin[];
extern const unsigned char vqz_tokenizer_end[];

const unsigned char *vqz_bundled_tokenizer(size_t *size) {
    *size = (size_t)(vqz_tokenizer_end - vqz_tokenizer_begin);
    return vqz_tokenizer_begin;
}
