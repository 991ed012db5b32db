package idcard

import (
	"slices"
	"testing"
	"time"
)

// today is fixed so that the future-date cases do not drift.
var today = time.Date(2025, 6, 15, 12, 0, 0, 0, beijing)

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		raw   string
		norm  string
		dmg   Damage
		was15 bool
	}{
		{"valid", "440981199001011239", "440981199001011239", OK, false},
		{"valid X check", "11010519491231002X", "11010519491231002X", OK, false},
		{"lower-case x", "11010519491231002x", "11010519491231002X", OK, false},
		{"full-width digits and x", "１１０１０５１９４９１２３１００２ｘ", "11010519491231002X", OK, false},
		{"full-width X", "１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X", OK, false},
		{"spaces inside", " 110105 19491231 002X ", "11010519491231002X", OK, false},
		{"tab NBSP ideographic space", "\t110105\u00a019491231\u3000002X", "11010519491231002X", OK, false},
		{"BOM and zero-width space", "\uFEFF110105\u200B19491231002X", "11010519491231002X", OK, false},
		{"leading apostrophe", "'11010519491231002X", "11010519491231002X", OK, false},
		{"surrounding quotes", `"11010519491231002X"`, "11010519491231002X", OK, false},
		{"curly quotes", "“11010519491231002X”", "11010519491231002X", OK, false},
		{"CSV formula text", `="11010519491231002X"`, "11010519491231002X", OK, false},
		{"15-digit old form", "110105491231002", "11010519491231002X", OK, true},
		{"15-digit in scientific notation", "1.10105491231002E+14", "11010519491231002X", OK, true},
		{"blank", "", "", Blank, false},
		{"only spaces", " \u3000\t ", "", Blank, false},
		{"only quotes", `''`, "", Blank, false},
		{"too short", "1101051949123100", "1101051949123100", BadLength, false},
		{"too long with X inside", "11010519491231002X1", "11010519491231002X1", BadChar, false},
		{"19 digits", "1101051949123100211", "1101051949123100211", BadLength, false},
		{"letters", "11010519491231O02X", "11010519491231O02X", BadChar, false},
		{"X not last", "1101051949123100X2", "1101051949123100X2", BadChar, false},
		{"chinese placeholder", "无", "无", BadChar, false},
		{"Feb 30", "11010519900230001X", "11010519900230001X", BadDate, false},
		{"future date", "11010520300101001X", "11010520300101001X", BadDate, false},
		{"before 1890", "110105188912310010", "110105188912310010", BadDate, false},
		{"old form with bad date", "110105491331002", "110105194913310021", BadDate, true},
		{"one wrong digit", "440881199001011239", "440881199001011239", BadCheck, false},
		{"neighbours swapped", "440981199001012139", "440981199001012139", BadCheck, false},
		{"swap in date", "440981199010011239", "440981199010011239", BadCheck, false},
		{"scientific E+17", "4.40981199001011E+17", "440981199001011000", Mangled, false},
		{"scientific e17", "4.40981199001011e17", "440981199001011000", Mangled, false},
		{"scientific full-width", "４．４０９８１１９９００１０１１Ｅ＋１７", "440981199001011000", Mangled, false},
		{"scientific 16 digits", "4.409811990010116e+17", "440981199001011600", Mangled, false},
		{"scientific passing check by chance", "4.40981199001106E+17", "440981199001106000", Mangled, false},
		{"scientific exact 18 digits", "4.40981199001011239E+17", "440981199001011239", OK, false},
		{"scientific few digits", "4.40981E+17", "440981000000000000", Mangled, false},
		{"scientific 17 digits", "4.4098119900101E+16", "44098119900101000", BadLength, false},
		{"scientific negative exponent", "4.4E-17", "4.4E-17", BadChar, false},
		{"scientific huge exponent", "4E+999", "4E+999", BadChar, false},
		{"000-padded digits", "440981199001011000", "440981199001011000", Mangled, false},
		{"00-padded digits", "440981199001011600", "440981199001011600", Mangled, false},
		{"float with .0", "440981199001011000.0", "440981199001011000", Mangled, false},
		{"valid with .0", "440981199001011239.0", "440981199001011239", OK, false},
		{"decimal not integer", "440981199001011239.5", "440981199001011239.5", BadChar, false},

		// Issue 9: full-digit mangled numbers, short floats, region codes, lengths, dashes.
		// The example passes its check character by chance: only the
		// linker, knowing the person 440981195410113780, can call it mangled.
		{"mangled written out in full, check passing", "440981195410113000", "440981195410113000", OK, false},
		{"float of 15 digits shown short", "4.4098190101E+14", "440981199010100006", Mangled, true},
		{"unknown province 99 (not a 9x permit)", "990426199112010074", "990426199112010074", BadRegion, false},
		{"province 00", "000000199001010018", "000000199001010018", BadRegion, false},
		{"province 16", "160105194912310029", "160105194912310029", BadRegion, false},
		{"Hong Kong 81", "810000199001011239", "810000199001011239", BadCheck, false},
		{"Taiwan residence permit 83", "830000199001010012", "830000199001010012", OK, false},
		{"foreigner permanent residence 9 + province", "911000199001010013", "911000199001010013", OK, false},
		{"17 characters ending in X", "1101051949123102X", "1101051949123102X", BadLength, false},
		{"16 characters ending in x", "110105194912302x", "110105194912302X", BadLength, false},
		{"hyphenated", "110105-19491231-002X", "11010519491231002X", OK, false},
		{"full-width hyphens", "110105－19491231－002X", "11010519491231002X", OK, false},
		{"rounded by a spreadsheet (issue 15)", "4.40981199708131E+17", "440981199708131000", Mangled, false},
		{"LibreOffice's three-digit exponent", "4.40981199708131E+017", "440981199708131000", Mangled, false},
		{"dash not between digits", "-11010519491231002X", "-11010519491231002X", BadChar, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseAt(tt.raw, today)
			want := Number{Norm: tt.norm, Damage: tt.dmg, Was15: tt.was15}
			if got != want {
				t.Errorf("ParseAt(%q) = %+v, want %+v", tt.raw, got, want)
			}
			if n := Normalize(tt.raw); n != got.Norm {
				t.Errorf("Normalize(%q) = %q, Parse gave Norm %q", tt.raw, n, got.Norm)
			}
			if got.Valid() != (tt.dmg == OK) {
				t.Errorf("Valid() = %v for damage %v", got.Valid(), got.Damage)
			}
		})
	}
}

func TestParseUsesBeijingToday(t *testing.T) {
	// 2025-06-15 00:30 in Beijing is still 2025-06-14 in UTC.
	utc := time.Date(2025, 6, 14, 16, 30, 0, 0, time.UTC)
	if d := ParseAt("110105202506150013", utc).Damage; d != BadDate {
		t.Fatalf("ParseAt with a UTC day before the birth: %v, want BadDate", d)
	}
	if d := ParseAt("110105202506150013", utc.In(beijing)).Damage; d != OK {
		t.Fatalf("ParseAt on the birth day in Beijing: %v, want OK", d)
	}
	if !ValidAsGiven("11010519491231002X") || ValidAsGiven("11010519491231002x") || ValidAsGiven("11010520300101001X") {
		t.Fatal("ValidAsGiven is not strict")
	}
}

func TestParseWithClock(t *testing.T) {
	now := time.Now().In(beijing)
	withDate := func(d time.Time) string {
		first17 := "110105" + d.Format("20060102") + "001"
		return first17 + string(CheckChar(first17))
	}
	tests := []struct {
		name string
		id   string
		want Damage
	}{
		{"long ago", "11010519491231002X", OK},
		{"today", withDate(now), OK},
		{"in two days", withDate(now.AddDate(0, 0, 2)), BadDate}, // not tomorrow: the test may straddle midnight
		{"next year", withDate(now.AddDate(1, 0, 0)), BadDate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Parse(tt.id).Damage; got != tt.want {
				t.Errorf("Parse(%q) = %v, want %v", tt.id, got, tt.want)
			}
			if ValidAsGiven(tt.id) != (tt.want == OK) {
				t.Errorf("ValidAsGiven(%q) disagrees with Parse", tt.id)
			}
		})
	}
}

func TestDamage(t *testing.T) {
	for d := OK; d <= BadRegion; d++ {
		t.Run(d.Code(), func(t *testing.T) {
			got, ok := ParseDamageCode(d.Code())
			if !ok || got != d {
				t.Errorf("ParseDamageCode(%q) = %v, %v", d.Code(), got, ok)
			}
			if d.String() == "" || d.String() == Damage(200).String() {
				t.Errorf("missing reason for %d", d)
			}
		})
	}
	if _, ok := ParseDamageCode("unknown"); ok {
		t.Error("ParseDamageCode accepted an unknown code")
	}
	if OK.String() != "有效" || Mangled.String() != "被表格软件科学计数法损坏" {
		t.Error("reason strings changed")
	}
}

func TestCheckChar(t *testing.T) {
	tests := []struct {
		name, in string
		want     byte
	}{
		{"X", "11010519491231002", 'X'},
		{"digit", "44098119900101123", '9'},
		{"too short", "1101051949123100", 0},
		{"too long", "110105194912310021", 0},
		{"letter", "1101051949123100A", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CheckChar(tt.in); got != tt.want {
				t.Errorf("CheckChar(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMask(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"18", "440981199001011234", "440981********1234"},
		{"15", "110105491231002", "110105*****1002"},
		{"short", "12345", "***45"},
		{"two", "12", "**"},
		{"empty", "", ""},
		{"runes", "身份证号码", "***号码"},
		{"full-width", "４４０９８１１９９００１０１１２３４", "440981********1234"},
		{"spaced", "440981 19900101 1234", "440981********1234"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Mask(tt.in); got != tt.want {
				t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestAgeOn(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 9, 0, 0, 0, beijing) }
	tests := []struct {
		name string
		id   string
		on   time.Time
		want int
		ok   bool
	}{
		{"day before 16th birthday", "110105200806150016", day(2024, 6, 14), 15, true},
		{"on 16th birthday", "110105200806150016", day(2024, 6, 15), 16, true},
		{"day of birth", "110105200806150016", day(2008, 6, 15), 0, true},
		{"before birth", "110105200806150016", day(2008, 6, 14), 0, false},
		{"29 Feb on 28 Feb non-leap", "110105200002290021", day(2001, 2, 28), 0, true},
		{"29 Feb on 1 Mar non-leap", "110105200002290021", day(2001, 3, 1), 1, true},
		{"29 Feb on 29 Feb leap", "110105200002290021", day(2004, 2, 29), 4, true},
		{"29 Feb day before leap birthday", "110105200002290021", day(2004, 2, 28), 3, true},
		{"bad date", "11010519900230001X", day(2024, 1, 1), 0, false},
		{"short", "110105", day(2024, 1, 1), 0, false},
		{"15-digit form", "110105491231002", day(2024, 12, 31), 75, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := AgeOn(tt.id, tt.on)
			if got != tt.want || ok != tt.ok {
				t.Errorf("AgeOn(%q, %v) = %d, %v; want %d, %v", tt.id, tt.on, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestBirthAndMale(t *testing.T) {
	tests := []struct {
		name  string
		id    string
		birth time.Time
		ok    bool
		male  bool
	}{
		{"male", "110105200806150016", time.Date(2008, 6, 15, 0, 0, 0, 0, time.UTC), true, true},
		{"female", "11010519491231002X", time.Date(1949, 12, 31, 0, 0, 0, 0, time.UTC), true, false},
		{"bad date", "11010519900230001X", time.Time{}, false, true},
		{"too short", "11010519491231", time.Time{}, false, false},
		{"15-digit male", "110105491231003", time.Date(1949, 12, 31, 0, 0, 0, 0, time.UTC), true, true},
		{"15-digit female", "110105491231002", time.Date(1949, 12, 31, 0, 0, 0, 0, time.UTC), true, false},
		{"mangled: padding is no sex", "440981199001011000", time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, ok := Birth(tt.id)
			if !b.Equal(tt.birth) || ok != tt.ok {
				t.Errorf("Birth(%q) = %v, %v", tt.id, b, ok)
			}
			if m := Male(tt.id); m != tt.male {
				t.Errorf("Male(%q) = %v", tt.id, m)
			}
		})
	}
	if _, ok := Sex("440981199001011000"); ok {
		t.Error("Sex read the zero padding of a mangled number")
	}
	if male, ok := Sex("110105491231003"); !male || !ok {
		t.Errorf("Sex of a 15-digit male = %v, %v", male, ok)
	}
}

func TestKnownProvince(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"440981", true}, {"110105", true}, {"650102", true}, {"710000", true},
		{"810000", true}, {"820000", true}, {"830000", true}, {"911000", true}, {"944000", true},
		{"990426", false}, {"000000", false}, {"160105", false}, {"900000", false}, {"72", false}, {"", false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			if got := KnownProvince(tt.id); got != tt.want {
				t.Errorf("KnownProvince(%q) = %v, want %v", tt.id, got, tt.want)
			}
		})
	}
}

func TestPrefix15(t *testing.T) {
	tests := []struct{ name, raw, want string }{
		{"valid", "440981199001011239", "440981199001011"},
		{"mangled", "4.40981199001011E+17", "440981199001011"},
		{"mangled 000", "440981199001011000", "440981199001011"},
		{"mangled few digits", "4.40981E+17", ""},
		{"bad check", "440881199001011239", ""},
		{"blank", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Prefix15(ParseAt(tt.raw, today)); got != tt.want {
				t.Errorf("Prefix15(%q) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
}

func TestNeighbours(t *testing.T) {
	const truth = "440981199001011239"
	tests := []struct{ name, id string }{
		{"one wrong digit", "440881199001011239"},
		{"wrong check char", "44098119900101123X"},
		{"swapped sequence", "440981199001012139"},
		{"swapped date", "440981199010011239"},
		{"swapped with check", "440981199001011293"},
		{"letter for digit", "44098119900101I239"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := neighbours(tt.id, dateKey(today))
			if !slices.Contains(got, truth) {
				t.Errorf("neighbours(%q) = %v, missing %s", tt.id, got, truth)
			}
			for _, n := range got {
				if n == tt.id || classify18(n, dateKey(today)) != OK {
					t.Errorf("neighbours(%q) returned %q", tt.id, n)
				}
			}
			if again := neighbours(tt.id, dateKey(today)); !slices.Equal(got, again) {
				t.Errorf("order not deterministic: %v then %v", got, again)
			}
		})
	}
	if got := Neighbours("11010519491231002x"); slices.Contains(got, "11010519491231002X") {
		t.Errorf("Neighbours of a lower-case x ID returned the ID itself")
	}
	if got := Neighbours("123"); got != nil {
		t.Errorf("Neighbours of a short string = %v", got)
	}
}

func BenchmarkParse(b *testing.B) {
	cases := []struct{ name, raw string }{
		{"clean", "440981199001011239"},
		{"cleanX", "11010519491231002X"},
		{"lowerx", "11010519491231002x"},
		{"old15", "110105491231002"},
		{"messy", " '１１０１０５ 19491231 002ｘ "},
		{"scientific", "4.40981199001011E+17"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Parse(c.raw)
			}
		})
	}
}
