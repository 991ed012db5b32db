package source

import (
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/canbao/canbao/internal/sheet"
)

func TestMatchHeaderVariants(t *testing.T) {
	tests := []struct {
		name   string
		kind   Kind
		header string // cells separated by |
		key    string
		col    int
	}{
		{"canonical", Hukou, "公民身份号码|姓名", KeyID, 0},
		{"id alias", Hukou, "身份证号码|姓名", KeyID, 0},
		{"id social security number", Enrollment, "姓名|社会保障号码", KeyID, 1},
		{"id full-width and spaces", Student, "姓名|公民身份证号码　", KeyID, 1},
		{"required mark", Death, "*姓名|死亡日期", KeyName, 0},
		{"required note full-width", Death, "姓名（必填）|死亡日期", KeyName, 0},
		{"stacked marks", Death, "* 姓 名 (必填)：|死亡日期", KeyName, 0},
		{"line break inside", Hukou, "公民身份\n号码|姓名", KeyID, 0},
		{"format note", Hukou, "姓名|出生日期(yyyy-mm-dd)", KeyBirth, 1},
		{"bracket note", Hukou, "姓名|性别【1男2女】", KeySex, 1},
		{"sex code", Hukou, "姓名|性别代码", KeySex, 1},
		{"hukou region alias", Hukou, "姓名|户籍区划代码", KeyHukouRegion, 1},
		{"person status", Hukou, "姓名|人员状态", KeyPopStatus, 1},
		{"insured region", Enrollment, "姓名|参保地区|险种", KeyInsuredRegion, 1},
		{"scheme alias", Enrollment, "姓名|险种", KeyScheme, 1},
		{"death time", Death, "姓名|死亡时间", KeyDeathDate, 1},
		{"school", Student, "姓名|学校", KeySchool, 1},
		{"id contained in longer text", Enrollment, "姓名|被保险人身份证号码|险种", KeyID, 1},
		{"exact beats containment", Hukou, "户主公民身份号码|公民身份号码|姓名", KeyID, 1},
		{"leftmost duplicate wins", Hukou, "姓名|身份证号|证件号码", KeyID, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := MatchHeader(strings.Split(tt.header, "|"), tt.kind)
			if col, ok := m[tt.key]; !ok || col != tt.col {
				t.Errorf("%s → %v; want %s at %d", tt.header, m, tt.key, tt.col)
			}
		})
	}
}

func TestMatchHeaderRefuses(t *testing.T) {
	tests := []struct {
		name   string
		kind   Kind
		header string
		key    string
	}{
		{"head of household's id", Hukou, "户主身份证号码|姓名", KeyID},
		{"head of household's name", Hukou, "户主姓名|性别", KeyName},
		{"field of another kind", Death, "姓名|学校名称", KeySchool},
		{"unknown column", Hukou, "序号|备注", KeyID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := MatchHeader(strings.Split(tt.header, "|"), tt.kind)
			if col, ok := m[tt.key]; ok {
				t.Errorf("%s mapped %s to column %d: %v", tt.header, tt.key, col, m)
			}
		})
	}
}

// rows splits "a|b;c|d" into rows of cells.
func rows(s string) [][]string {
	var out [][]string
	for _, r := range strings.Split(s, ";") {
		out = append(out, strings.Split(r, "|"))
	}
	return out
}

func TestFindHeader(t *testing.T) {
	tests := []struct {
		name    string
		kind    Kind
		rows    string
		idx     int
		ok      bool
		reason  string // substring of the reason when !ok
		wantMap Mapping
	}{
		{"title row above header", Hukou, "某县户籍人口信息表;序号|公民身份号码|姓名|性别;1|440981199001011234|张三|男",
			1, true, "", Mapping{KeyID: 1, KeyName: 2, KeySex: 3}},
		{"title and blank-ish rows", Death, "死亡人员名单（含死亡日期）;制表单位：民政局;姓名|身份证号|死亡时间",
			2, true, "", Mapping{KeyName: 0, KeyID: 1, KeyDeathDate: 2}},
		{"name only plus another field", Student, "姓名|学校", 0, true, "", Mapping{KeyName: 0, KeySchool: 1}},
		{"best row wins over earlier partial", Enrollment, "姓名|险种;姓名|身份证号|险种|参保状态",
			1, true, "", Mapping{KeyName: 0, KeyID: 1, KeyScheme: 2, KeyEnrollStatus: 3}},
		{"missing required scheme", Enrollment, "标题;姓名|身份证号|参保状态", -1, false, "险种类型", nil},
		{"missing required death date", Death, "姓名|身份证号", -1, false, "死亡日期", nil},
		{"identity alone", Student, "姓名", -1, false, "至少还需要一个其他列", nil},
		{"no identity", Hukou, "性别|民族|户号", -1, false, "公民身份号码", nil},
		{"nothing", Hukou, "标题;1|2|3", -1, false, "没有包含“公民身份号码”或“姓名”列", nil},
		{"unknown kind", Kind("低保"), "姓名|身份证号", -1, false, "未知的数据类型", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idx, m, reason, ok := FindHeader(rows(tt.rows), tt.kind)
			if idx != tt.idx || ok != tt.ok || !strings.Contains(reason, tt.reason) {
				t.Fatalf("FindHeader = %d, %v, %q, %v; want %d, %v, reason containing %q", idx, m, reason, ok, tt.idx, tt.ok, tt.reason)
			}
			if ok && !maps.Equal(m, tt.wantMap) {
				t.Errorf("mapping %v, want %v", m, tt.wantMap)
			}
			if ok && reason != "" {
				t.Errorf("reason %q with ok", reason)
			}
		})
	}
}

// TestFindHeaderFixtures runs the real import fixtures through the reader and
// FindHeader: header row (by its Line) and aliases mapped.
func TestFindHeaderFixtures(t *testing.T) {
	tests := []struct {
		file     string
		kind     Kind
		line     int // Line() of the header row
		wantKeys []string
	}{
		{"hukou_gb18030.csv", Hukou, 2, []string{KeyID, KeyName, KeySex, KeyEthnic, KeyBirth, KeyHousehold,
			KeyRelation, KeyAddress, KeyHukouRegion, KeyPopStatus}},
		{"enroll_utf8bom.csv", Enrollment, 1, []string{KeyID, KeyName, KeyScheme, KeyInsuredRegion,
			KeyEnrollStatus, KeyPayStatus, KeyEnrollDate, KeyEmployer}},
		{"resident_utf8.tsv", Resident, 1, []string{KeyID, KeyName, KeySex, KeyBirth, KeyResAddress,
			KeyResRegion, KeyHukouRegion}},
		{"enroll_title.xlsx", Enrollment, 3, []string{KeyID, KeyName, KeyScheme, KeyInsuredRegion,
			KeyEnrollStatus, KeyPayStatus, KeyEnrollDate, KeyEmployer}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r, _, err := sheet.Open(filepath.Join("..", "..", "testdata", "import", tt.file), sheet.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var head [][]string
			var lines []int
			for len(head) < HeaderScanRows && r.Next() {
				head = append(head, slices.Clone(r.Values()))
				lines = append(lines, r.Line())
			}
			idx, m, reason, ok := FindHeader(head, tt.kind)
			if !ok {
				t.Fatalf("no header: %s", reason)
			}
			if lines[idx] != tt.line {
				t.Errorf("header at line %d, want %d", lines[idx], tt.line)
			}
			got := slices.Sorted(maps.Keys(m))
			if want := slices.Sorted(slices.Values(tt.wantKeys)); !slices.Equal(got, want) {
				t.Errorf("mapped %v, want %v", got, want)
			}
			checkFirstRecord(t, head[idx+1], m, tt.kind)
		})
	}
}

// checkFirstRecord parses the first data row with the mapping, as the import
// will, so the fixtures also prove the value parsers fit real cells.
func checkFirstRecord(t *testing.T, row []string, m Mapping, k Kind) {
	t.Helper()
	cell := func(key string) string {
		if i, ok := m[key]; ok && i < len(row) {
			return row[i]
		}
		return ""
	}
	for _, f := range Fields(k) {
		v := cell(f.Key)
		var ok bool
		switch f.Key {
		case KeyBirth, KeyEnrollDate, KeyDeathDate:
			_, ok = ParseDate(v)
		case KeyScheme:
			_, ok = ParseScheme(v)
		case KeyHukouRegion, KeyResRegion, KeyInsuredRegion:
			_, ok = ParseRegion(v)
		case KeySex:
			_, ok = ParseSex(v)
		case KeyPopStatus:
			_, ok = ParsePopStatus(v)
		case KeyEnrollStatus:
			_, ok = ParseEnrollStatus(v)
		case KeyPayStatus:
			_, ok = ParsePayStatus(v)
		default:
			ok = v != ""
		}
		if !ok {
			t.Errorf("%s (%s) = %q does not parse", f.Name, f.Key, v)
		}
	}
}

func TestFields(t *testing.T) {
	for _, k := range Kinds() {
		t.Run(string(k), func(t *testing.T) {
			fs := Fields(k)
			seen := map[string]bool{}
			for _, f := range fs {
				if seen[f.Key] {
					t.Errorf("duplicate key %s", f.Key)
				}
				seen[f.Key] = true
				// Every name and alias must map back to its own field.
				for _, a := range append([]string{f.Name}, f.Aliases...) {
					if m := MatchHeader([]string{a}, k); m[f.Key] != 0 || len(m) != 1 {
						t.Errorf("alias %q of %s maps to %v", a, f.Key, m)
					}
				}
			}
			if !seen[KeyID] || !seen[KeyName] {
				t.Errorf("kind lacks id or name")
			}
		})
	}
}
