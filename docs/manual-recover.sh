#!/usr/bin/env bash
# What an unsealed or damaged scelle bag still proves, with standard tools.
# $1 is the output folder (a copy: this extracts into "$1/evidence").
set -uo pipefail
cd "$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Step 1. The key: the public key of the journal's first line. Compare its
# fingerprint with the one scelle printed when it started, or with the
# operator's key: the journal proves nothing against a key you cannot tie
# to this collection.
re='^\{"seq":([0-9]+),"prev":"([0-9a-f]{64})","time":"[^"]*","type":"([a-z]+)",(.*),"sig":"([A-Za-z0-9+/=]{88})"\}$'
IFS= read -r first < journal.jsonl
[[ $first =~ $re && ${BASH_REMATCH[3]} = open && ,${BASH_REMATCH[4]}, =~ ,\"public_key\":\"([A-Za-z0-9+/=]+)\", ]] \
  || { echo "journal line 1 is not an open line: nothing is proven"; exit 1; }
printf '%s' "${BASH_REMATCH[1]}" | base64 -d > "$tmp/key.der"
openssl pkey -pubin -inform DER -in "$tmp/key.der" -out "$tmp/key.pem" || exit 1
echo "key: $(sha256sum < "$tmp/key.der" | cut -c1-64)"

# Step 2. The journal lines that hold: signed, numbered from 1, chained. A
# last line without a line feed was cut short and does not count.
prev=0000000000000000000000000000000000000000000000000000000000000000
n=0
: > "$tmp/good"
while IFS= read -r line; do
  n=$((n + 1))
  why=
  if ! [[ $line =~ $re ]]; then why="not a signed journal line"
  elif [ "${BASH_REMATCH[1]}" != "$n" ]; then why="sequence number ${BASH_REMATCH[1]}"
  elif [ "${BASH_REMATCH[2]}" != "$prev" ]; then why="chain broken"
  elif [ "$n" != 1 ] && [ "${BASH_REMATCH[3]}" = open ]; then why="a second open line"
  else
    printf '%s' "${line%,\"sig\":*}" > "$tmp/msg"
    printf '%s' "${BASH_REMATCH[5]}" | base64 -d > "$tmp/sig"
    openssl pkeyutl -verify -pubin -inkey "$tmp/key.pem" -rawin -in "$tmp/msg" -sigfile "$tmp/sig" > /dev/null \
      || why="the signature does not verify"
  fi
  if [ -n "$why" ]; then echo "journal line $n: $why; the $((n - 1)) lines before it hold"; break; fi
  printf '%s\n' "$line" >> "$tmp/good"
  prev=$(printf '%s' "$line" | sha256sum | cut -c1-64)
done < journal.jsonl
echo "journal: $(wc -l < "$tmp/good") lines hold"

# Step 3. Extract what decodes. A cut archive makes zstd (and often tar)
# report an error: expected. Every file tar completed is whole; at most the
# last one is partial.
zstd -dc evidence.tar.zst | tar -x
echo "zstd and tar exit statuses: ${PIPESTATUS[*]}"

# Step 4. Each item the journal records, checked against the extracted file:
# OK is proven; FAILED or "No such file" is not.
sed -n 's/^{"seq":[0-9]*,"prev":"[0-9a-f]*","time":"[^"]*","type":"item","path":"\(\([^"\\]\|\\.\)*\)","sha256":"\([0-9a-f]\{64\}\)".*/\3  evidence\/\1/p' "$tmp/good" \
  | sed 's/\\"/"/g; s/\\u003c/</g; s/\\u003e/>/g; s/\\u0026/\&/g' > "$tmp/items"
sha256sum -c "$tmp/items"
