#!/bin/sh
# Rebuilds the seed corpora in fuzz/corpus/<target>/ from small generated files (no
# MovieLens data: its licence forbids copies). Run from the repository root after
# `cargo build --release -p alternator-cli`. Each seed starts with the byte the target
# reads its options (or mode) from.
set -eu
A=${ALTERNATOR:-target/release/alternator}
C=fuzz/corpus
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p $C/read_interactions $C/model_file $C/server_request
rm -f $C/read_interactions/* $C/model_file/* $C/server_request/*

# seed NAME OPTIONS-BYTE(octal) FILE: the options byte, then the file.
seed() { { printf "\\$2"; cat "$3"; } > "$C/read_interactions/$1"; }

$A generate --users 12 --items 9 --nnz 40 --seed 1 --out $T/g.tsv > /dev/null
$A generate --users 12 --items 9 --nnz 40 --kind counts --seed 2 --out $T/c.tsv > /dev/null
seed tsv 000 $T/g.tsv                                   # u.data-like: tab, no header, time
seed tsv_keep_lines_ignore_times 006 $T/g.tsv
seed counts_no_value 070 $T/c.tsv                       # no value column
seed cols_reordered 200 $T/g.tsv                        # user 2, item 0, value 1
sed 's/\t/::/g' $T/g.tsv > $T/g.dat; seed dat 000 $T/g.dat
{ echo "userId,movieId,rating,timestamp"; sed 's/\t/,/g' $T/g.tsv; } > $T/g.csv
seed csv_header 000 $T/g.csv
seed csv_named_binary 300 $T/g.csv                      # rating_col("rating"), binary
sed 's/$/\r/' $T/g.csv > $T/crlf.csv; seed csv_crlf 000 $T/crlf.csv
tr '\n' '\r' < $T/g.tsv > $T/cr.tsv; seed tsv_cr_only 000 $T/cr.tsv
awk '{ printf "%s%s", $0, (NR % 3 == 0 ? "\n" : (NR % 3 == 1 ? "\r\n" : "\r")) }' $T/g.tsv > $T/mixed.tsv
seed tsv_mixed_ends 002 $T/mixed.tsv
sed 's/\t/  /g' $T/g.tsv > $T/ws.txt; seed whitespace 030 $T/ws.txt
printf 'user_id,video_id,play_duration,video_duration,time,date,timestamp,rating\n14,148,4381,6067,2020-07-05 05:27:48.378,20200705.0,1593898068.378,0.722\n14,183,11635,6100,2020-07-05 05:28:00.057,20200705.0,1593898080.057,1.907\n' > $T/k.csv
seed kuairec_like 300 $T/k.csv
printf 'alice,"The Matrix, Reloaded",5\nbob,"Heat ""95""",3\ncaf\351,Up,4\n' > $T/q.csv
seed quoted_latin1 000 $T/q.csv
printf '1\t10\t4\t881250949\n1\t11\t3\t881250950\n2\t10\t881250951\n3\t12\tfive\t881250952\n4\t13\t2\tsoon\n5\t14\t1\t881250953\t\n' > $T/bad.tsv
seed errors 000 $T/bad.tsv
seed errors_skipped 003 $T/bad.tsv
printf '\357\273\277u;i;r\n\n1;2;3,5\n1;3;NaN\n;4;1\n2;2;inf\n' > $T/odd.csv
seed bom_semicolon_skipped 001 $T/odd.csv

# Models: explicit, explicit with biases, implicit; mode 0 (raw) and 1 (checksum fixed).
model() {
    shift_args=$*
    $A fit --train $T/g.tsv --model $T/m.alt --rank 2 --max-iter 2 $shift_args > /dev/null
    { printf '\000'; cat $T/m.alt; } > $C/model_file/$NAME
    { printf '\001'; cat $T/m.alt; } > $C/model_file/${NAME}_crc
}
NAME=explicit model
NAME=biases model --biases --clip-predictions
NAME=implicit model --implicit-prefs --alpha 2
NAME=nonnegative model --nonnegative

# Requests: selector 0 POST /v1/recommend, 1 POST /v1/predict, 2 GET /v1/recommend query,
# 3 GET /v1/similar query.
req() { { printf "\\$2"; printf '%s' "$3"; } > "$C/server_request/$1"; }
req recommend_ids 000 '{"liked": ["1", 2], "n": 5}'
req recommend_values 000 '{"liked": {"7": 4.5, "x": -1e3}, "n": "10"}'
req recommend_titles 000 '{"liked_titles": ["Star Wars", "Fargo"], "liked": []}'
req predict 001 '[{"user": 1, "item": "a"}, {"user": "u\u00e9", "item": 2}]'
req predict_bad 001 '[{"user": 1}, [1, 2]]'
req query_recommend 002 'user=196&n=10&include_seen=true'
req query_recommend_dup 002 'user=1&n=1&n=5&x=%20'
req query_similar 003 'item=50&n=3'
req query_similar_user 003 'user=a%2Cb&n=1000'
