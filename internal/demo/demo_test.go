package demo

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/canbao/canbao/internal/sheet"
)

// testCounty is 高州市, whose villages ship with the region package.
const testCounty = "440981"

// loadVillages reads the county's villages from the national table.
func loadVillages(t testing.TB, county string) []Village {
	t.Helper()
	f, err := os.Open("../region/divisions/villages.csv.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(gz).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []Village
	for _, r := range recs[1:] {
		if strings.HasPrefix(r[0], county) {
			out = append(out, Village{Code: r[0], Name: r[1]})
		}
	}
	if len(out) == 0 {
		t.Fatalf("no villages for %s", county)
	}
	return out
}

// testOptions are the options of a 高州市 run of n households.
func testOptions(t testing.TB, n int, format string) Options {
	return Options{
		County: testCounty, CountyName: "高州市", Villages: loadVillages(t, testCounty),
		OtherCounties: []string{"440902", "440904", "440982", "440983", "450802", "430524", "360730"},
		Households:    n, Seed: 42, AsOf: ymd(2017, 6, 30), Format: format,
	}
}

// mustGenerate runs generate into a fresh directory.
func mustGenerate(t testing.TB, opt Options) (Result, *world, []*extract, string) {
	t.Helper()
	dir := t.TempDir()
	res, w, files, err := generate(opt, dir)
	if err != nil {
		t.Fatal(err)
	}
	return res, w, files, dir
}

func TestGenerateDeterministic(t *testing.T) {
	opt := testOptions(t, 300, "mixed")
	a, _, _, dirA := mustGenerate(t, opt)
	_, _, _, dirB := mustGenerate(t, opt)
	paths := []string{a.TruthRecords, a.TruthPersons}
	for _, f := range a.Files {
		paths = append(paths, f.Path)
	}
	for _, p := range paths {
		rel, _ := filepath.Rel(dirA, p)
		x, errA := os.ReadFile(p)
		y, errB := os.ReadFile(filepath.Join(dirB, rel))
		if errA != nil || errB != nil {
			t.Fatal(errA, errB)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs with the same seed", rel)
		}
	}
}

func TestGenerateOtherSeedDiffers(t *testing.T) {
	opt := testOptions(t, 100, "csv")
	a, _, _, _ := mustGenerate(t, opt)
	opt.Seed = 43
	b, _, _, _ := mustGenerate(t, opt)
	x, _ := os.ReadFile(a.TruthPersons)
	y, _ := os.ReadFile(b.TruthPersons)
	if bytes.Equal(x, y) {
		t.Error("different seeds gave the same persons")
	}
}

func TestOptionsRejected(t *testing.T) {
	cases := map[string]Options{
		"ErrCounty":   {County: "4409", Villages: []Village{{"440981107204", "镇江村委会"}}},
		"ErrVillages": {County: testCounty},
		"ErrForeign":  {County: testCounty, Villages: []Village{{"440982107204", "某村委会"}}},
		"ErrFormat":   {County: testCounty, Villages: []Village{{"440981107204", "镇江村委会"}}, Format: "ods"},
	}
	for name, opt := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Generate(opt, t.TempDir()); err == nil {
				t.Error("want an error")
			}
		})
	}
}

// truthRecord is one line of truth/records.csv.
type truthRecord struct {
	file   string
	line   int
	id     string
	damage string
}

// readCSV reads a CSV file in any of the three encodings.
func readCSV(t testing.TB, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.TrimPrefix(b, []byte("\uFEFF"))
	if !utf8.Valid(b) {
		if b, err = simplifiedchinese.GB18030.NewDecoder().Bytes(b); err != nil {
			t.Fatal(err)
		}
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	var out [][]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if line, _ := r.FieldPos(0); line != len(out)+1 {
			t.Fatalf("%s: record %d starts on line %d", path, len(out)+1, line)
		}
		out = append(out, rec)
	}
}

// readTruthRecords reads truth/records.csv grouped by file.
func readTruthRecords(t testing.TB, path string) map[string][]truthRecord {
	t.Helper()
	out := map[string][]truthRecord{}
	for _, r := range readCSV(t, path)[1:] {
		n, err := strconv.Atoi(r[1])
		if err != nil {
			t.Fatal(err)
		}
		out[r[0]] = append(out[r[0]], truthRecord{r[0], n, r[2], r[3]})
	}
	return out
}

// readTruthNames maps IDs to names from truth/persons.csv.
func readTruthNames(t testing.TB, path string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, r := range readCSV(t, path)[1:] {
		out[r[0]] = r[1]
	}
	return out
}

// normalizeID is DOMAIN §1's silent normalization, as an importer does it.
func normalizeID(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c == ' ' || c == '\u3000' || c == '\t':
			continue
		case c >= '！' && c <= '～':
			c -= 0xFEE0
		}
		b.WriteRune(c)
	}
	id := strings.ToUpper(b.String())
	if len(id) == 15 && allDigits(id) {
		body := id[:6] + "19" + id[6:]
		return body + string(checkChar(body))
	}
	return id
}

// validID is DOMAIN §1's validity after normalization.
func validID(id string) bool {
	if !checksumOK(id) {
		return false
	}
	d, err := time.Parse("20060102", id[6:14])
	return err == nil && !d.After(time.Now())
}

// headerLine finds the header row: the first row naming 姓名.
func headerLine(recs [][]string) int {
	for i, r := range recs {
		if slices.Contains(r, "姓名") {
			return i
		}
	}
	return -1
}

// blankRow reports whether every cell is empty.
func blankRow(r []string) bool {
	for _, c := range r {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func TestRecordsReconcile(t *testing.T) {
	for _, format := range []string{"csv", "xlsx", "mixed"} {
		t.Run(format, func(t *testing.T) {
			opt := testOptions(t, 2000, format)
			opt.RoundedStudents = format == "mixed"
			res, _, _, _ := mustGenerate(t, opt)
			truth := readTruthRecords(t, res.TruthRecords)
			names := readTruthNames(t, res.TruthPersons)
			total := 0
			for _, f := range res.Files {
				recs := truth[filepath.Base(f.Path)]
				total += len(recs)
				if len(recs) != f.Rows {
					t.Errorf("%s: Result says %d rows, truth has %d", f.Path, f.Rows, len(recs))
				}
				if strings.HasSuffix(f.Path, ".csv") {
					checkCSVFile(t, f, recs, names)
				} else {
					checkXLSXFile(t, f, recs, names)
				}
			}
			if total != res.Records {
				t.Errorf("truth has %d records, Result.Records %d", total, res.Records)
			}
		})
	}
}

// checkCSVFile re-reads one CSV extract and checks every truth line
// against it.
func checkCSVFile(t *testing.T, f File, recs []truthRecord, names map[string]string) {
	t.Helper()
	rows := readCSV(t, f.Path)
	h := headerLine(rows)
	if h < 0 {
		t.Fatalf("%s: no header row", f.Path)
	}
	idCol, nameCol := idColumn(rows[h]), slices.Index(rows[h], "姓名")
	data := 0
	for _, r := range rows[h+1:] {
		if !blankRow(r) {
			data++
		}
	}
	if data != len(recs) {
		t.Errorf("%s: %d data rows, truth has %d", f.Path, data, len(recs))
	}
	for _, tr := range recs {
		if tr.line <= h+1 || tr.line > len(rows) || blankRow(rows[tr.line-1]) {
			t.Errorf("%s: truth line %d is not a data row", f.Path, tr.line)
			continue
		}
		r := rows[tr.line-1]
		checkCell(t, f.Path, tr, r[idCol], r[nameCol], names[tr.id])
	}
}

// checkXLSXFile re-reads one XLSX extract through the sheet package's
// reader, which skips blank rows and reports spreadsheet row numbers.
func checkXLSXFile(t *testing.T, f File, recs []truthRecord, names map[string]string) {
	t.Helper()
	rows, _, err := sheet.Open(f.Path, sheet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var header []string
	data := map[int][]string{}
	for rows.Next() {
		v := slices.Clone(rows.Values())
		if header != nil {
			data[rows.Line()] = append(v, make([]string, len(header))...)
		} else if slices.Contains(v, "姓名") {
			header = v
		}
	}
	if err := rows.Err(); err != nil || header == nil {
		t.Fatalf("%s: %v (header %q)", f.Path, err, header)
	}
	if len(data) != len(recs) {
		t.Errorf("%s: %d data rows, truth has %d", f.Path, len(data), len(recs))
	}
	idCol, nameCol := idColumn(header), slices.Index(header, "姓名")
	for _, tr := range recs {
		r, ok := data[tr.line]
		if !ok {
			t.Errorf("%s: truth line %d is not a data row", f.Path, tr.line)
			continue
		}
		checkCell(t, f.Path, tr, r[idCol], r[nameCol], names[tr.id])
	}
}

// idColumn finds the ID column under any of its aliases.
func idColumn(header []string) int {
	for i, c := range header {
		if strings.Contains(c, "身份证") || c == "公民身份号码" || c == "证件号码" {
			return i
		}
	}
	return -1
}

// checkCell checks one row's ID and name against the truth.
func checkCell(t *testing.T, path string, tr truthRecord, idCell, name, trueName string) {
	t.Helper()
	norm := normalizeID(idCell)
	bad := func(why string) {
		t.Errorf("%s:%d %s: id %q name %q (truth %s %s)", path, tr.line, why, idCell, name, tr.id, trueName)
	}
	switch tr.damage {
	case "":
		if norm != tr.id || name != trueName {
			bad("clean row disagrees with truth")
		}
	case damageInvalid:
		if idCell != "" || name != "" || tr.id != "" {
			bad("invalid row has an ID or a name")
		}
	case damageBlankID:
		if idCell != "" || name != trueName {
			bad("blank-ID row")
		}
	case damageNameTypo:
		if norm != tr.id || name == trueName || utf8.RuneCountInString(name) != utf8.RuneCountInString(trueName) {
			bad("name typo")
		}
	case damageNumeric:
		f, err := strconv.ParseFloat(idCell, 64)
		asText := strconv.FormatFloat(f, 'f', -1, 64)
		sci := strings.HasSuffix(idCell, "E+17") || strings.HasSuffix(path, ".xlsx")
		if err != nil || !sci || asText[:15] != tr.id[:15] || validID(asText) {
			bad("numeric ID")
		}
	case damageNumericFull:
		if norm != tr.id[:15]+"000" || norm == tr.id || name != trueName {
			bad("numeric ID written in full")
		}
	case damageNamePoly:
		if norm != tr.id || name == trueName || utf8.RuneCountInString(name) != utf8.RuneCountInString(trueName) {
			bad("polyphonic name")
		}
	case damageNameOrder:
		if norm != tr.id || name == trueName || !sameRunes(name, trueName) {
			bad("given name in another order")
		}
	case damageSeqTwo:
		if len(norm) != 18 || norm[:14] != tr.id[:14] || norm == tr.id || validID(norm) || name != trueName {
			bad("two wrong sequence digits")
		}
	case damageRounded:
		f, err := strconv.ParseFloat(idCell, 64)
		want, _ := strconv.ParseFloat(tr.id, 64)
		if err != nil || !strings.HasSuffix(idCell, "E+17") || math.Abs(f-want) > 1000 || name != trueName {
			bad("rounded numeric ID")
		}
	case damageWrongDigit, damageSwap:
		if validID(norm) || len(norm) != 18 || name != trueName {
			bad("typo ID")
		}
	default:
		bad("unknown damage label")
	}
	if tr.damage == "" && !validID(norm) {
		bad("clean row has an invalid ID")
	}
}

// rateStats counts damage and noise over the rows of the non-户籍 files.
func rateStats(files []*extract) (rows int, got map[string]int) {
	got = map[string]int{}
	for _, x := range files {
		if x.spec.kind == KindHukou {
			continue
		}
		for _, r := range x.rows {
			if r.who < 0 {
				continue
			}
			rows++
			got[r.damage]++
			got[r.noise]++
			if id, ok := r.vals[0].(string); ok && r.noise != noiseOldID && strings.HasSuffix(strings.ToUpper(id), "X") {
				got["endsX"]++
			}
		}
	}
	return rows, got
}

func TestDirtRates(t *testing.T) {
	start := time.Now()
	res, w, files, _ := mustGenerate(t, testOptions(t, 10000, "mixed"))
	t.Logf("10000 households, %d persons, %d records: %v", res.Persons, res.Records, time.Since(start))
	rows, got := rateStats(files)
	want := map[string]float64{
		damageWrongDigit: rateWrongDigit, damageSwap: rateSwap, damageNumeric: rateNumeric,
		damageBlankID: rateBlankID, damageNameTypo: rateNameTypo,
		damageNumericFull: rateNumericFull, damageNamePoly: rateNamePoly,
		damageNameOrder: rateNameOrder, damageSeqTwo: rateSeqTwo,
		noiseOldID: rateOldID, noiseFullWidth: rateFullWidth, noiseSpaces: rateSpaces,
	}
	for _, label := range slices.Sorted(maps.Keys(want)) {
		rate := float64(got[label]) / float64(rows)
		t.Logf("%s: %d of %d rows = %.4f (want %.4f)", label, got[label], rows, rate, want[label])
		if math.Abs(rate-want[label]) > 0.3*want[label] {
			t.Errorf("%s rate %.4f is not within 30%% of %.4f", label, rate, want[label])
		}
	}
	lower := float64(got[noiseLowerX]) / float64(got["endsX"])
	t.Logf("%s: %d of %d X rows = %.3f", noiseLowerX, got[noiseLowerX], got["endsX"], lower)
	if math.Abs(lower-rateLowerX) > 0.3*rateLowerX {
		t.Errorf("lower-case x rate %.3f is not within 30%% of %.3f", lower, rateLowerX)
	}
	logTruthTotals(t, w, files)
	checkLinkable(t, w, files)
}

// logTruthTotals reports the classification totals of the truth.
func logTruthTotals(t *testing.T, w *world, files []*extract) {
	counts := map[string]int{}
	for _, p := range w.truthPersons(files) {
		v := p.verdict
		counts["persons"]++
		if v.universe {
			counts["universe"]++
		}
		counts["养老 "+v.pension]++
		counts["医疗 "+v.medical]++
		for _, f := range v.flags {
			counts["flag "+f]++
		}
		if v.survey {
			counts["survey"]++
		}
	}
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		t.Logf("truth %s: %d", k, counts[k])
	}
	for _, f := range flagOrder {
		if counts["flag "+f] == 0 {
			t.Errorf("no person flagged %s", f)
		}
	}
}

// checkLinkable links every row with a non-blank ID the way a simple
// linker would (exact, then one typo or swap away, then the 15 digits a
// spreadsheet keeps) and requires at least 99.5% correct links.
func checkLinkable(t *testing.T, w *world, files []*extract) {
	known := map[string]int{}
	prefix := map[string][]int{}
	for _, x := range files {
		for _, r := range x.rows {
			if r.who >= 0 {
				id := w.persons[r.who].id
				if _, ok := known[id]; !ok {
					known[id] = r.who
					prefix[id[:15]] = append(prefix[id[:15]], r.who)
				}
			}
		}
	}
	total, right := 0, 0
	for _, x := range files {
		for _, r := range x.rows {
			if r.who < 0 || r.vals[0] == "" {
				continue
			}
			total++
			if linkRow(r.vals[0], known, prefix) == r.who {
				right++
			}
		}
	}
	share := float64(right) / float64(total)
	t.Logf("simple linker: %d of %d rows with an ID linked right (%.4f)", right, total, share)
	if share < 0.995 {
		t.Errorf("only %.4f of rows linkable", share)
	}
}

// linkRow finds the person of one printed ID, or -1.
func linkRow(v any, known map[string]int, prefix map[string][]int) int {
	var s string
	switch v := v.(type) {
	case float64:
		s = strconv.FormatFloat(v, 'f', -1, 64)
	case string:
		s = v
	}
	if strings.HasSuffix(s, "E+17") {
		f, _ := strconv.ParseFloat(s, 64)
		s = strconv.FormatFloat(f, 'f', -1, 64)
	}
	id := normalizeID(s)
	if who, ok := known[id]; ok && validID(id) {
		return who
	}
	if len(id) == 18 && strings.HasSuffix(id, "000") {
		if c := prefix[id[:15]]; len(c) == 1 {
			return c[0]
		}
	}
	found := -1
	idNeighbours(id, func(c string) {
		if who, ok := known[c]; ok {
			if found >= 0 && found != who {
				found = -2
			} else if found != -2 {
				found = who
			}
		}
	})
	return found
}

func TestClassify(t *testing.T) {
	asOf := ymd(2017, 6, 30)
	home := "440981107204"
	hukou := evidence{kind: KindHukou, region: home, hukou: hukouNormal}
	rural := func(ins, pay string) evidence {
		return evidence{kind: KindEnrollment, scheme: schRural, region: testCounty, ins: ins, pay: pay}
	}
	med := evidence{kind: KindEnrollment, scheme: schResidentMed, region: testCounty, ins: insNormal, pay: payNormal}
	born16 := ymd(2001, 6, 30) // 16 exactly on the as-of date
	born15 := ymd(2001, 7, 1)  // 16 the day after
	cases := []struct {
		name  string
		birth time.Time
		ev    []evidence
		want  verdict
	}{
		{"Age16OnAsOf", born16, []evidence{hukou, med}, verdict{true, statusMissing, statusInsured, nil, true}},
		{"Age15DayBefore", born15, []evidence{hukou, med}, verdict{true, statusNA, statusInsured, nil, false}},
		{"Student16", born16, []evidence{hukou, med, {kind: KindStudent}}, verdict{true, statusNA, statusInsured, nil, false}},
		{"Insured", ymd(1970, 1, 1), []evidence{hukou, med, rural(insNormal, payNormal)}, verdict{true, statusInsured, statusInsured, nil, false}},
		{"RetireeBlankPay", ymd(1940, 1, 1), []evidence{hukou, med, rural(insNormal, payNone)}, verdict{true, statusInsured, statusInsured, nil, false}},
		{"InterruptedPay", ymd(1970, 1, 1), []evidence{hukou, med, rural(insNormal, paySuspended)}, verdict{true, statusInterrupted, statusInsured, nil, false}},
		{"InterruptedIns", ymd(1970, 1, 1), []evidence{hukou, med, rural(insSuspended, payNormal)}, verdict{true, statusInterrupted, statusInsured, nil, false}},
		{"InterruptedPlusRunning", ymd(1970, 1, 1), []evidence{hukou, med, rural(insSuspended, payNormal),
			{kind: KindEnrollment, scheme: schEnterprise, region: testCounty, ins: insNormal, pay: payNormal}},
			verdict{true, statusInsured, statusInsured, []string{flagDualPension}, false}},
		{"EndedIns", ymd(1970, 1, 1), []evidence{hukou, med, rural(insEnded, payNormal)}, verdict{true, statusMissing, statusInsured, nil, true}},
		{"EndedPay", ymd(1970, 1, 1), []evidence{hukou, med, rural(insNormal, payEnded)}, verdict{true, statusMissing, statusInsured, nil, true}},
		{"NoMedical", ymd(2010, 1, 1), []evidence{hukou}, verdict{true, statusNA, statusMissing, nil, true}},
		{"DeathOnAsOf", ymd(1930, 1, 1), []evidence{hukou, med, {kind: KindDeath, death: asOf}},
			verdict{false, statusNA, statusNA, []string{flagDeadEnrolled, flagHukouPending}, false}},
		{"DeathAfterAsOf", ymd(1930, 1, 1), []evidence{hukou, med, rural(insNormal, payNone), {kind: KindDeath, death: asOf.AddDate(0, 0, 1)}},
			verdict{true, statusInsured, statusInsured, []string{flagDeadEnrolled, flagHukouPending}, false}},
		{"DeadHukouCancelled", ymd(1930, 1, 1), []evidence{{kind: KindHukou, region: home, hukou: hukouDead},
			rural(insEnded, payEnded), {kind: KindDeath, death: ymd(2016, 1, 1)}}, verdict{false, statusNA, statusNA, nil, false}},
		{"MovedOutStillEnrolled", ymd(1980, 1, 1), []evidence{{kind: KindHukou, region: home, hukou: hukouMoved}, med},
			verdict{true, statusMissing, statusInsured, []string{flagNonLocal}, false}},
		{"Resident", ymd(1990, 1, 1), []evidence{{kind: KindResidence, region: home}},
			verdict{true, statusMissing, statusMissing, nil, true}},
		{"ResidentInsuredHere", ymd(1990, 1, 1), []evidence{{kind: KindResidence, region: home}, med},
			verdict{true, statusMissing, statusInsured, []string{flagNonLocal}, true}},
		{"OtherCountyOnly", ymd(1980, 1, 1), []evidence{{kind: KindEnrollment, scheme: schNCMS, region: "440982", ins: insNormal}},
			verdict{false, statusNA, statusNA, nil, false}},
		{"CrossRegionTownshipCode", ymd(1980, 1, 1), []evidence{hukou, rural(insNormal, payNormal),
			{kind: KindEnrollment, scheme: schRural, region: "440982105", ins: insNormal, pay: payNormal}, med},
			verdict{true, statusInsured, statusInsured, []string{flagCrossRegion}, false}},
		{"SameCountyTwoCodes", ymd(1980, 1, 1), []evidence{hukou, rural(insNormal, payNormal),
			{kind: KindEnrollment, scheme: schRural, region: "440981105", ins: insNormal, pay: payNormal}, med},
			verdict{true, statusInsured, statusInsured, nil, false}},
		{"DualMedicalAndFaulty", ymd(1980, 1, 1), []evidence{hukou, rural(insNormal, payNormal), med,
			{kind: KindEnrollment, scheme: schNCMS, region: testCounty, ins: insNormal, faulty: true}},
			verdict{true, statusInsured, statusInsured, []string{flagDualMedical, flagWrongInfo}, true}},
		{"EndedMedicalTwice", ymd(1980, 1, 1), []evidence{hukou, rural(insNormal, payNormal), med,
			{kind: KindEnrollment, scheme: schNCMS, region: testCounty, ins: insEnded}},
			verdict{true, statusInsured, statusInsured, nil, false}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := classify(c.birth, c.ev, testCounty, asOf)
			if got.universe != c.want.universe || got.pension != c.want.pension || got.medical != c.want.medical ||
				!slices.Equal(got.flags, c.want.flags) || got.survey != c.want.survey {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestAgeOn(t *testing.T) {
	cases := []struct {
		birth, day time.Time
		want       int
	}{
		{ymd(2001, 6, 30), ymd(2017, 6, 30), 16},
		{ymd(2001, 7, 1), ymd(2017, 6, 30), 15},
		{ymd(2000, 2, 29), ymd(2016, 2, 28), 15},
		{ymd(2000, 2, 29), ymd(2017, 2, 28), 16},
		{ymd(2000, 2, 29), ymd(2017, 3, 1), 17},
	}
	for _, c := range cases {
		if got := ageOn(c.birth, c.day); got != c.want {
			t.Errorf("ageOn(%v, %v) = %d, want %d", c.birth, c.day, got, c.want)
		}
	}
}

func TestIDHelpers(t *testing.T) {
	if got := makeID("110105", ymd(1949, 12, 31), 2); got != "11010519491231002X" {
		t.Errorf("makeID = %s", got)
	}
	id := "440981199001011234"
	if got := idScientific(id); got != "4.40981199001011E+17" {
		t.Errorf("idScientific = %s", got)
	}
	if got := strconv.FormatFloat(idAsNumber(id), 'f', -1, 64); got != "440981199001011000" {
		t.Errorf("idAsNumber = %s", got)
	}
	if normalizeID(fullWidth("11010519491231002x")) != "11010519491231002X" {
		t.Error("full-width round trip")
	}
	if normalizeID(idOld("11010519491231002X")) != "11010519491231002X" {
		t.Error("15-digit round trip")
	}
}

func TestEnrollmentFile(t *testing.T) {
	villages := loadVillages(t, testCounty)
	for _, ext := range []string{"csv", "xlsx"} {
		path := filepath.Join(t.TempDir(), "参保信息_bench."+ext)
		n, err := EnrollmentFile(path, testCounty, villages, 5001, 7)
		if err != nil || n != 5001 {
			t.Fatalf("%s: %d rows, %v", ext, n, err)
		}
		if ext == "csv" {
			if recs := readCSV(t, path); len(recs) != 5002 {
				t.Errorf("csv has %d lines, want 5002", len(recs))
			}
		}
	}
}

func BenchmarkEnrollmentFile(b *testing.B) {
	villages := loadVillages(b, testCounty)
	const n = 100000
	for b.Loop() {
		if _, err := EnrollmentFile(filepath.Join(b.TempDir(), "参保信息_bench.csv"), testCounty, villages, n, 1); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkGenerate(b *testing.B) {
	opt := testOptions(b, 10000, "mixed")
	for b.Loop() {
		if _, err := Generate(opt, b.TempDir()); err != nil {
			b.Fatal(err)
		}
	}
}

func TestTinyCounty(t *testing.T) {
	opt := Options{County: testCounty, Villages: []Village{{"440981107204", "镇江村委会"}}, Households: 1, Seed: 1}
	res, err := Generate(opt, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if res.Persons == 0 || len(res.Files) != 10 {
		t.Errorf("got %+v", res)
	}
}

// sameRunes reports whether a and b hold the same characters in any order.
func sameRunes(a, b string) bool {
	ra, rb := []rune(a), []rune(b)
	slices.Sort(ra)
	slices.Sort(rb)
	return slices.Equal(ra, rb)
}
