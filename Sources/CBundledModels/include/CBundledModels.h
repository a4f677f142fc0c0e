#ifndef VQZ_BUNDLED_MODELS_H
#define VQZ_BUNDLED_MODELS_H
#include <stddef.h>

/* The default models, embedded in the binary so that vqz is one file that works with no flag. */
const unsigned char *vqz_bundled_tokenizer(size_t *size);

/* The default prior of a kind ("pixelcnn" or "transformer", or "context": the entropy prior
   of --entropy prior); NULL when this build has none. */
const unsigned char *vqz_bundled_prior(const char *kind, size_t *size);

#endif
