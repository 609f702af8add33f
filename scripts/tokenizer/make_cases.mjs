// Writes tests/data/tokenizer/cases.jsonl: reference encodings of real text and edge cases for the C++
// BertTokenizer tests (tests/tokenizer/test_reference_cases.cpp).
//
// References (both read ../shared/data/bert-base-uncased/tokenizer.json, nothing is downloaded):
//   * "rust": Hugging Face `tokenizers` 0.23.2 (the Rust library through its official Node binding; the
//     npm package ships the native library). This is the library transformers' fast tokenizers run, so its
//     ids, offsets (code points), word ids, truncation/overflow and padding are the expected values.
//   * "tjs": transformers.js (@huggingface/transformers 4.3.2, pure JavaScript). Its ids/type ids/masks
//     for the untruncated encoding and its decode() are compared to the Rust ones; every disagreement is
//     recorded in the case ("tjs_ids") and listed in the summary this script prints. transformers.js
//     returns no offsets and truncates by cutting the final ids (it can drop the last [SEP]), so only the
//     Rust library is used for offsets, truncation, stride/overflow and padding.
//
// Usage (from the repository root):
//   (cd scripts/tokenizer && npm install --ignore-scripts) && node scripts/tokenizer/make_cases.mjs
//   node scripts/tokenizer/make_cases.mjs --check-saved DIR...  # load folders written by save_pretrained
//       (e.g. /tmp/distilbert_tok_tests/saved*, left by test_tokenizer) with both libraries and compare
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const shared = process.env.DISTILBERT_SHARED_DATA ?? path.resolve(repo, '..', 'shared', 'data');
const uncasedDir = path.join(shared, 'bert-base-uncased');
const outFile = path.join(repo, 'tests', 'data', 'tokenizer', 'cases.jsonl');

const require = createRequire(import.meta.url);
const { Tokenizer } = require('tokenizers');
const { AutoTokenizer, env } = await import('@huggingface/transformers');

// transformers.js: local files only, from a temp folder holding a symlink to the shared tokenizer folder.
async function loadTjs(dir) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tjs-models-'));
  fs.symlinkSync(path.resolve(dir), path.join(root, 'model'));
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = root + path.sep;
  env.useFSCache = false;
  return AutoTokenizer.from_pretrained('model');
}

// ---------------------------------------------------------------------------------------------------------
// Reference encoding with the Rust library.

function rustEncoding(e, withOffsets = true) {
  const o = {
    ids: e.getIds(),
    type_ids: e.getTypeIds(),
    attention_mask: e.getAttentionMask(),
    special_tokens_mask: e.getSpecialTokensMask(),
    word_ids: e.getWordIds().map((w) => (w === null || w === undefined ? -1 : w)),
  };
  if (withOffsets) o.offsets = e.getOffsets().flat();
  return o;
}

function setPadding(tok, opt) {
  if (!opt.padding) return;
  const p = { direction: opt.padding_side === 'left' ? 'left' : 'right', padId: 0, padToken: '[PAD]' };
  if (opt.padding === 'max_length') p.maxLength = opt.max_length;
  if (opt.pad_to_multiple_of) p.padToMultipleOf = opt.pad_to_multiple_of;
  tok.setPadding(p);
}

// Target lengths of utils/truncation.rs truncate_encodings (a line-by-line port; see the note in
// rustEncodeTruncated for why it is needed).
let crossChecked = 0;

function truncationLengths(la, lb, budget, strategy) {
  if (budget === 0) return [0, lb === null ? null : 0];
  const total = la + (lb ?? 0);
  if (total <= budget) return [la, lb];
  const toRemove = total - budget;
  if (strategy === 'longest_first') {
    if (lb === null) return [total - toRemove, null];
    let n1 = la;
    let n2 = lb;
    const swap = n1 > n2;
    if (swap) [n1, n2] = [n2, n1];
    n2 = n1 > budget ? n1 : Math.max(n1, budget - n1);
    if (n1 + n2 > budget) {
      n1 = Math.floor(budget / 2);
      n2 = n1 + (budget % 2);
    }
    return swap ? [n2, n1] : [n1, n2];
  }
  if (strategy === 'only_second' && lb === null) throw new Error('Truncation error: Second sequence not provided');
  const target = strategy === 'only_first' ? la : lb;
  if (target <= toRemove) {
    throw new Error('Truncation error: Sequence to truncate too short to respect the provided max_length');
  }
  return strategy === 'only_first' ? [la - toRemove, lb] : [la, lb - toRemove];
}

// tokenizers >= 0.23.1 stops tokenizing a sequence once it has max_length tokens when truncation is on
// (the "truncation early exit", huggingface/tokenizers issue #2091, fix pending in PR #2098). That empties
// or shortens Encoding.overflowing, and for pairs it can change which sequence counts as the longer one.
// So truncated cases are built the 0.22 way from library pieces: the full encodings of each text, the
// target lengths of truncation.rs (ported above), the library's Encoding.truncate for the windows, and the
// library's postProcess for the template, the overflow combination and the padding. Where no text is
// longer than max_length the early exit cannot trigger, and the result is checked against the library's
// own truncating encode.
async function rustEncodeTruncated(tok, text, pair, opt) {
  const add = opt.add_special_tokens ?? true;
  tok.disableTruncation();
  tok.disablePadding();
  const a = await tok.encode(text, null, { addSpecialTokens: false });
  const b = pair === null || pair === undefined ? null : await tok.encode(pair, null, { addSpecialTokens: false });
  const fullA = a.getLength();
  const fullB = b ? b.getLength() : 0;
  const nAdded = add ? (b ? 3 : 2) : 0;
  const [na, nb] = truncationLengths(a.getLength(), b ? b.getLength() : null, opt.max_length - nAdded, opt.truncation);
  const dir = opt.truncation_side === 'left' ? 'left' : 'right';
  a.truncate(na, opt.stride ?? 0, dir);
  if (b) b.truncate(nb, opt.stride ?? 0, dir);
  setPadding(tok, opt);
  const e = tok.postProcess(a, b, add);
  tok.disablePadding();
  const fix = (enc) => {
    const o = rustEncoding(enc);
    // Separately encoded second texts carry type id 0 in their windows; in a real pair encode they carry 1.
    if (b) {
      const seq = enc.getSequenceIds();
      o.type_ids = o.type_ids.map((t, i) => (seq[i] === 1 ? 1 : t));
    }
    return o;
  };
  const out = fix(e);
  if (opt.overflow) out.overflowing = e.getOverflowing().map(fix);

  // Cross-check against the library's own truncating encode where the early exit cannot trigger.
  if (fullA <= opt.max_length && fullB <= opt.max_length) {
    const direct = await rustEncodeDirect(tok, text, pair, opt);
    const key = (o) => JSON.stringify([o.ids, o.type_ids, o.offsets, o.word_ids, (o.overflowing ?? []).map((w) => [w.ids, w.type_ids])]);
    if (key(direct) !== key(out)) throw new Error(`assembled truncation differs from the library for ${JSON.stringify(text)}`);
    crossChecked += 1;
  }
  return out;
}

async function rustEncodeDirect(tok, text, pair, opt) {
  tok.disableTruncation();
  tok.disablePadding();
  if (opt.truncation) {
    tok.setTruncation(opt.max_length, {
      strategy: { longest_first: 'LongestFirst', only_first: 'OnlyFirst', only_second: 'OnlySecond' }[opt.truncation],
      stride: opt.stride ?? 0,
      direction: opt.truncation_side === 'left' ? 'left' : 'right',
    });
  }
  setPadding(tok, opt);
  try {
    const e = await tok.encode(text, pair ?? null, { addSpecialTokens: opt.add_special_tokens ?? true });
    const out = rustEncoding(e);
    if (opt.overflow) out.overflowing = e.getOverflowing().map((o) => rustEncoding(o));
    return out;
  } finally {
    tok.disableTruncation();
    tok.disablePadding();
  }
}

async function rustEncode(tok, text, pair, opt) {
  return opt.truncation ? rustEncodeTruncated(tok, text, pair, opt) : rustEncodeDirect(tok, text, pair, opt);
}

// ---------------------------------------------------------------------------------------------------------
// Inputs.

function readLines(file) {
  return fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '').split('\n');
}

function pickEvenly(items, n) {
  if (items.length <= n) return items;
  const out = [];
  for (let i = 0; i < n; ++i) out.push(items[Math.floor((i * items.length) / n)]);
  return out;
}

function realInputs() {
  const cases = [];
  // SST-2 dev: "sentence\tlabel".
  const sst = readLines(path.join(shared, 'glue', 'SST-2', 'dev.tsv'))
    .slice(1)
    .filter((l) => l.includes('\t'))
    .map((l) => l.split('\t')[0]);
  pickEvenly(sst, 120).forEach((text, i) => cases.push({ id: `sst2-${i}`, source: 'sst2', text }));

  // MRPC dev as pairs: Quality, #1 ID, #2 ID, #1 String, #2 String.
  const mrpc = readLines(path.join(shared, 'glue', 'MRPC', 'dev.tsv'))
    .slice(1)
    .map((l) => l.split('\t'))
    .filter((f) => f.length >= 5);
  pickEvenly(mrpc, 60).forEach((f, i) => cases.push({ id: `mrpc-${i}`, source: 'mrpc', text: f[3], pair: f[4] }));
  // Some MRPC pairs truncated the way GLUE fine-tuning does, plus odd budgets and overflow windows.
  pickEvenly(mrpc.slice(1), 12).forEach((f, i) => {
    const variants = [
      { truncation: 'longest_first', max_length: 16 },
      { truncation: 'longest_first', max_length: 17 },
      { truncation: 'longest_first', max_length: 24, stride: 2, overflow: true },
      { truncation: 'only_second', max_length: 64, stride: 4, overflow: true, padding: 'max_length' },
    ];
    cases.push({ id: `mrpc-trunc-${i}`, source: 'mrpc', text: f[3], pair: f[4], options: variants[i % 4] });
  });

  // WikiText-2 valid: sentences of the article paragraphs (headings skipped), 20..260 characters.
  const sentences = [];
  for (const line of readLines(path.join(shared, 'text', 'wikitext-2', 'valid.txt'))) {
    const t = line.trim();
    if (!t || t.startsWith('=')) continue;
    for (const s of t.split(/(?<= \.) /)) {
      if (s.length >= 20 && s.length <= 260) sentences.push(s);
    }
  }
  pickEvenly(sentences, 110).forEach((text, i) => cases.push({ id: `wiki-${i}`, source: 'wikitext2', text }));

  // Two long paragraphs as QA-style windows: question + context, only_second, stride, overflow.
  const paragraphs = readLines(path.join(shared, 'text', 'wikitext-2', 'valid.txt'))
    .map((l) => l.trim())
    .filter((l) => l.length > 1200 && !l.startsWith('='));
  pickEvenly(paragraphs, 2).forEach((ctx, i) =>
    cases.push({
      id: `wiki-qa-${i}`,
      source: 'wikitext2',
      text: 'What is this paragraph about?',
      pair: ctx,
      options: { truncation: 'only_second', max_length: 64, stride: 16, overflow: true, padding: 'max_length' },
    }),
  );
  return cases;
}

function edgeInputs() {
  const E = (id, text, pair = null, options = {}) => ({ id: `edge-${id}`, source: 'edge', text, pair, options });
  const the33 = 'the'.repeat(33);
  return [
    E('empty', ''),
    E('spaces-only', '   \t\n  '),
    E('accents', 'Héllo Wörld Ångström naïve café résumé Ça ÉCOLE'),
    E('greek-final-sigma', 'ΟΔΟΣ Σίσυφος ὁδός'),
    E('dotted-capital-i', 'İstanbul DİYARBAKIR'),
    E('cjk', '生活的真谛是'),
    E('cjk-latin-mixed', 'ah博推zz 中文abc'),
    E('cjk-ext-b-and-ranges', '𠀀𠀁 a\u{2B820}b c\u{2B920}d e\u{2CEAF}f'),
    E('emoji', 'Emoji 😀👍🏽 🥰 family 👨‍👩‍👧 flags 🇫🇷 keycap 1️⃣'),
    E('control-chars', 'a\u0000b\u0001c\u007fd\u0085e\u0007f\u001bg\u009fh'),
    E('format-chars', 'zero\u200bwidth\u200cnon\u200djoiner\ufeffbom\u00adsoft\u2060wj\u202ertl'),
    E('unicode-spaces', 'a\u00a0b\u2028c\u2029d\u3000e\u2003f\u202fg\u1680h\u205fi\u0009j'),
    E('crlf-tabs-vt-ff', 'line1\r\nline2\tcol\u000bvt\u000cff\u001cfs\u001fus'),
    E('replacement-char', 'bad\ufffdchar \ufffd'),
    E('word-150', 'x'.repeat(150)),
    E('word-100-ok', the33 + 'a'),
    E('word-101-unk', the33 + 'ab'),
    E('literal-specials', '[CLS] hello [SEP] [MASK]'),
    E('specials-glued', 'x[CLS]y [cls] [MASK]. [SEP][SEP]'),
    E('mask-sentence', 'Test sentence with [MASK].'),
    E('unk-pad-literal', '[UNK] [PAD]x [MASK'),
    E('ascii-punct', "Hello!!! What's up??? (yes) [no] {maybe} <tag> a/b\\c @user #hash $5 %^&*_+=|~`"),
    E('unicode-punct', '«quoted» „German“ ‘single’ — em—dash – en ¿Qué? ¡Hola! … 。、「」 ‰ ※'),
    E('fullwidth', 'ＡＢＣ１２３ ～ ｗｅｉｒｄ！'),
    E('combining-sequences', 'e\u0301 a\u0308 o\u0323\u0302 s\u0323\u0307 a\u0301\u0316 \u1e69 q\u0307\u0323'),
    E('hangul', '한국어 텍스트 처리'),
    E('japanese', '日本語のテキスト カタカナ ﾊﾝｶｸ'),
    E('arabic-hebrew', 'مرحبا بالعالم שָׁלוֹם עולם'),
    E('devanagari-thai', 'नमस्ते दुनिया สวัสดีครับ'),
    E('cyrillic', 'Привет, мир! ЁЖИК ёжик'),
    E('math', '∑x² ≤ ∞ ± √2 ≠ π ½ ⅓'),
    E('numbers', '3.14159 1,000,000 10% 2nd 1st 0x1F'),
    E('url-email', 'https://example.com/path?q=1&r=2#frag user.name+tag@mail.example.org'),
    E('compat-forms', 'ﬁne ﬂow Ⅻ ① ㎏ ℌ ™ ¼'),
    E('case-specials', 'Ǆ ǅ ǆ Ǳ ß ẞ ﬀ ŉ ΐ'),
    E('private-unassigned', '\ue000x \u0378y \u{10FFFD}z'),
    E('apostrophes', "Don't you think it's the 'best'? I'm sure they've done it, we're fine."),
    E('unaffable', 'unaffable UNAFFABLE'),
    E('pair-empty-first', '', 'hello world'),
    E('pair-empty-second', 'hello world', ''),
    E('pair-tie-rust', 'a b c d', 'e f g h', { truncation: 'longest_first', max_length: 10 }),
    E('pair-tie-overflow', 'a b c d', 'e f g h', { truncation: 'longest_first', max_length: 10, stride: 1, overflow: true }),
    E('pair-odd-budget-16', 'one two three four five six seven eight nine ten', 'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda', { truncation: 'longest_first', max_length: 16 }),
    E('pair-only-first', 'one two three four five six seven eight', 'short', { truncation: 'only_first', max_length: 8 }),
    E('pair-only-first-too-short', 'a b', 'c d e f g h', { truncation: 'only_first', max_length: 6 }),
    E('single-only-second-error', 'a b c d e f', null, { truncation: 'only_second', max_length: 4 }),
    E('pair-only-second-stride', 'question?', 'a b c d e f g h i j k l m n o p', { truncation: 'only_second', max_length: 9, stride: 2, overflow: true }),
    E('single-stride-overflow', 'a b c d e f g h i j k l m n o p q r s t', null, { truncation: 'longest_first', max_length: 8, stride: 3, overflow: true }),
    E('single-left-truncation', 'a b c d e f g h i j', null, { truncation: 'longest_first', max_length: 6, stride: 1, overflow: true, truncation_side: 'left' }),
    E('pad-max-length', 'hello world', null, { padding: 'max_length', max_length: 12 }),
    E('pad-multiple-of', 'hello world', null, { padding: 'longest', pad_to_multiple_of: 8 }),
    E('pad-left', 'hello world', 'again', { padding: 'max_length', max_length: 10, padding_side: 'left' }),
    E('no-special-tokens', 'hello [SEP] world', null, { add_special_tokens: false }),
    E('long-truncated-128', Array.from({ length: 300 }, (_, i) => `w${i % 37}`).join(' '), null, { truncation: 'longest_first', max_length: 128 }),
  ];
}

// ---------------------------------------------------------------------------------------------------------

function sameArray(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

async function makeCases() {
  const rust = Tokenizer.fromFile(path.join(uncasedDir, 'tokenizer.json'));
  const tjs = await loadTjs(uncasedDir);
  const inputs = [...edgeInputs(), ...realInputs()];
  const lines = [];
  const tjsDiffs = [];
  for (const c of inputs) {
    const opt = c.options ?? {};
    const rec = { id: c.id, source: c.source, text: c.text };
    if (c.pair !== null && c.pair !== undefined) rec.pair = c.pair;
    if (Object.keys(opt).length) rec.options = opt;
    let ref;
    try {
      ref = await rustEncode(rust, c.text, c.pair, opt);
    } catch (err) {
      rec.error = String(err.message ?? err);
      lines.push(JSON.stringify(rec));
      continue;
    }
    Object.assign(rec, ref);
    // Keep the file small: masks that are all-ones / all-zeros-but-specials are implied for plain cases.
    if (!opt.padding) delete rec.attention_mask;
    if (c.source !== 'edge') delete rec.special_tokens_mask;
    if (c.source !== 'edge' && !opt.truncation) delete rec.word_ids;
    if (c.source === 'edge') rec.tokens = ref.ids.map((id) => rust.idToToken(id));

    // Decoding (edge cases and every 10th real case): Rust decode() == transformers' fast decode with
    // clean_up_tokenization_spaces=False; transformers.js decode() applies the clean-up too (= True).
    if (c.source === 'edge' || lines.length % 10 === 0) {
      rec.decoded = await rust.decode(ref.ids, false);
      rec.decoded_skip_special = await rust.decode(ref.ids, true);
      if (ref.ids.length > 0) {
        rec.decoded_cleanup_tjs = tjs.decode(ref.ids, { skip_special_tokens: false });
      }
    }

    // transformers.js on the untruncated, unpadded encoding.
    const plain = await rustEncode(rust, c.text, c.pair, { add_special_tokens: opt.add_special_tokens });
    const t = tjs._tokenizer.encode(c.text, {
      text_pair: c.pair ?? null,
      add_special_tokens: opt.add_special_tokens ?? true,
      return_token_type_ids: true,
    });
    const typesOk = !t.token_type_ids || sameArray(t.token_type_ids, plain.type_ids);
    if (!sameArray(t.ids, plain.ids) || !typesOk) {
      rec.tjs_ids = t.ids;
      tjsDiffs.push({ id: c.id, rust: plain.ids.map((id) => rust.idToToken(id)), tjs: t.tokens });
    }
    lines.push(JSON.stringify(rec));
  }

  // Batches: padding to the longest in the batch.
  const batchTexts = inputs.filter((c) => c.source === 'sst2').slice(0, 8).map((c) => c.text);
  rust.setPadding({ padId: 0, padToken: '[PAD]', padToMultipleOf: 4 });
  const batch = await rust.encodeBatch(batchTexts);
  rust.disablePadding();
  lines.push(
    JSON.stringify({
      id: 'batch-sst2-longest',
      source: 'batch',
      batch: batchTexts,
      options: { padding: 'longest', pad_to_multiple_of: 4 },
      encodings: batch.map((e) => rustEncoding(e)),
    }),
  );

  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.writeFileSync(outFile, lines.join('\n') + '\n');
  const size = fs.statSync(outFile).size;
  console.log(`wrote ${lines.length} cases to ${path.relative(repo, outFile)} (${(size / 1024).toFixed(1)} KB)`);
  console.log(`truncated cases cross-checked against the library's own truncating encode: ${crossChecked}`);
  console.log(`transformers.js disagreed with the Rust library on ${tjsDiffs.length} case(s):`);
  for (const d of tjsDiffs) {
    console.log(`  ${d.id}:\n    rust: ${d.rust.join(' ')}\n    tjs:  ${d.tjs.join(' ')}`);
  }
}

// Load a folder written by BertTokenizer::save_pretrained with both libraries: they must agree with each
// other, and with the shared bert-base-uncased tokenizer when the saved normaliser is the same.
async function checkSaved(dir) {
  const ref = Tokenizer.fromFile(path.join(uncasedDir, 'tokenizer.json'));
  const saved = Tokenizer.fromFile(path.join(dir, 'tokenizer.json'));
  const tjs = await loadTjs(dir);
  const sameNormalizer =
    JSON.stringify(JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')).normalizer) ===
    JSON.stringify(JSON.parse(fs.readFileSync(path.join(uncasedDir, 'tokenizer.json'), 'utf8')).normalizer);
  const texts = ['Hello, World! [MASK] héllo 生活', "it 's a charming and often affecting journey . ", ''];
  let ok = true;
  for (const text of texts) {
    const b = (await saved.encode(text, 'pair text')).getIds();
    const c = tjs._tokenizer.encode(text, { text_pair: 'pair text' }).ids;
    let good = sameArray(b, c);
    if (sameNormalizer) good &&= sameArray((await ref.encode(text, 'pair text')).getIds(), b);
    ok &&= good;
    console.log(`${good ? 'ok  ' : 'FAIL'} ${JSON.stringify(text)}: ${b.join(',')}`);
  }
  console.log(`${dir}: ` + (ok ? `loads in tokenizers and transformers.js, same ids${sameNormalizer ? ' as the shared tokenizer' : ''}` : 'MISMATCH'));
  process.exitCode = ok ? 0 : 1;
}

const args = process.argv.slice(2);
if (args[0] === '--check-saved') {
  for (const dir of args.slice(1)) await checkSaved(dir);
} else {
  await makeCases();
}
