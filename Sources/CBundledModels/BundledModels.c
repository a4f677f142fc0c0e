#include <string.h>
#include "CBundledModels.h"

/* .incbin copies each weights file into the object at assembly time; the files are found through
   the target's header search path (weights/). A Swift array literal of a few MiB would take the
   compiler minutes; this takes none. After retraining, write the new file's digest in the table
   below (BundledWeightsTests prints it), which also makes the build pick the new weights up (the
   build system does not see .incbin's input). */
__asm__(
    "    .section .rodata\n"
    "    .balign 16\n"
    "vqz_tokenizer_begin:\n"
    "    .incbin \"tokenizer.safetensors\"\n"
    "vqz_tokenizer_end:\n"
    "    .balign 16\n"
    "vqz_tokenizer_v1_begin:\n"
    "    .incbin \"tokenizer-v1.safetensors\"\n"
    "vqz_tokenizer_v1_end:\n"
    "    .balign 16\n"
    "vqz_tokenizer_shapes_begin:\n"
    "    .incbin \"tokenizer-shapes.safetensors\"\n"
    "vqz_tokenizer_shapes_end:\n"
    "    .balign 16\n"
    "vqz_prior_pixelcnn_begin:\n"
    "    .incbin \"prior-pixelcnn.safetensors\"\n"
    "vqz_prior_pixelcnn_end:\n"
    "    .balign 16\n"
    "vqz_prior_transformer_begin:\n"
    "    .incbin \"prior-transformer.safetensors\"\n"
    "vqz_prior_transformer_end:\n"
    "    .balign 16\n"
    "vqz_prior_masked_begin:\n"
    "    .incbin \"prior-masked.safetensors\"\n"
    "vqz_prior_masked_end:\n"
    "    .balign 16\n"
    "vqz_prior_context_begin:\n"
    "    .incbin \"prior-context.safetensors\"\n"
    "vqz_prior_context_end:\n"
    "    .balign 16\n"
    "vqz_prior_context_v1_begin:\n"
    "    .incbin \"prior-context-v1.safetensors\"\n"
    "vqz_prior_context_v1_end:\n"
    "    .balign 16\n"
    "vqz_text_begin:\n"
    "    .incbin \"text-shapes.safetensors\"\n"
    "vqz_text_end:\n"
    "    .balign 16\n"
    "vqz_reranker_begin:\n"
    "    .incbin \"reranker-shapes.safetensors\"\n"
    "vqz_reranker_end:\n"
    "    .previous\n");

extern const unsigned char vqz_tokenizer_begin[];
extern const unsigned char vqz_tokenizer_end[];
extern const unsigned char vqz_tokenizer_v1_begin[];
extern const unsigned char vqz_tokenizer_v1_end[];
extern const unsigned char vqz_tokenizer_shapes_begin[];
extern const unsigned char vqz_tokenizer_shapes_end[];
extern const unsigned char vqz_prior_pixelcnn_begin[];
extern const unsigned char vqz_prior_pixelcnn_end[];
extern const unsigned char vqz_prior_transformer_begin[];
extern const unsigned char vqz_prior_transformer_end[];
extern const unsigned char vqz_prior_masked_begin[];
extern const unsigned char vqz_prior_masked_end[];
extern const unsigned char vqz_prior_context_begin[];
extern const unsigned char vqz_prior_context_end[];
extern const unsigned char vqz_prior_context_v1_begin[];
extern const unsigned char vqz_prior_context_v1_end[];
extern const unsigned char vqz_text_begin[];
extern const unsigned char vqz_text_end[];
extern const unsigned char vqz_reranker_begin[];
extern const unsigned char vqz_reranker_end[];

/* Each file's FNV-1a 128 (what .vqz files and priors name it by), written here so that a process
   need not hash megabytes to know it; BundledWeightsTests checks every one against the bytes. */
static const struct {
    const char *name;
    const unsigned char *begin, *end;
    const char *digest;
} bundled[] = {
    {"tokenizer", vqz_tokenizer_begin, vqz_tokenizer_end, "892a9262e317a171a34c1cd6fb62d467"},
    {"tokenizer-v1", vqz_tokenizer_v1_begin, vqz_tokenizer_v1_end, "046cbd05abc6f0e87642aba4b29a3898"},
    {"tokenizer-shapes", vqz_tokenizer_shapes_begin, vqz_tokenizer_shapes_end, "5a8396dc46a103f55650e30e492b224e"},
    {"prior-pixelcnn", vqz_prior_pixelcnn_begin, vqz_prior_pixelcnn_end, "5364ffe381df3b31702702d903f4fa10"},
    {"prior-transformer", vqz_prior_transformer_begin, vqz_prior_transformer_end, "a942cb8e63f2ad5ab20a6800ef6f0fa3"},
    {"prior-masked", vqz_prior_masked_begin, vqz_prior_masked_end, "02049ce485a17b26b626bc3467aaeb05"},
    {"prior-context", vqz_prior_context_begin, vqz_prior_context_end, "395fa0ecc56caa71226a95af28d45542"},
    {"prior-context-v1", vqz_prior_context_v1_begin, vqz_prior_context_v1_end, "f3e831daf99a42b12b0c724025d66cfe"},
    {"text-shapes", vqz_text_begin, vqz_text_end, "879b6e13e650d671703843255b6610d4"},
    {"reranker-shapes", vqz_reranker_begin, vqz_reranker_end, "2cf39b149b8f6c891b1e0bc2a1263302"},
};

/* An empty weights file (a build made before that model was trained) gives NULL. */
const unsigned char *vqz_bundled_weights(const char *name, size_t *size) {
    *size = 0;
    for (size_t i = 0; i < sizeof bundled / sizeof bundled[0]; i++) {
        if (strcmp(name, bundled[i].name) == 0) {
            *size = (size_t)(bundled[i].end - bundled[i].begin);
            return *size > 0 ? bundled[i].begin : NULL;
        }
    }
    return NULL;
}

const char *vqz_bundled_weights_digest(const char *name) {
    for (size_t i = 0; i < sizeof bundled / sizeof bundled[0]; i++) {
        if (strcmp(name, bundled[i].name) == 0) return bundled[i].end > bundled[i].begin ? bundled[i].digest : NULL;
    }
    return NULL;
}

const char *vqz_bundled_weights_name(size_t index) {
    return index < sizeof bundled / sizeof bundled[0] ? bundled[index].name : NULL;
}
