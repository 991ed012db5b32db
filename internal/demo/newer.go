package demo

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/idcard"
	"github.com/canbao/canbao/internal/source"
)

// NewerOptions describe the newer extracts NewerExtracts writes.
type NewerOptions struct {
	County string    // 6-digit county code whose extracts in force are read
	Kinds  []string  // which extracts to renew, in import order (KindHukou, KindDeath, KindEnrollment, KindResidence, KindStudent; the hukou's first)
	Rate   float64   // scales the change rates; 1 changes about 1% of a hukou extract's persons
	Seed   int64     // same seed, same changes
	Today  time.Time // the day the newer extracts are taken (births are born on it)
}

// NewerFile is a newer extract written by NewerExtracts, with the source
// of the batch it replaces (so it supersedes that batch) and how many
// rows it changed, added or dropped.
type NewerFile struct {
	File
	Changes int
}

// NewerExtracts writes, for each kind asked, a newer version of the
// county's extract in force: the same rows as imported (raw cells, dirt
// and all) with a few per cent changed — deaths, moves out (as a status or
// by leaving the file), another household or village, births and moves in
// for the hukou; new deaths (some of persons the hukou still lists as
// living) and a corrected death date; enrollments interrupted, resumed,
// ended and started. Rows are streamed from the database, so a county of
// a million persons costs little memory.
func NewerExtracts(ctx context.Context, db *pgxpool.Pool, opt NewerOptions, dir string) ([]NewerFile, error) {
	if opt.Rate <= 0 {
		opt.Rate = 1
	}
	if opt.Today.IsZero() {
		opt.Today = source.Day(time.Now())
	}
	r := rand.New(rand.NewPCG(uint64(opt.Seed), 13))
	n := &newer{opt: opt, r: r, dead: map[string]string{}, regions: map[string]bool{}, listed: map[string]bool{}}
	var out []NewerFile
	for _, kind := range opt.Kinds {
		b, ok, err := currentBatch(ctx, db, kind, opt.County)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		path := filepath.Join(dir, fmt.Sprintf("%s_新版_%s.csv", kind, opt.Today.Format("20060102")))
		changes, err := n.write(ctx, db, b, path)
		if err != nil {
			return nil, fmt.Errorf("newer %s extract: %w", kind, err)
		}
		out = append(out, NewerFile{File: File{Path: path, Kind: kind, Source: b.source}, Changes: changes})
	}
	return out, nil
}

// batchInfo is an extract in force.
type batchInfo struct {
	id      int64
	kind    string
	source  string
	header  []string
	mapping map[string]int
}

func currentBatch(ctx context.Context, db *pgxpool.Pool, kind, county string) (batchInfo, bool, error) {
	// The largest extract of the kind in force for the county.
	const q = `SELECT id, kind, source, header, mapping FROM import_batch
		WHERE kind = $1 AND region_code = $2 AND status = 'done' AND superseded_by IS NULL
		ORDER BY rows_accepted DESC, id LIMIT 1`
	var b batchInfo
	var mapping []byte
	err := db.QueryRow(ctx, q, kind, county).Scan(&b.id, &b.kind, &b.source, &b.header, &mapping)
	if err == pgx.ErrNoRows {
		return b, false, nil
	}
	if err != nil {
		return b, false, err
	}
	return b, true, json.Unmarshal(mapping, &b.mapping)
}

// newer carries what one kind's changes tell the next: who died in the
// hukou, so the death extract can report some of them.
type newer struct {
	opt      NewerOptions
	r        *rand.Rand
	dead     map[string]string // IDs (and names) the newer hukou reports dead
	regions  map[string]bool   // villages seen, for moves within the county
	villages []string
	living   []string        // IDs of hukou persons left 正常, for deaths the hukou has not heard of
	students []string        // IDs of other hukou persons left 正常, of school age, for new students
	listed   map[string]bool // IDs the student extract in force lists: no new students
	newborns [][2]string     // ID and name of births and moves in, for their enrollment
	seq      int             // today's births so far
}

// chance reports whether a change of base rate (per person, at Rate 1) happens.
func (n *newer) chance(base float64) bool { return n.r.Float64() < base*n.opt.Rate }

func (n *newer) write(ctx context.Context, db *pgxpool.Pool, b batchInfo, path string) (int, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	w := csv.NewWriter(f)
	header := append([]string(nil), b.header...)
	col := func(key, name string) int { // the column of a field, added when the file has none
		if i, ok := b.mapping[key]; ok {
			return i
		}
		header = append(header, name)
		b.mapping[key] = len(header) - 1
		return len(header) - 1
	}
	c := columnsOf(b.kind, col)
	if err := w.Write(header); err != nil {
		_ = f.Close()
		return 0, err
	}
	rows, err := db.Query(ctx, `SELECT raw, coalesce(id_norm, ''), id_damage IS NULL, coalesce(pop_status, ''), coalesce(household, ''),
		coalesce(region_code, ''), coalesce(name, ''), enroll_status, pay_status FROM source_record WHERE batch_id = $1 ORDER BY line`, b.id)
	if err != nil {
		_ = f.Close()
		return 0, err
	}
	changes := 0
	var last []string
	for rows.Next() {
		var rec record
		if err := rows.Scan(&rec.raw, &rec.id, &rec.valid, &rec.pop, &rec.household, &rec.region, &rec.name, &rec.enroll, &rec.pay); err != nil {
			rows.Close()
			_ = f.Close()
			return 0, err
		}
		cells := strings.Split(rec.raw, "\x1f")
		for len(cells) < len(header) {
			cells = append(cells, "")
		}
		keep, changed := n.change(b.kind, c, &rec, cells)
		if changed {
			changes++
		}
		if keep {
			if err := w.Write(cells); err != nil {
				rows.Close()
				_ = f.Close()
				return 0, err
			}
		}
		last = cells
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		_ = f.Close()
		return 0, err
	}
	added, err := n.add(b.kind, c, header, last, w)
	if err != nil {
		_ = f.Close()
		return 0, err
	}
	w.Flush()
	if err := w.Error(); err != nil {
		_ = f.Close()
		return 0, err
	}
	return changes + added, f.Close()
}

// record is a row of the extract in force.
type record struct {
	raw, id, pop, household, region, name string
	valid                                 bool
	enroll, pay                           *int16
}

// cols are the columns the changes write.
type cols struct {
	id, name, sex, birth, household, relation, region, pop, death, enroll, pay, enrollDate, school int
}

func columnsOf(kind string, col func(key, name string) int) cols {
	c := cols{id: col("id", "公民身份号码"), name: col("name", "姓名")}
	switch kind {
	case KindHukou:
		c.sex, c.birth, c.household = col("sex", "性别"), col("birth", "出生日期"), col("household", "户号")
		c.relation, c.region, c.pop = col("relation", "与户主关系"), col("hukou_region", "户籍地区划代码"), col("pop_status", "人口状态")
	case KindDeath:
		c.death = col("death_date", "死亡日期")
	case KindEnrollment:
		c.enroll, c.pay, c.enrollDate = col("enroll_status", "参保状态"), col("pay_status", "缴费状态"), col("enroll_date", "参保日期")
	case KindResidence:
		c.sex, c.birth, c.region = col("sex", "性别"), col("birth", "出生日期"), col("res_region", "居住地区划代码")
	case KindStudent:
		c.school = col("school", "学校名称")
	}
	return c
}

// change decides one row's fate: kept (possibly changed) or dropped.
func (n *newer) change(kind string, c cols, rec *record, cells []string) (keep, changed bool) {
	if !rec.valid {
		return true, false
	}
	switch kind {
	case KindHukou:
		if rec.pop != "" && rec.pop != "正常" {
			return true, false
		}
		if len(rec.region) == 12 && !n.regions[rec.region] && len(n.villages) < 500 {
			n.regions[rec.region] = true
			n.villages = append(n.villages, rec.region)
		}
		switch {
		case n.chance(0.003):
			cells[c.pop] = "死亡"
			n.dead[rec.id] = rec.name
		case n.chance(0.0015):
			return false, true // gone from the extract
		case n.chance(0.0015):
			cells[c.pop] = "迁出"
		case n.chance(0.002):
			cells[c.household] = rec.household + "-1"
		case n.chance(0.001) && len(n.villages) > 1:
			to := n.villages[n.r.IntN(len(n.villages))]
			if to == rec.region {
				return true, false
			}
			cells[c.region] = to
		default:
			// Two disjoint lists: nobody the death extract reports dead is
			// a new student.
			if age, ok := idcard.AgeOn(rec.id, n.opt.Today); ok && age >= 16 && age <= 22 && len(n.students) < 50 && n.chance(0.2) {
				n.students = append(n.students, rec.id+"\x1f"+rec.name)
			} else if len(n.living) < 200 && n.chance(0.02) {
				n.living = append(n.living, rec.id+"\x1f"+rec.name)
			}
			return true, false
		}
		return true, true
	case KindResidence:
		switch {
		case n.chance(0.01):
			return false, true // moved away
		case n.chance(0.005) && len(n.villages) > 1:
			to := n.villages[n.r.IntN(len(n.villages))]
			if to == rec.region {
				return true, false
			}
			cells[c.region] = to
			return true, true
		}
	case KindStudent:
		n.listed[rec.id] = true
		if n.chance(0.02) {
			return false, true // left school
		}
	case KindDeath:
		if n.chance(0.02) { // a corrected date
			cells[c.death] = n.opt.Today.AddDate(0, 0, -40-n.r.IntN(200)).Format("2006-01-02")
			return true, true
		}
	case KindEnrollment:
		interrupted := (rec.enroll != nil && *rec.enroll == 2) || (rec.pay != nil && *rec.pay == 2)
		ended := (rec.enroll != nil && *rec.enroll == 4) || (rec.pay != nil && *rec.pay == 3)
		switch {
		case ended:
		case interrupted && n.chance(0.05):
			cells[c.enroll], cells[c.pay] = "正常参保", "参保缴费"
			return true, true
		case n.dead[rec.id] != "" || n.chance(0.003):
			cells[c.enroll], cells[c.pay] = "终止参保", "终止缴费"
			return true, true
		case n.chance(0.005):
			cells[c.enroll], cells[c.pay] = "暂停参保", "暂停缴费"
			return true, true
		}
	}
	return true, false
}

// add appends the new rows: births and moves in to the hukou, deaths to
// the death extract, enrollments of the newcomers; like a row of the file
// (last) in its other cells.
func (n *newer) add(kind string, c cols, header, last []string, w *csv.Writer) (int, error) {
	if last == nil {
		return 0, nil
	}
	added := 0
	put := func(cells []string) error {
		added++
		return w.Write(cells)
	}
	row := func() []string {
		cells := make([]string, len(header))
		copy(cells, last)
		return cells
	}
	today := n.opt.Today
	switch kind {
	case KindHukou:
		births := int(float64(len(n.dead))*0.5) + 1
		for i := range births + births/2 {
			born := today
			if i >= births { // moved in: an adult
				born = today.AddDate(-20-n.r.IntN(30), -n.r.IntN(12), -n.r.IntN(28))
			}
			id, name := n.person(born)
			cells := row()
			cells[c.id], cells[c.name], cells[c.birth] = id, name, born.Format("2006-01-02")
			cells[c.sex] = sexOf(id)
			cells[c.household] = fmt.Sprintf("N%s%04d", today.Format("0102"), i)
			cells[c.relation], cells[c.pop] = "户主", "正常"
			if i < births {
				cells[c.relation] = "子女"
			}
			if err := put(cells); err != nil {
				return added, err
			}
			n.newborns = append(n.newborns, [2]string{id, name})
		}
	case KindDeath:
		ids := make([]string, 0, len(n.dead))
		for id := range n.dead {
			ids = append(ids, id)
		}
		slices.Sort(ids)         // the same seed, the same file
		for _, id := range ids { // the hukou's deaths, most also recorded by civil affairs
			if n.r.IntN(3) == 0 {
				continue
			}
			cells := row()
			cells[c.id], cells[c.name] = id, n.dead[id]
			cells[c.death] = today.AddDate(0, 0, -1-n.r.IntN(30)).Format("2006-01-02")
			if err := put(cells); err != nil {
				return added, err
			}
		}
		for i, p := range n.living { // deaths the hukou has not heard of: held for a clerk
			if i >= 1+len(n.dead)/3 {
				break
			}
			id, name, _ := strings.Cut(p, "\x1f")
			cells := row()
			cells[c.id], cells[c.name] = id, name
			cells[c.death] = today.AddDate(0, 0, -1-n.r.IntN(30)).Format("2006-01-02")
			if err := put(cells); err != nil {
				return added, err
			}
		}
	case KindResidence: // new residents, born elsewhere
		for range 1 + int(5*n.opt.Rate) {
			born := today.AddDate(-20-n.r.IntN(30), -n.r.IntN(12), -n.r.IntN(28))
			id, name := n.person(born)
			cells := row()
			cells[c.id], cells[c.name], cells[c.birth] = id, name, born.Format("2006-01-02")
			cells[c.sex] = sexOf(id)
			if err := put(cells); err != nil {
				return added, err
			}
		}
	case KindStudent: // hukou persons of 16 to 22 newly at school: no longer 应参未参
		for i, p := range n.students {
			if i >= 1+len(n.students)/2 {
				break
			}
			id, name, _ := strings.Cut(p, "\x1f")
			if n.listed[id] {
				continue
			}
			cells := row()
			cells[c.id], cells[c.name] = id, name
			if err := put(cells); err != nil {
				return added, err
			}
		}
	case KindEnrollment:
		for _, p := range n.newborns {
			cells := row()
			cells[c.id], cells[c.name] = p[0], p[1]
			cells[c.enroll], cells[c.pay], cells[c.enrollDate] = "正常参保", "参保缴费", today.Format("2006-01-02")
			if err := put(cells); err != nil {
				return added, err
			}
		}
	}
	return added, nil
}

// person makes a new person born on born: a valid ID and a name. Today's
// births take sequence numbers from 000 (nobody else is born today),
// 1,000 per address code (then codes of the county's neighbours: born
// there, registered here); others from 900 up, which the generator does
// not reach for one day of one county.
func (n *newer) person(born time.Time) (string, string) {
	seq, place := 900+n.r.IntN(100), n.opt.County
	if born.Equal(n.opt.Today) {
		places := []string{n.opt.County, "440902", "440904", "440982", "440983", "440923"}
		seq, place = n.seq%1000, places[(n.seq/1000)%len(places)]
		n.seq++
	}
	first := fmt.Sprintf("%s%s%03d", place, born.Format("20060102"), seq)
	id := first + string(idcard.CheckChar(first))
	sur := []string{"陈", "李", "黄", "梁", "林", "张", "吴", "刘"}[n.r.IntN(8)]
	given := []string{"子轩", "梓涵", "浩然", "雨桐", "思远", "欣怡", "俊杰", "诗琪"}[n.r.IntN(8)]
	return id, sur + given
}

// sexOf is the 性别 cell the ID's sequence digit gives.
func sexOf(id string) string {
	if idcard.Male(id) {
		return "男"
	}
	return "女"
}
