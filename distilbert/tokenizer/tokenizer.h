// Umbrella header of the torch-free tokenizer library (distilbert_tokenizer).
//   bert_tokenizer.h  BertTokenizer, TokenizerConfig, EncodeOptions, AddedToken, PostProcessor
//   encoding.h        Encoding, Offset, truncation/padding helpers
//   normalizer.h      BertNormalizer, bert_pre_tokenize
//   wordpiece.h       Vocab, WordPiece
//   unicode.h         UTF-8 decoding and the Unicode character classes
//   thread_pool.h     ThreadPool used by encode_batch
#pragma once

#include "distilbert/tokenizer/bert_tokenizer.h"
#include "distilbert/tokenizer/encoding.h"
#include "distilbert/tokenizer/normalizer.h"
#include "distilbert/tokenizer/thread_pool.h"
#include "distilbert/tokenizer/unicode.h"
#include "distilbert/tokenizer/wordpiece.h"
