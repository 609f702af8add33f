// Anchors the error header in a translation unit so the tokenizer library always has one source file.
#include "distilbert/core/error.h"
