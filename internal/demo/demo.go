// Package demo generates realistic, dirty department extracts for one
// county's universal enrollment registration (全民参保登记), together with
// a ground truth: which person every row belongs to and what the
// comparison of DOMAIN.md §5 must find for every person.
//
// The same Options and Seed always produce the same bytes, so the truth
// can be used as a fixture for importers, linkers and the comparison.
//
// "DOMAIN §n" in this package names the rules written out in the package
// documentation of idcard (§1), source (§3 schemes, §4 extracts) and
// compare (§5); truth.go applies §5 on its own, not through compare, so
// that the two can be checked against each other.
package demo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Source kinds of DOMAIN §4, used as file name prefixes and in File.Kind.
const (
	// KindHukou is the police's registered population.
	KindHukou = "户籍人口"
	// KindResidence is the residence-permit holders with hukou elsewhere.
	KindResidence = "居住人口"
	// KindEnrollment is one scheme's insurance records.
	KindEnrollment = "参保信息"
	// KindDeath is civil affairs' death records.
	KindDeath = "死亡信息"
	// KindStudent is education's list of students.
	KindStudent = "在校学生"
)

// Village is one village-level division (村委会 or 居委会) of the county.
type Village struct{ Code, Name string }

// Options describe the county and the size of the generated population.
type Options struct {
	County        string    // 6-digit county code, e.g. "440981"
	CountyName    string    // e.g. "高州市"
	Villages      []Village // villages of the county
	OtherCounties []string  // other 6-digit county codes for cross-region cases
	Households    int       // number of hukou households
	Seed          int64     // seed of every random choice
	AsOf          time.Time // as-of date the truth is computed for
	Format        string    // "csv", "xlsx" or "mixed" (default)
	// RoundedStudents adds a second 在校学生 extract whose school left the
	// ID column as numbers: each ID written as the 15 significant digits a
	// spreadsheet keeps, rounded (4.40981199708131E+17), as CSV.
	RoundedStudents bool
}

// File is one generated department extract.
type File struct {
	Path string // full path of the file
	Kind string // one of the Kind constants
	Rows int    // data rows, rejected (无效行) rows included
	// Source names the extract where the county has a second one of its
	// kind (RoundedStudents), so that neither replaces the other; "" otherwise.
	Source string
}

// Result lists what Generate wrote.
type Result struct {
	Files        []File
	Persons      int    // known persons (rows of truth/persons.csv)
	Records      int    // data rows over all files (rows of truth/records.csv)
	TruthRecords string // path of truth/records.csv
	TruthPersons string // path of truth/persons.csv
}

// defaultAsOf is the as-of date used when Options.AsOf is zero: the end of
// the first half of 2017, when the registration campaign ran.
var defaultAsOf = time.Date(2017, 6, 30, 0, 0, 0, 0, time.UTC)

// Generate writes the extracts of a synthetic county into outDir and the
// ground truth into outDir/truth.
func Generate(opt Options, outDir string) (Result, error) {
	res, _, _, err := generate(opt, outDir)
	return res, err
}

// generate is Generate that also hands back the world and the extracts,
// which the tests inspect.
func generate(opt Options, outDir string) (Result, *world, []*extract, error) {
	if err := opt.normalize(); err != nil {
		return Result{}, nil, nil, err
	}
	w := newWorld(opt)
	w.populate()
	files := w.buildExtracts()
	w.applyDirt(files)
	if opt.RoundedStudents {
		// Last, so that the other files and their dirt stay as without it.
		files = append(files, w.roundedStudents())
	}
	res, err := w.write(files, outDir)
	return res, w, files, err
}

// write writes the extracts and the truth.
func (w *world) write(files []*extract, outDir string) (Result, error) {
	if err := os.MkdirAll(filepath.Join(outDir, "truth"), 0o755); err != nil {
		return Result{}, err
	}
	var res Result
	for _, x := range files {
		x.path = filepath.Join(outDir, x.fileName())
		if err := w.writeExtract(x); err != nil {
			return Result{}, fmt.Errorf("demo: write %s: %w", x.fileName(), err)
		}
		res.Files = append(res.Files, File{Path: x.path, Kind: x.spec.kind, Rows: len(x.rows), Source: x.spec.source})
		res.Records += len(x.rows)
	}
	res.TruthRecords = filepath.Join(outDir, "truth", "records.csv")
	res.TruthPersons = filepath.Join(outDir, "truth", "persons.csv")
	if err := writeTruthRecords(res.TruthRecords, w, files); err != nil {
		return Result{}, err
	}
	n, err := writeTruthPersons(res.TruthPersons, w, files)
	res.Persons = n
	return res, err
}

// normalize checks the options and fills in defaults.
func (o *Options) normalize() error {
	if len(o.County) != 6 || !allDigits(o.County) {
		return fmt.Errorf("demo: county code %q is not 6 digits", o.County)
	}
	if len(o.Villages) == 0 {
		return errors.New("demo: no villages given for the county")
	}
	if err := o.checkVillages(); err != nil {
		return err
	}
	var others []string
	for _, c := range o.OtherCounties {
		if len(c) == 6 && allDigits(c) && c != o.County {
			others = append(others, c)
		}
	}
	o.OtherCounties = others
	if o.CountyName == "" {
		o.CountyName = o.County
	}
	if o.Households <= 0 {
		o.Households = 1000
	}
	if o.AsOf.IsZero() {
		o.AsOf = defaultAsOf
	}
	y, m, d := o.AsOf.Date()
	o.AsOf = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	switch o.Format {
	case "":
		o.Format = "mixed"
	case "csv", "xlsx", "mixed":
	default:
		return fmt.Errorf("demo: unknown format %q (use csv, xlsx or mixed)", o.Format)
	}
	return nil
}

// checkVillages makes sure every village lies in the county, since the
// truth decides "in the region" by code prefix.
func (o *Options) checkVillages() error {
	for _, v := range o.Villages {
		if len(v.Code) != 12 || v.Code[:6] != o.County {
			return fmt.Errorf("demo: village %s %s is not a village of %s", v.Code, v.Name, o.County)
		}
	}
	return nil
}

// allDigits reports whether s is made of ASCII digits only.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
