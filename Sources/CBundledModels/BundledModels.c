#include <string.h>
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
    "    .balign 16\n"
    "vqz_prior_pixelcnn_begin:\n"
    "    .incbin \"prior-pixelcnn.safetensors\"\n"
    "vqz_prior_pixelcnn_end:\n"
    "    .balign 16\n"
    "vqz_prior_transformer_begin:\n"
    "    .incbin \"prior-transformer.safetensors\"\n"
    "vqz_prior_transformer_end:\n"
    "    .balign 16\n"
    "vqz_prior_context_begin:\n"
    "    .incbin \"prior-context.safetensors\"\n"
    "vqz_prior_context_end:\n"
    "    .previous\n");

extern const unsigned char vqz_tokenizer_begin[];
extern const unsigned char vqz_tokenizer_end[];
extern const unsigned char vqz_prior_pixelcnn_begin[];
extern const unsigned char vqz_prior_pixelcnn_end[];
extern const unsigned char vqz_prior_transformer_begin[];
extern const unsigned char vqz_prior_transformer_end[];
extern const unsigned char vqz_prior_context_begin[];
extern const unsigned char vqz_prior_context_end[];

const unsigned char *vqz_bundled_tokenizer(size_t *size) {
    *size = (size_t)(vqz_tokenizer_end - vqz_tokenizer_begin);
    return vqz_tokenizer_begin;
}

/* An empty weights file (a build made before the priors were trained) gives NULL. */
const unsigned char *vqz_bundled_prior(const char *kind, size_t *size) {
    const unsigned char *begin = NULL, *end = NULL;
    if (strcmp(kind, "pixelcnn") == 0) {
        begin = vqz_prior_pixelcnn_begin;
        end = vqz_prior_pixelcnn_end;
    } else if (strcmp(kind, "transformer") == 0) {
        begin = vqz_prior_transformer_begin;
        end = vqz_prior_transformer_end;
    } else if (strcmp(kind, "context") == 0) {
        begin = vqz_prior_context_begin;
        end = vqz_prior_context_end;
    }
    *size = begin ? (size_t)(end - begin) : 0;
    return *size > 0 ? begin : NULL;
}
