#ifndef VQZ_BUNDLED_MODELS_H
#define VQZ_BUNDLED_MODELS_H
#include <stddef.h>

/* The default models, embedded in the binary so that vqz is one file that works with no flag.
   Names: "tokenizer" (photos), "tokenizer-v1" (the first photo tokenizer, for the files it wrote
   and the generation priors) and "tokenizer-shapes" (the scenes of text-prompted generation); the
   entropy priors "prior-context" and "prior-context-v1" (--entropy prior, for each photo
   tokenizer's files); the generation priors "prior-pixelcnn", "prior-transformer" and
   "prior-masked"; "text-shapes" (the text-to-image model) and "reranker-shapes". NULL (and *size 0)
   for a name this build has no weights for. */
const unsigned char *vqz_bundled_weights(const char *name, size_t *size);
/* The FNV-1a 128 of the weights `name`, 32 lowercase hex digits, as recorded beside them; NULL
   where vqz_bundled_weights is. */
const char *vqz_bundled_weights_digest(const char *name);
/* The index-th name of the table above (weights or not), NULL past its end: `vqz --version` lists them. */
const char *vqz_bundled_weights_name(size_t index);

#endif
