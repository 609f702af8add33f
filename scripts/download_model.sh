#!/usr/bin/env bash
# Fetch a Hugging Face checkpoint from the hub into the folder the recipes expect (checkpoints/<name>):
# config.json, the weights (model.safetensors; else the shards of model.safetensors.index.json; else
# pytorch_model.bin, which `distilbert` reads without executing any pickled code) and the tokenizer files
# (vocab.txt, tokenizer.json, tokenizer_config.json, special_tokens_map.json; at least one of the first two).
#   scripts/download_model.sh bert-base-uncased                 # -> checkpoints/bert-base-uncased
#   scripts/download_model.sh distilbert-base-uncased --output models/distilbert --revision main
#   scripts/download_model.sh bert-base-uncased --from DIR      # copy from a local folder holding those files
# Environment: HF_ENDPOINT (default https://huggingface.co; file:///path works with curl, for mirrors and tests),
# HF_TOKEN (sent as a bearer token, for gated models). Files go to OUTPUT.partial first; OUTPUT is replaced only
# when everything arrived. Needs curl (or wget).
set -euo pipefail
cd "$(dirname "$0")/.."

NAME=""
OUTPUT=""
REVISION=main
FROM=""
while [ $# -gt 0 ]; do
  case "$1" in
    --output) OUTPUT=$2; shift 2 ;;
    --revision) REVISION=$2; shift 2 ;;
    --from) FROM=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "download_model.sh: unknown option '$1'" >&2; exit 2 ;;
    *) [ -z "$NAME" ] || { echo "download_model.sh: one model name, got '$NAME' and '$1'" >&2; exit 2; }; NAME=$1; shift ;;
  esac
done
[ -n "$NAME" ] || { echo "usage: scripts/download_model.sh NAME [--output DIR] [--revision REV] [--from DIR]" >&2; exit 2; }
[ -n "$OUTPUT" ] || OUTPUT=checkpoints/$(basename "$NAME")
ENDPOINT=${HF_ENDPOINT:-https://huggingface.co}
BASE=$ENDPOINT/$NAME/resolve/$REVISION

if [ -n "$FROM" ]; then
  [ -d "$FROM" ] || { echo "error: --from '$FROM' is not a folder" >&2; exit 1; }
elif command -v curl > /dev/null 2>&1; then
  GET=curl
elif command -v wget > /dev/null 2>&1; then
  GET=wget
else
  echo "error: neither curl nor wget is installed (apt-get install curl)" >&2
  exit 1
fi

# fetch FILE: into $TMP/FILE from --from or the hub; returns non-zero when it is not there.
fetch() {
  local file=$1 dest=$TMP/$1
  mkdir -p "$(dirname "$dest")"
  if [ -n "$FROM" ]; then
    [ -f "$FROM/$file" ] || return 1
    cp "$FROM/$file" "$dest"
    return 0
  fi
  local auth=()
  if [ -n "${HF_TOKEN:-}" ]; then auth=(--header "Authorization: Bearer $HF_TOKEN"); fi
  if [ "$GET" = curl ]; then
    curl -fsSL --retry 3 --retry-delay 2 "${auth[@]}" -o "$dest.tmp" "$BASE/$file" 2> "$TMP/.last_error" || { rm -f "$dest.tmp"; return 1; }
  else
    wget -q --tries=3 "${auth[@]}" -O "$dest.tmp" "$BASE/$file" 2> "$TMP/.last_error" || { rm -f "$dest.tmp"; return 1; }
  fi
  mv "$dest.tmp" "$dest"
  echo "  $file ($(wc -c < "$dest") bytes)"
}
where() { if [ -n "$FROM" ]; then echo "$FROM"; else echo "$BASE"; fi; }

TMP=$OUTPUT.partial
rm -rf "$TMP"
mkdir -p "$TMP"
echo "[download_model] $NAME from $(where) -> $OUTPUT"
fetch config.json || { echo "error: $(where)/config.json: not found (is '$NAME' a model on the hub, and is it public or HF_TOKEN set?) $(cat "$TMP/.last_error" 2>/dev/null)" >&2; exit 1; }
grep -q '"model_type"' "$TMP/config.json" || { echo "error: $(where)/config.json: no \"model_type\" key: not a transformers config" >&2; exit 1; }

if fetch model.safetensors; then
  :
elif fetch model.safetensors.index.json; then
  # The index's weight_map values are the shard file names.
  shards=$(grep -o '"[^"]*\.safetensors"' "$TMP/model.safetensors.index.json" | tr -d '"' | grep -v '^model\.safetensors\.index' | sort -u)
  [ -n "$shards" ] || { echo "error: $(where)/model.safetensors.index.json lists no shard files" >&2; exit 1; }
  for s in $shards; do
    fetch "$s" || { echo "error: shard '$s' of $(where)/model.safetensors.index.json is missing" >&2; exit 1; }
  done
elif fetch pytorch_model.bin; then
  :
else
  echo "error: $(where): no weights: expected model.safetensors, model.safetensors.index.json or pytorch_model.bin" >&2
  exit 1
fi

tok=0
for f in vocab.txt tokenizer.json; do fetch "$f" && tok=1 || true; done
for f in tokenizer_config.json special_tokens_map.json; do fetch "$f" || true; done
[ "$tok" = 1 ] || { echo "error: $(where): no tokenizer: expected vocab.txt or tokenizer.json" >&2; exit 1; }
rm -f "$TMP/.last_error"

rm -rf "$OUTPUT"
mv "$TMP" "$OUTPUT"
echo "[download_model] done: $OUTPUT"
# Check that it loads, when the CLI is built.
BIN=${BIN:-build/bin/distilbert}
if [ -x "$BIN" ]; then "$BIN" info --model "$OUTPUT"; fi
