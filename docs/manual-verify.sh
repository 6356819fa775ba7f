#!/usr/bin/env bash
# Verify a sealed scelle bag (format 1) with standard tools: GNU coreutils,
# diffutils (cmp), GNU tar, zstd, OpenSSL 3, bash, grep, GNU sed, awk.
# $1 is the output folder. Work on a copy: this extracts into "$1/evidence".
set -euo pipefail
cd "$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAILED: $*" >&2; exit 1; }

# Step 1 (layout). The seven files of a sealed bag are there, as regular files.
for f in evidence.tar.zst evidence.tar.zst.sha256 record.json root.txt root.sig root.pub.pem journal.jsonl; do
  { test -f "$f" && test ! -L "$f"; } || fail "$f is missing"
done
# An encrypted bag has two more (section 3.6); decrypt it first, with
# age -d -i KEY -o evidence.tar.zst evidence.tar.zst.age
if [ -e evidence.tar.zst.age ]; then
  { test -f evidence.tar.zst.age.sha256 && test ! -L evidence.tar.zst.age.sha256; } || fail "evidence.tar.zst.age.sha256 is missing"
fi

# Step 2 (archive-sha256). The archive hashes to its .sha256 file, which has the exact form.
sha256sum -c evidence.tar.zst.sha256
archive=$(sha256sum < evidence.tar.zst | cut -c1-64)
printf '%s  evidence.tar.zst\n' "$archive" | cmp -s - evidence.tar.zst.sha256 \
  || fail "evidence.tar.zst.sha256 is not exactly '<sha256>  evidence.tar.zst'"
sealage=
if [ -e evidence.tar.zst.age ]; then
  sha256sum -c evidence.tar.zst.age.sha256
  ciphertext=$(sha256sum < evidence.tar.zst.age | cut -c1-64)
  printf '%s  evidence.tar.zst.age\n' "$ciphertext" | cmp -s - evidence.tar.zst.age.sha256 \
    || fail "evidence.tar.zst.age.sha256 is not exactly '<sha256>  evidence.tar.zst.age'"
  sealage=",\"archive_age_sha256\":\"$ciphertext\""
fi

# Step 3 (archive). Every zstd frame decodes and its checksum holds; the
# entries are regular files under evidence/, each name once, bagit.txt first,
# the tag manifest last.
zstd -t -q evidence.tar.zst
tar --zstd --quoting-style=literal -tf evidence.tar.zst > "$tmp/entries"
test "$(tar --zstd -tvf evidence.tar.zst | cut -c1 | sort -u)" = "-" || fail "an entry is not a regular file"
if grep -qv '^evidence/' "$tmp/entries"; then fail "an entry is outside evidence/"; fi
test -z "$(sort "$tmp/entries" | uniq -d)" || fail "entry names repeated"
test "$(head -n 1 "$tmp/entries")" = evidence/bagit.txt || fail "bagit.txt is not the first entry"
test "$(tail -n 1 "$tmp/entries")" = evidence/tagmanifest-sha256.txt || fail "the tag manifest is not the last entry"
tar --zstd -xf evidence.tar.zst
cd evidence
printf 'BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n' | cmp - bagit.txt

# Step 4 (payload). Every payload file matches the manifest, and the manifest
# lists exactly the payload files of the archive (sha256sum -c refuses an
# empty list: an empty payload has an empty manifest).
test ! -s manifest-sha256.txt || sha256sum -c --quiet manifest-sha256.txt
sed -n 's|^evidence/data/|data/|p' "$tmp/entries" | LC_ALL=C sort > "$tmp/archived"
cut -c67- manifest-sha256.txt | LC_ALL=C sort > "$tmp/listed"
cmp "$tmp/archived" "$tmp/listed" || fail "the payload files and manifest-sha256.txt differ"

# Step 5 (payload-oxum). bag-info.txt counts the payload's bytes and files.
# Bag paths hold no control character (section 4.4), so the manifest has one
# path a line, and wc reads the list of paths in one run.
octets=$(cut -c67- manifest-sha256.txt | tr '\n' '\0' | wc -c --files0-from=- | awk 'END { print $1 }')
octets=${octets:-0} count=$(wc -l < manifest-sha256.txt)
grep -qxF "Payload-Oxum: $octets.$count" bag-info.txt || fail "Payload-Oxum is not $octets.$count"
echo "Payload-Oxum: $octets.$count"

# Step 6 (tag-manifest). The tag manifest lists the five tag files, and they match.
sha256sum -c --quiet tagmanifest-sha256.txt
test "$(cut -c67- tagmanifest-sha256.txt | LC_ALL=C sort | tr '\n' ' ')" = \
  "bag-info.txt bagit.txt manifest-sha256.txt scelle/journal.jsonl scelle/record.json " \
  || fail "tagmanifest-sha256.txt does not list the five tag files"

# Step 7 (root). The root fingerprint is the SHA-256 of the tag manifest.
root=$(sha256sum < tagmanifest-sha256.txt | cut -c1-64)
printf '%s\n' "$root" | cmp -s - ../root.txt || fail "root.txt is not the SHA-256 of tagmanifest-sha256.txt"
echo "root: $root"

# Step 8 (signature). root.sig is an Ed25519 signature of the tag manifest by root.pub.pem.
openssl pkey -pubin -in ../root.pub.pem -noout -text | grep -q '^ED25519 Public-Key:' \
  || fail "root.pub.pem is not an Ed25519 public key"
test "$(stat -c %s ../root.sig)" = 64 || fail "root.sig is not 64 bytes"
openssl pkeyutl -verify -pubin -inkey ../root.pub.pem -rawin -in tagmanifest-sha256.txt -sigfile ../root.sig
echo "key: $(openssl pkey -pubin -in ../root.pub.pem -outform DER | sha256sum | cut -c1-64)"

# Step 9 (record). The record beside the archive is the one inside.
cmp scelle/record.json ../record.json

# Step 10 (journal). Steps 6 to 8 proved scelle/journal.jsonl, the copy of
# the journal in the bag: the tag manifest lists it, and root.sig signs the
# tag manifest. The journal beside the archive must be that copy and one
# more line, the seal line. Every line has the form of a signed journal
# line, seq counts from 1, and the first line is the only open line and
# carries the bag's key. The seal line is signed by the bag's key, chained
# to the line before it (its prev is that line's SHA-256), and seals this
# root and archive. The item lines are the manifest's lines. The signature
# and chain of each line before the seal line are not checked one by one:
# the root's signature, by the same key, covers those bytes (section 9.1,
# step 10, says what this proves and how to check them too).
test -z "$(tail -c 1 ../journal.jsonl)" || fail "journal: the last line is cut short"
re='^\{"seq":([0-9]+),"prev":"([0-9a-f]{64})","time":"[^"]*","type":"([a-z]+)",(.*),"sig":"([A-Za-z0-9+/=]{88})"\}$'
LC_ALL=C sed -E "s|$re|\1 \3|; t; s/.*/-/" ../journal.jsonl > "$tmp/lines"
n=$(wc -l < "$tmp/lines")
why=$(awk -v n="$n" '
  !/^[0-9]+ [a-z]+$/      { print NR ": not a signed journal line"; exit }
  $1 != (NR "")           { print NR ": sequence number " $1; exit }
  NR == 1 && $2 != "open" { print NR ": not an open line"; exit }
  NR > 1 && $2 == "open"  { print NR ": a second open line"; exit }
  NR == n && $2 != "seal" { print NR ": the last line is not a seal line"; exit }' "$tmp/lines")
test -z "$why" || fail "journal line $why"
test "$n" -gt 1 || fail "journal: fewer than two lines"
key=$(openssl pkey -pubin -in ../root.pub.pem -outform DER | base64 -w0)
IFS= read -r line < ../journal.jsonl
[[ $line =~ $re && ",${BASH_REMATCH[4]}," == *",\"public_key\":\"$key\","* ]] || fail "journal line 1: not the key of root.pub.pem"
head -n -1 ../journal.jsonl | cmp - scelle/journal.jsonl \
  || fail "journal: lines 1 to $((n - 1)) are not scelle/journal.jsonl, the copy the root signs"
line=$(tail -n 1 ../journal.jsonl)
[[ $line =~ $re ]] || fail "journal line $n: not a signed journal line"
test "${BASH_REMATCH[2]}" = "$(tail -n 1 scelle/journal.jsonl | tr -d '\n' | sha256sum | cut -c1-64)" \
  || fail "journal line $n: chain broken (its prev is not the SHA-256 of line $((n - 1)))"
printf '%s' "${line%,\"sig\":*}" > "$tmp/msg"
printf '%s' "${BASH_REMATCH[5]}" | base64 -d > "$tmp/sig"
openssl pkeyutl -verify -pubin -inkey ../root.pub.pem -rawin -in "$tmp/msg" -sigfile "$tmp/sig" > /dev/null \
  || fail "journal line $n: the signature does not verify"
test "${BASH_REMATCH[4]}" = "\"root\":\"$root\",\"archive_sha256\":\"$archive\"$sealage" || fail "journal line $n: does not seal this root and archive"
sed -n 's/^{"seq":[0-9]*,"prev":"[0-9a-f]*","time":"[^"]*","type":"item","path":"\(\([^"\\]\|\\.\)*\)","sha256":"\([0-9a-f]\{64\}\)".*/\3  \1/p' ../journal.jsonl \
  | sed 's/\\"/"/g; s/\\u003c/</g; s/\\u003e/>/g; s/\\u0026/\&/g' > "$tmp/items"
cmp "$tmp/items" manifest-sha256.txt || fail "the journal's item lines and manifest-sha256.txt differ"
echo "journal: $n lines (the bag's copy and a seal line), $(wc -l < "$tmp/items") items"
echo "VERIFIED: every check of the manual procedure holds"
