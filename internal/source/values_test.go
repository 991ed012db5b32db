package source

import (
	"testing"
	"time"
)

// day builds the expected ParseDate result.
func day(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want time.Time
		ok   bool
	}{
		{"iso", "2017-06-30", day(2017, 6, 30), true},
		{"slash short", "2017/6/30", day(2017, 6, 30), true},
		{"dots", "2017.6.30", day(2017, 6, 30), true},
		{"compact", "20170630", day(2017, 6, 30), true},
		{"chinese", "2017年6月30日", day(2017, 6, 30), true},
		{"chinese without 日", "2017年06月30", day(2017, 6, 30), true},
		{"with time", "2017-06-30 08:15:00", day(2017, 6, 30), true},
		{"with short time", "2017/6/30 0:00", day(2017, 6, 30), true},
		{"iso T and zone", "2017-06-30T08:15:00+08:00", day(2017, 6, 30), true},
		{"compact with time", "20170630 00:00:00", day(2017, 6, 30), true},
		{"chinese with time", "2017年6月30日 10:00", day(2017, 6, 30), true},
		{"padded", "  2017-06-30\u3000", day(2017, 6, 30), true},
		{"serial", "42916", day(2017, 6, 30), true},
		{"serial .0", "42916.0", day(2017, 6, 30), true},
		{"serial with time", "43000.5", day(2017, 9, 22), true},
		{"serial 1", "1", day(1900, 1, 1), true},
		{"serial 59", "59", day(1900, 2, 28), true},
		{"serial 60 is Excel's fake 1900-02-29", "60", time.Time{}, false},
		{"serial 61", "61", day(1900, 3, 1), true},
		{"serial max", "80000", day(2119, 1, 11), true},
		{"serial too large", "80001", time.Time{}, false},
		{"serial zero", "0", time.Time{}, false},
		{"leap day", "2020-02-29", day(2020, 2, 29), true},
		{"no leap day", "2019-02-29", time.Time{}, false},
		{"month 13", "2017-13-01", time.Time{}, false},
		{"day 32", "2017-01-32", time.Time{}, false},
		{"day 0", "20170100", time.Time{}, false},
		{"mixed separators", "2017-06/30", time.Time{}, false},
		{"year too small", "1700-01-01", time.Time{}, false},
		{"bare year", "2017", time.Time{}, false},
		{"year and month", "2017.06", time.Time{}, false},
		{"three-digit month", "2017-006-30", time.Time{}, false},
		{"trailing junk", "2017-06-30abc", time.Time{}, false},
		{"six digits", "201706", time.Time{}, false},
		{"empty", "", time.Time{}, false},
		{"text", "不详", time.Time{}, false},
		{"negative", "-42916", time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseDate(tt.in)
			if ok != tt.ok || !got.Equal(tt.want) {
				t.Errorf("ParseDate(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestParseScheme(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantKey string
		ok      bool
	}{
		{"code", "110", "企业职工养老", true},
		{"key", "机关事业养老", "机关事业养老", true},
		{"official name", "城乡居民基本养老保险", "城乡居民养老", true},
		{"alias", "城乡居保", "城乡居民养老", true},
		{"old name", "城镇职工基本医疗保险", "职工医疗", true},
		{"medical code", "390", "居民医疗", true},
		{"ncms name", "新型农村合作医疗", "新农合", true},
		{"ncms key", "新农合", "新农合", true},
		{"ncms internal code", "NCMS", "新农合", true},
		{"unemployment", "失业保险", "失业", true},
		{"injury code", "410", "工伤", true},
		{"maternity", "生育", "生育", true},
		{"padded", " 310 ", "职工医疗", true},
		{"code then name", "110-企业职工基本养老保险", "企业职工养老", true},
		{"code glued to name", "310职工基本医疗保险", "职工医疗", true},
		{"name then code in full-width brackets", "职工医保（310）", "职工医疗", true},
		{"full-width digits", "３１０", "职工医疗", true},
		{"inner space", "职工 医保", "职工医疗", true},
		{"unknown code", "999", "", false},
		{"unknown name", "商业保险", "", false},
		{"empty", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseScheme(tt.in)
			if ok != tt.ok || got.Key != tt.wantKey {
				t.Errorf("ParseScheme(%q) = %+v, %v; want key %q, %v", tt.in, got, ok, tt.wantKey, tt.ok)
			}
		})
	}
}

func TestSchemes(t *testing.T) {
	groups := map[string]string{
		"110": GroupPension, "120": GroupPension, "170": GroupPension,
		"310": GroupMedical, "390": GroupMedical, "NCMS": GroupMedical,
		"210": GroupOther, "410": GroupOther, "510": GroupOther,
	}
	all := Schemes()
	if len(all) != len(groups) {
		t.Fatalf("%d schemes, want %d", len(all), len(groups))
	}
	for _, s := range all {
		t.Run(s.Key, func(t *testing.T) {
			if groups[s.Code] != s.Group {
				t.Errorf("%+v: group %q, want %q", s, s.Group, groups[s.Code])
			}
			for _, in := range []string{s.Key, s.Code, s.Name} {
				if got, ok := ParseScheme(in); !ok || got != s {
					t.Errorf("ParseScheme(%q) = %+v, %v", in, got, ok)
				}
			}
		})
	}
}

func TestParseEnrollStatus(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int
		ok   bool
	}{
		{"code 1", "1", 1, true},
		{"name active", "正常参保", 1, true},
		{"short active", "正常", 1, true},
		{"bare 参保", "参保", 1, true},
		{"code 2", "2", 2, true},
		{"name suspended", "暂停参保", 2, true},
		{"short suspended", "暂停", 2, true},
		{"code 4", "4", 4, true},
		{"name terminated", "终止参保", 4, true},
		{"short terminated", "终止", 4, true},
		{"padded", " 1 ", 1, true},
		{"code 3 is a pay status", "3", 0, false},
		{"never enrolled", "未参保", 0, false},
		{"empty", "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseEnrollStatus(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ParseEnrollStatus(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestParsePayStatus(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int
		ok   bool
	}{
		{"code 1", "1", 1, true},
		{"name paying", "参保缴费", 1, true},
		{"normal paying", "正常缴费", 1, true},
		{"bare 缴费", "缴费", 1, true},
		{"code 2", "2", 2, true},
		{"name suspended", "暂停缴费", 2, true},
		{"interrupted", "中断", 2, true},
		{"short suspended", "暂停", 2, true},
		{"code 3", "3", 3, true},
		{"name terminated", "终止缴费", 3, true},
		{"short terminated", "终止", 3, true},
		{"code 4 is an enroll status", "4", 0, false},
		{"empty", "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParsePayStatus(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ParsePayStatus(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestEnrollState(t *testing.T) {
	tests := []struct {
		name                    string
		enroll, pay             int
		active, wantInterrupted bool
	}{
		{"both normal", 1, 1, true, false},
		{"enrollment suspended", 2, 1, true, true},
		{"payment suspended", 1, 2, true, true},
		{"enrollment terminated", 4, 1, false, false},
		{"payment terminated", 1, 3, false, false},
		{"terminated beats suspended", 2, 3, false, false},
		{"statuses not given", 0, 0, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, i := EnrollState(tt.enroll, tt.pay)
			if a != tt.active || i != tt.wantInterrupted {
				t.Errorf("EnrollState(%d, %d) = %v, %v; want %v, %v", tt.enroll, tt.pay, a, i, tt.active, tt.wantInterrupted)
			}
		})
	}
}

func TestParseSex(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"男", "男", "男", true},
		{"女", "女", "女", true},
		{"code 1", "1", "男", true},
		{"code 2", "2", "女", true},
		{"男性", "男性", "男", true},
		{"padded", " 女 ", "女", true},
		{"unknown 0", "0", "", false},
		{"unstated 9", "9", "", false},
		{"empty", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseSex(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ParseSex(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestParsePopStatus(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"normal", "正常", "正常", true},
		{"managed counts as normal", "管理中", "正常", true},
		{"dead", "死亡", "死亡", true},
		{"already dead", "已死亡", "死亡", true},
		{"cancelled", "注销", "注销", true},
		{"moved out", "迁出", "迁出", true},
		{"padded", " 迁出 ", "迁出", true},
		{"unknown", "失踪", "", false},
		{"empty", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParsePopStatus(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ParsePopStatus(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestParseRegion(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"county", "440981", "440981000000", true},
		{"township", "440981101", "440981101000", true},
		{"village", "440981101201", "440981101201", true},
		{"numeric cell", "440981.0", "440981000000", true},
		{"padded", " 440981 ", "440981000000", true},
		{"seven digits", "4409811", "", false},
		{"city level 4 digits", "4409", "", false},
		{"letters", "44098A", "", false},
		{"leading zero", "040981", "", false},
		{"fraction", "440981.5", "", false},
		{"empty", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseRegion(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ParseRegion(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestParseKind(t *testing.T) {
	tests := []struct {
		name, in string
		want     Kind
		ok       bool
	}{
		{"full", "户籍人口", Hukou, true},
		{"short", "参保", Enrollment, true},
		{"ascii", "student", Student, true},
		{"padded", " 死亡信息 ", Death, true},
		{"unknown", "低保", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseKind(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ParseKind(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
	for _, k := range Kinds() {
		if got, ok := ParseKind(string(k)); !ok || got != k {
			t.Errorf("ParseKind(%q) does not round-trip", k)
		}
	}
}
