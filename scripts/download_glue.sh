#!/usr/bin/env bash
# Fetch the GLUE tasks from their public home into the layout the recipes and readers expect,
# OUTPUT/<TASK>/{train,dev,test}.tsv (MNLI: dev_matched / dev_mismatched / test_matched / test_mismatched;
# diagnostic/diagnostic.tsv), as the original download_glue_data.py lays them out:
#   CoLA SST-2 QQP STS-B MNLI QNLI RTE WNLI: the zips at https://dl.fbaipublicfiles.com/glue/data
#     (QQP-clean.zip and QNLIv2.zip for QQP and QNLI), unpacked;
#   MRPC: SentEval's msr_paraphrase_{train,test}.txt split into train/dev by GLUE's mrpc_dev_ids.tsv, test.tsv
#     re-headed "index #1 ID #2 ID #1 String #2 String";
#   diagnostic: AX.tsv.
# Every task's header is checked against the published layout and its row counts printed.
#   scripts/download_glue.sh                          # all tasks -> data/glue
#   scripts/download_glue.sh --tasks SST-2,MRPC --output data/glue
#   scripts/download_glue.sh --source DIR_OR_URL      # another home holding the same files (a mirror, file://, a folder)
# Needs curl (or wget) and unzip (or bsdtar, or python3).
set -euo pipefail
cd "$(dirname "$0")/.."

OUTPUT=data/glue
TASKS=all
SOURCE=https://dl.fbaipublicfiles.com/glue/data
MRPC_SOURCE=https://dl.fbaipublicfiles.com/senteval/senteval_data
SOURCE_SET=0
while [ $# -gt 0 ]; do
  case "$1" in
    --output) OUTPUT=$2; shift 2 ;;
    --tasks) TASKS=$2; shift 2 ;;
    --source) SOURCE=${2%/}; SOURCE_SET=1; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "download_glue.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
# A custom source holds every file, MRPC's too.
[ "$SOURCE_SET" = 0 ] || MRPC_SOURCE=$SOURCE
ALL=(CoLA SST-2 MRPC QQP STS-B MNLI QNLI RTE WNLI diagnostic)
if [ "$TASKS" = all ]; then SELECTED=("${ALL[@]}"); else IFS=, read -r -a SELECTED <<< "$TASKS"; fi
for t in "${SELECTED[@]}"; do
  case " ${ALL[*]} " in *" $t "*) ;; *) echo "error: unknown GLUE task '$t': expected one of ${ALL[*]} (or all)" >&2; exit 2 ;; esac
done

if [ -d "$SOURCE" ]; then GET=copy
elif command -v curl > /dev/null 2>&1; then GET=curl
elif command -v wget > /dev/null 2>&1; then GET=wget
else echo "error: neither curl nor wget is installed (apt-get install curl)" >&2; exit 1
fi

# fetch URL_OR_PATH DEST
fetch() {
  local src=$1 dest=$2
  case $GET in
    copy) [ -f "$src" ] && cp "$src" "$dest" ;;
    curl) curl -fsSL --retry 3 --retry-delay 2 -o "$dest" "$src" ;;
    wget) wget -q --tries=3 -O "$dest" "$src" ;;
  esac || { echo "error: cannot fetch '$src'" >&2; rm -f "$dest"; exit 1; }
}

unpack() {  # unpack ZIP DIR
  if command -v unzip > /dev/null 2>&1; then unzip -q -o "$1" -d "$2"
  elif command -v bsdtar > /dev/null 2>&1; then bsdtar -xf "$1" -C "$2"
  elif command -v python3 > /dev/null 2>&1; then python3 -m zipfile -e "$1" "$2"
  else echo "error: cannot unpack '$1': install unzip (apt-get install unzip)" >&2; exit 1
  fi
}

# check_header TASK FILE EXPECTED_PREFIX: the file's first line (byte-order mark and CR removed) starts with it.
check_header() {
  local first
  first=$(head -n 1 "$2" | sed $'s/^\xef\xbb\xbf//; s/\r$//')
  case "$first" in
    "$3"*) ;;
    *) echo "error: $2: header expected to start with '$(printf '%s' "$3" | tr '\t' '|')' (GLUE $1 layout), found '$(printf '%s' "$first" | tr '\t' '|')'" >&2; exit 1 ;;
  esac
}

rows() { echo $(($(wc -l < "$1") - $2)); }

mkdir -p "$OUTPUT"
STAGE=$(mktemp -d "${TMPDIR:-/tmp}/glue.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT

for task in "${SELECTED[@]}"; do
  dest=$OUTPUT/$task
  rm -rf "$dest.partial"
  mkdir -p "$dest.partial"
  case $task in
    MRPC)
      fetch "$MRPC_SOURCE/msr_paraphrase_train.txt" "$STAGE/msr_paraphrase_train.txt"
      fetch "$MRPC_SOURCE/msr_paraphrase_test.txt" "$STAGE/msr_paraphrase_test.txt"
      fetch "$SOURCE/mrpc_dev_ids.tsv" "$STAGE/mrpc_dev_ids.tsv"
      check_header MRPC "$STAGE/msr_paraphrase_train.txt" $'Quality\t#1 ID\t#2 ID\t#1 String\t#2 String'
      check_header MRPC "$STAGE/msr_paraphrase_test.txt" $'Quality\t#1 ID\t#2 ID\t#1 String\t#2 String'
      # As download_glue_data.py: the header line is kept as is; rows are stripped and re-joined with tabs; a
      # row whose (#1 ID, #2 ID) is in mrpc_dev_ids.tsv goes to dev, every other to train.
      awk -F'\t' -v OFS='\t' -v train="$dest.partial/train.tsv" -v dev="$dest.partial/dev.tsv" '
        FNR == NR { sub(/\r$/, ""); if (NF >= 2) ids[$1 "\t" $2] = 1; next }
        FNR == 1 { print > train; print > dev; next }
        {
          sub(/^[ \t\r]+/, ""); sub(/[ \t\r]+$/, "")
          if (NF != 5) { printf "error: msr_paraphrase_train.txt:%d: expected 5 columns, found %d\n", FNR, NF > "/dev/stderr"; exit 1 }
          $1 = $1
          if (($2 "\t" $3) in ids) print > dev; else print > train
        }' "$STAGE/mrpc_dev_ids.tsv" "$STAGE/msr_paraphrase_train.txt"
      awk -F'\t' -v OFS='\t' '
        FNR == 1 { print "index\t#1 ID\t#2 ID\t#1 String\t#2 String"; next }
        {
          sub(/^[ \t\r]+/, ""); sub(/[ \t\r]+$/, "")
          if (NF != 5) { printf "error: msr_paraphrase_test.txt:%d: expected 5 columns, found %d\n", FNR, NF > "/dev/stderr"; exit 1 }
          print FNR - 2, $2, $3, $4, $5
        }' "$STAGE/msr_paraphrase_test.txt" > "$dest.partial/test.tsv"
      ;;
    diagnostic)
      fetch "$SOURCE/AX.tsv" "$dest.partial/diagnostic.tsv"
      check_header diagnostic "$dest.partial/diagnostic.tsv" $'index\tsentence1\tsentence2'
      ;;
    *)
      zipname=$task
      [ "$task" = QQP ] && zipname=QQP-clean
      [ "$task" = QNLI ] && zipname=QNLIv2
      fetch "$SOURCE/$zipname.zip" "$STAGE/$zipname.zip"
      rm -rf "$STAGE/unpacked"
      mkdir -p "$STAGE/unpacked"
      unpack "$STAGE/$zipname.zip" "$STAGE/unpacked"
      # The zip holds one task folder (SST-2/, QQP/, QNLI/, ...): the folder with the dev file.
      devfile=dev.tsv
      [ "$task" = MNLI ] && devfile=dev_matched.tsv
      found=$(find "$STAGE/unpacked" -name "$devfile" -not -path '*/__MACOSX/*' | head -n 1)
      [ -n "$found" ] || { echo "error: $SOURCE/$zipname.zip holds no $devfile" >&2; exit 1; }
      cp -R "$(dirname "$found")"/. "$dest.partial"/
      ;;
  esac
  case $task in
    CoLA)  # no header in train/dev: source, label, mark, sentence
      awk -F'\t' 'NF != 4 { printf "error: %s:%d: GLUE CoLA rows have 4 columns, found %d\n", FILENAME, FNR, NF > "/dev/stderr"; bad = 1; exit } END { exit bad }' "$dest.partial/train.tsv"
      check_header CoLA "$dest.partial/test.tsv" $'index\tsentence' ;;
    SST-2) check_header SST-2 "$dest.partial/train.tsv" $'sentence\tlabel'; check_header SST-2 "$dest.partial/dev.tsv" $'sentence\tlabel' ;;
    MRPC)  check_header MRPC "$dest.partial/dev.tsv" $'Quality\t#1 ID\t#2 ID\t#1 String\t#2 String' ;;
    QQP)   check_header QQP "$dest.partial/train.tsv" $'id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate' ;;
    STS-B) check_header STS-B "$dest.partial/train.tsv" $'index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore' ;;
    MNLI)  check_header MNLI "$dest.partial/train.tsv" $'index\tpromptID\tpairID\tgenre'; [ -f "$dest.partial/dev_mismatched.tsv" ] || { echo "error: MNLI: dev_mismatched.tsv missing" >&2; exit 1; } ;;
    QNLI)  check_header QNLI "$dest.partial/train.tsv" $'index\tquestion\tsentence\tlabel' ;;
    RTE|WNLI) check_header "$task" "$dest.partial/train.tsv" $'index\tsentence1\tsentence2\tlabel' ;;
  esac
  rm -rf "$dest"
  mv "$dest.partial" "$dest"
  summary=""
  for f in "$dest"/*.tsv; do
    h=1
    [ "$task" = CoLA ] && [[ $(basename "$f") != test.tsv ]] && h=0
    summary+=" $(basename "$f" .tsv) $(rows "$f" $h)"
  done
  echo "[download_glue] $task ->$summary rows ($dest)"
done
