#!/bin/sh
# Made students.xlsx once (issue 15): the accuracy test's county's second
# 在校学生 extract, whose school left the ID column as numbers, saved by
# LibreOffice Calc. The generator writes the IDs already rounded; here they
# are put back in full and LibreOffice reads them as numbers and rounds them
# itself when it writes the workbook. Tests read the committed file and do
# not need LibreOffice. Run from anywhere: testdata/rounded/make.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cd "$root"
CANBAO_WRITE_COUNTY="$tmp/county" go test -count=1 -run '^TestWriteAccuracyCounty$' ./internal/fixture

file=在校学生_职业学校数值.csv
# The true ID of every line of that file, from the generator's truth.
awk -F, -v OFS=, -v f="$file" '
	{ sub(/\r$/, "") }
	NR == FNR { if ($1 == f) id[$2] = $3; next }
	FNR > 1 && (FNR in id) { $1 = id[FNR] }
	{ print }
' "$tmp/county/truth/records.csv" "$tmp/county/$file" > "$tmp/students.csv"

# CSV filter: comma, double quote, UTF-8 (76), from line 1; every column
# left to Calc's default "standard" type, so the IDs become numbers.
soffice --headless -env:UserInstallation="file://$tmp/profile" \
	--convert-to xlsx --infilter=CSV:44,34,76,1 --outdir "$tmp" "$tmp/students.csv"
cp "$tmp/students.xlsx" "$here/students.xlsx"
echo "wrote $here/students.xlsx"
